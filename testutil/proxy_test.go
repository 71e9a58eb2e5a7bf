package testutil

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// proxied returns a proxy in front of a miniredis and a client of it whose every command gives up after 300ms.
func proxied(t *testing.T) (*Proxy, redis.UniversalClient) {
	r := StartMiniredis(t)
	require.NoError(t, r.Mini.Set("k", "v"))
	p := StartProxy(t, r.Addr)
	c := newClient(&redis.Options{Addr: p.Addr, ContextTimeoutEnabled: true, MaxRetries: -1, DialerRetries: 1,
		DialTimeout: 300 * time.Millisecond, ReadTimeout: 300 * time.Millisecond})
	t.Cleanup(func() { _ = c.Close() })
	return p, c
}

func get(c redis.UniversalClient) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	return c.Get(ctx, "k").Result()
}

func TestProxy_PassesThenFailsThenHeals(t *testing.T) {
	for _, tc := range []struct {
		name string
		fail func(*Proxy)
	}{{"refuse", (*Proxy).Refuse}, {"blackhole", (*Proxy).Blackhole}} {
		t.Run(tc.name, func(t *testing.T) {
			p, c := proxied(t)
			v, err := get(c)
			require.NoError(t, err, "through a healthy proxy")
			assert.Equal(t, "v", v)
			tc.fail(p)
			_, err = get(c)
			assert.Error(t, err, "GET through a proxy that was told to %s succeeded", tc.name)
			p.Heal(t)
			v, err = get(c)
			require.NoError(t, err, "after Heal")
			assert.Equal(t, "v", v)
		})
	}
}

func TestProxy_DelayAndReset(t *testing.T) {
	p, c := proxied(t)
	_, err := get(c)
	require.NoError(t, err)
	p.Delay(100 * time.Millisecond)
	start := time.Now()
	_, err = get(c)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond, "a reply came sooner than the delay")
	p.Heal(t)

	raw, err := net.Dial("tcp", p.Addr)
	require.NoError(t, err)
	defer raw.Close()
	_, err = raw.Write([]byte("*1\r\n$4\r\nPING\r\n"))
	require.NoError(t, err)
	reply := make([]byte, 7)
	_, err = io.ReadFull(raw, reply)
	require.NoError(t, err, "PING through the proxy")
	p.Reset()
	require.NoError(t, raw.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err = raw.Read(reply)
	assert.ErrorIs(t, err, io.EOF, "a connection the proxy reset should end at once, not hang")
	_, err = get(c) // new connections work
	assert.NoError(t, err, "GET after a reset")
}
