package main

import (
	"context"
	"fmt"
	"net"
	"sync"

	"day45-thundering-herd/internal/faultproxy"
)

// faultNet puts a faultproxy.Proxy in front of every Redis address a client dials, created on the first dial: one
// server's, or every node of a Redis Cluster that the client discovers (CLUSTER SLOTS names the nodes, and the
// client's Dialer gets their real addresses). freeze and heal act on all of them at once, and on those created
// later: a proxy born during a freeze is frozen.
type faultNet struct {
	mu      sync.Mutex
	proxies map[string]*faultproxy.Proxy // upstream -> its proxy; nil once closed
	frozen  bool
}

func newFaultNet() *faultNet { return &faultNet{proxies: map[string]*faultproxy.Proxy{}} }

// dial is a go-redis Dialer: it connects to the proxy of addr instead of addr.
func (n *faultNet) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	p, err := n.proxyOf(addr)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	return d.DialContext(ctx, network, p.Addr)
}

func (n *faultNet) proxyOf(upstream string) (*faultproxy.Proxy, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proxies == nil {
		return nil, fmt.Errorf("fault proxy: closed")
	}
	if p := n.proxies[upstream]; p != nil {
		return p, nil
	}
	p, err := faultproxy.Start(upstream)
	if err != nil {
		return nil, err
	}
	if n.frozen {
		p.Blackhole()
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
			p.Blackhole()
		} else {
			_ = p.Heal() // fails only when it must listen again after Refuse, which the simulator never calls
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
		p.Close()
	}
}
