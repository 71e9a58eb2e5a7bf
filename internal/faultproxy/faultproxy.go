// Package faultproxy is a TCP proxy between Redis clients and their server that injects the failures a cache meets
// in production: a server that refuses connections (down), one that accepts and never answers (frozen, or a
// partition that drops packets), added latency, and connections reset mid-command. The tests (testutil.Proxy) and
// the simulator (cmd/herd's redis-outage scenario) share it.
package faultproxy

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Proxy starts passing traffic through; its methods inject a failure, Heal ends any. Close stops it and waits for
// every connection and goroutine it started.
type Proxy struct {
	Addr     string
	upstream string

	mu        sync.Mutex
	ln        net.Listener // nil while refusing
	blackhole bool
	latency   time.Duration
	conns     map[net.Conn]struct{} // nil once closed
	wg        sync.WaitGroup
	sent      atomic.Int64 // reads from clients: about one per command, or per pipeline
}

// Start returns a proxy on a loopback port in front of upstream (host:port).
func Start(upstream string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen: %w", err)
	}
	p := &Proxy{Addr: ln.Addr().String(), upstream: upstream, conns: make(map[net.Conn]struct{})}
	p.serve(ln)
	return p, nil
}

// Sent reports how many times a client has sent the server something through the proxy: about one per command, or
// per pipeline, whether or not the server got it.
func (p *Proxy) Sent() int64 { return p.sent.Load() }

// Refuse takes the server down: open connections are closed and new ones refused.
func (p *Proxy) Refuse() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	p.dropAll()
}

// Blackhole freezes the server: open connections stop forwarding, and new ones are accepted and never answered.
func (p *Proxy) Blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.blackhole = true
}

// Delay adds d to every reply.
func (p *Proxy) Delay(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.latency = d
}

// Reset closes every open connection at once, as a server restart or a middlebox does; new ones work.
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dropAll()
}

// Heal ends every failure: the proxy listens again on the same address, passes traffic without delay, and closes
// the connections that a freeze left with lost requests or replies.
func (p *Proxy) Heal() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.blackhole, p.latency = false, 0
	p.dropAll()
	if p.ln == nil && p.conns != nil {
		ln, err := net.Listen("tcp", p.Addr)
		if err != nil {
			return fmt.Errorf("faultproxy: listening again on %s: %w", p.Addr, err)
		}
		p.serve(ln)
	}
	return nil
}

// serve accepts on ln until it is closed; mu is held or p is not shared yet.
func (p *Proxy) serve(ln net.Listener) {
	p.ln = ln
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed by Refuse or close
			}
			p.handle(c)
		}
	}()
}

func (p *Proxy) handle(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns == nil {
		_ = c.Close()
		return
	}
	p.conns[c] = struct{}{}
	p.wg.Add(1)
	go p.forward(c)
}

// forward pipes c to a new upstream connection both ways until either side closes.
func (p *Proxy) forward(c net.Conn) {
	defer p.wg.Done()
	defer p.forget(c)
	up, err := net.Dial("tcp", p.upstream)
	if err != nil {
		return
	}
	if !p.track(up) {
		_ = up.Close()
		return
	}
	defer p.forget(up)
	done := make(chan struct{})
	go func() {
		p.pipe(up, c, false)
		close(done)
	}()
	p.pipe(c, up, true)
	<-done
}

// pipe copies src to dst until either fails, dropping what it reads while frozen and delaying replies.
func (p *Proxy) pipe(dst, src net.Conn, reply bool) {
	defer func() {
		_ = dst.Close()
		_ = src.Close()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !reply {
			p.sent.Add(1)
		}
		if n > 0 {
			hole, delay := p.state()
			if reply && delay > 0 {
				time.Sleep(delay) // the network's latency, not a test waiting for something
			}
			if !hole {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *Proxy) state() (blackhole bool, latency time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.blackhole, p.latency
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns == nil {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) forget(c net.Conn) {
	_ = c.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
}

// dropAll closes every connection; mu is held.
func (p *Proxy) dropAll() {
	for c := range p.conns {
		_ = c.Close()
	}
}

// Close stops the proxy and every connection, and waits for its goroutines.
func (p *Proxy) Close() {
	p.mu.Lock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	p.dropAll()
	p.conns = nil
	p.mu.Unlock()
	p.wg.Wait()
}
