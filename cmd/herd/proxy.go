package main

import (
	"context"
	"fmt"
	"net"
	"sync"
)

// faultProxy is a TCP proxy between the processes' Redis clients and the server that can freeze Redis: while
// blackholed it accepts connections and reads what the clients send, and never forwards a byte either way, as a
// hung server or a partition that drops packets does. heal ends the freeze and closes the connections it caught,
// whose requests or replies were lost. (testutil.Proxy does the same for tests, but its API takes a testing.TB.)
type faultProxy struct {
	addr     string
	upstream string
	ln       net.Listener

	mu        sync.Mutex
	blackhole bool
	conns     map[net.Conn]struct{} // nil once closed
	wg        sync.WaitGroup
}

// startProxy listens on a loopback port in front of upstream (host:port). Close it.
func startProxy(upstream string) (*faultProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("proxy listen: %w", err)
	}
	p := &faultProxy{addr: ln.Addr().String(), upstream: upstream, ln: ln, conns: map[net.Conn]struct{}{}}
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed
			}
			if !p.track(c) {
				_ = c.Close()
				return
			}
			p.wg.Go(func() { p.forward(c) })
		}
	})
	return p, nil
}

// freeze blackholes Redis: open connections stop forwarding, new ones are accepted and never answered.
func (p *faultProxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.blackhole = true
}

// heal ends the freeze and closes every connection, so that the clients' stuck commands fail at once and their next
// ones go through on new connections.
func (p *faultProxy) heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.blackhole = false
	p.dropAll()
}

// close stops the proxy and every connection, and waits for its goroutines.
func (p *faultProxy) close() {
	_ = p.ln.Close()
	p.mu.Lock()
	p.dropAll()
	p.conns = nil
	p.mu.Unlock()
	p.wg.Wait()
}

// forward pipes c to a new upstream connection both ways until either side closes.
func (p *faultProxy) forward(c net.Conn) {
	defer p.forget(c)
	up, err := net.Dial("tcp", p.upstream)
	if err != nil || !p.track(up) {
		if up != nil {
			_ = up.Close()
		}
		return
	}
	defer p.forget(up)
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.pipe(up, c)
	}()
	p.pipe(c, up)
	<-done
}

// pipe copies src to dst until either fails, dropping what it reads while frozen.
func (p *faultProxy) pipe(dst, src net.Conn) {
	defer func() {
		_ = dst.Close()
		_ = src.Close()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.frozen() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *faultProxy) frozen() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.blackhole
}

func (p *faultProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns == nil {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *faultProxy) forget(c net.Conn) {
	_ = c.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
}

// dropAll closes every connection; mu is held.
func (p *faultProxy) dropAll() {
	for c := range p.conns {
		_ = c.Close()
	}
}

// faultNet puts a faultProxy in front of every Redis address a client dials, created on the first dial: one
// server's, or every node of a Redis Cluster that the client discovers (CLUSTER SLOTS names the nodes, and the
// client's Dialer gets their real addresses). freeze and heal act on all of them at once, and on those created
// later: a proxy born during a freeze is frozen.
type faultNet struct {
	mu      sync.Mutex
	proxies map[string]*faultProxy // upstream -> its proxy; nil once closed
	frozen  bool
}

func newFaultNet() *faultNet { return &faultNet{proxies: map[string]*faultProxy{}} }

// dial is a go-redis Dialer: it connects to the proxy of addr instead of addr.
func (n *faultNet) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	p, err := n.proxyOf(addr)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	return d.DialContext(ctx, network, p.addr)
}

func (n *faultNet) proxyOf(upstream string) (*faultProxy, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proxies == nil {
		return nil, fmt.Errorf("fault proxy: closed")
	}
	if p := n.proxies[upstream]; p != nil {
		return p, nil
	}
	p, err := startProxy(upstream)
	if err != nil {
		return nil, err
	}
	if n.frozen {
		p.freeze()
	}
	n.proxies[upstream] = p
	return p, nil
}

// setFrozen freezes (true) or heals (false) every proxy.
func (n *faultNet) setFrozen(frozen bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.frozen = frozen
	for _, p := range n.proxies {
		if frozen {
			p.freeze()
		} else {
			p.heal()
		}
	}
}

// close stops every proxy; later dials fail.
func (n *faultNet) close() {
	n.mu.Lock()
	ps := n.proxies
	n.proxies = nil
	n.mu.Unlock()
	for _, p := range ps {
		p.close()
	}
}
