package testutil

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"day45-thundering-herd/internal/faultproxy"
)

// Proxy is a faultproxy.Proxy for one test: closed at cleanup, with every connection and goroutine it started.
type Proxy struct{ *faultproxy.Proxy }

// StartProxy returns a proxy on a loopback port in front of upstream (host:port).
func StartProxy(t testing.TB, upstream string) *Proxy {
	t.Helper()
	p, err := faultproxy.Start(upstream)
	if err != nil {
		t.Fatalf("testutil: %v", err)
	}
	t.Cleanup(p.Close)
	return &Proxy{p}
}

// Heal ends every failure (faultproxy.Proxy.Heal); the test fails if the proxy cannot listen again.
func (p *Proxy) Heal(t testing.TB) {
	t.Helper()
	if err := p.Proxy.Heal(); err != nil {
		t.Fatalf("testutil: %v", err)
	}
}

// Client returns a client of the proxy configured like Redis.Client, closed at cleanup.
func (p *Proxy) Client(t testing.TB, db int) redis.UniversalClient {
	t.Helper()
	c := newClient(&redis.Options{
		Addr: p.Addr, DB: db, ContextTimeoutEnabled: true,
		DialTimeout: netTimeout, ReadTimeout: netTimeout, WriteTimeout: netTimeout, DialerRetries: 1,
	})
	t.Cleanup(func() { _ = c.Close() })
	return c
}
