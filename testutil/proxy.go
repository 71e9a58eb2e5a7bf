package testutil

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
)

// Proxy is a TCP proxy between a Redis client and its server that injects the failures a cache meets in
// production. It starts passing traffic through; Blackhole makes it accept and hold connections without ever
// answering (a frozen server, a partition that drops packets), Heal makes it pass traffic again. It is closed at
// cleanup, with every connection and goroutine it started.
type Proxy struct {
	Addr     string
	upstream string
	ln       net.Listener

	mu        sync.Mutex
	blackhole bool
	conns     map[net.Conn]struct{}
	wg        sync.WaitGroup
}

// StartProxy returns a proxy on a loopback port in front of upstream (host:port).
func StartProxy(t testing.TB, upstream string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testutil: proxy listen: %v", err)
	}
	p := &Proxy{Addr: ln.Addr().String(), upstream: upstream, ln: ln, conns: make(map[net.Conn]struct{})}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// Blackhole freezes the server as the client sees it: open connections stop forwarding and new ones are accepted
// and never answered.
func (p *Proxy) Blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.blackhole = true
}

// Heal lets traffic through again. It closes every connection, since the frozen ones lost requests or replies.
func (p *Proxy) Heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.blackhole = false
	p.dropAll()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.mu.Lock()
		if p.conns == nil { // closing
			p.mu.Unlock()
			_ = c.Close()
			return
		}
		p.conns[c] = struct{}{}
		hole := p.blackhole
		p.wg.Add(1)
		p.mu.Unlock()
		if hole {
			go p.swallow(c)
		} else {
			go p.forward(c)
		}
	}
}

// swallow reads and discards what the client sends until the connection is closed.
func (p *Proxy) swallow(c net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(io.Discard, c)
	p.forget(c)
}

// forward pipes c to a new upstream connection both ways until either side closes.
func (p *Proxy) forward(c net.Conn) {
	defer p.wg.Done()
	defer p.forget(c)
	up, err := net.Dial("tcp", p.upstream)
	if err != nil {
		return
	}
	p.mu.Lock()
	if p.conns == nil || p.blackhole {
		p.mu.Unlock()
		_ = up.Close()
		return
	}
	p.conns[up] = struct{}{}
	p.mu.Unlock()
	defer p.forget(up)
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 && !p.frozen() { // frozen: what is read is dropped, as by a partition
				if _, werr := dst.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		_ = dst.Close()
		_ = src.Close()
		done <- struct{}{}
	}
	go pipe(up, c)
	go pipe(c, up)
	<-done
	<-done
}

func (p *Proxy) frozen() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.blackhole
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

func (p *Proxy) close() {
	err := p.ln.Close()
	p.mu.Lock()
	p.dropAll()
	p.conns = nil
	p.mu.Unlock()
	p.wg.Wait()
	if err != nil && !errors.Is(err, net.ErrClosed) {
		panic(err)
	}
}
