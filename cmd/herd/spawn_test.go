package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hotKeyHerd are hotkey options for procs processes on the Redis of addrs: a database slower than the whole burst of
// GETs, with a connection per caller, so that every no-protection caller misses before the first load is back.
func hotKeyHerd(addrs []string, procs int, spawn bool) *options {
	o := smallOptions("hotkey", implNone, implReference)
	o.procs, o.clients = procs, 10
	o.dbLatency, o.dbPool = 300*time.Millisecond, procs*10
	o.redisAddr, o.redisAddrs, o.spawn = strings.Join(addrs, ","), addrs, spawn
	return o
}

// checkHotKeyHerd asserts the promise: the reference makes 1 DB query for every process, no protection
// more than one per process.
func checkHotKeyHerd(t *testing.T, o *options, res map[implKind]implResult) {
	t.Helper()
	want := int64(o.procs * o.clients)
	for _, r := range res {
		checkAccounting(t, r, want)
		assert.Equal(t, statusOK, r.Status, "%s: status %s, problems %q", r.Impl, r.Status, r.Problems)
		assert.Equal(t, want, r.Answered, "%s: %d of %d answered fresh (errors %v)", r.Impl, r.Answered, want, r.ErrorKinds)
	}
	n := res[implReference].DBQueries
	assert.Equal(t, int64(1), n, "reference: %d DB queries from %d processes, want exactly 1", n, o.procs)
	n = res[implNone].DBQueries
	assert.Greater(t, n, int64(o.procs), "no protection: %d DB queries from %d processes, want a herd (more than one per process)", n, o.procs)
}

// TestSpawnHotKey runs hotkey with 3 worker processes, which reach the test's miniredis over loopback as they would
// a real server (-redis), and the fake database in this process over loopback too.
func TestSpawnHotKey(t *testing.T) {
	t.Parallel()
	mr := miniredis.NewMiniRedis()
	require.NoError(t, mr.Start())
	defer mr.Close()
	o := hotKeyHerd([]string{mr.Addr()}, 3, true)
	checkHotKeyHerd(t, o, simulateOne(t, o))
	assertNoKeysLeft(t, o.redisAddrs)
}

// TestSpawnRedisOutage freezes the workers' own proxies: the reference answers everyone, within the deadline.
func TestSpawnRedisOutage(t *testing.T) {
	t.Parallel()
	mr := miniredis.NewMiniRedis()
	require.NoError(t, mr.Start())
	defer mr.Close()
	o := smallOptions("redis-outage", implReference)
	o.procs, o.clients = 2, 10
	o.redisAddr, o.redisAddrs, o.spawn = mr.Addr(), []string{mr.Addr()}, true
	ref := simulateOne(t, o)[implReference]
	checkAccounting(t, ref, int64(redisOutageSteps*o.procs*o.clients))
	msg := []any{"reference: status %s %q, %d of %d answered, errors %v, %d DB calls in the freeze", ref.Status, ref.Problems,
		ref.Answered, ref.Requests, ref.ErrorKinds, ref.DBOutageCalls}
	assert.Equal(t, statusOK, ref.Status, msg...)
	assert.Equal(t, ref.Requests, ref.Answered, msg...)
	assert.Positive(t, ref.DBOutageCalls, msg...)
	assert.LessOrEqual(t, ref.DBOutageCalls, int64(o.procs*redisFrozenSteps), msg...)
	assertNoKeysLeft(t, o.redisAddrs)
}

// TestSpawnRedisCluster runs hotkey on the Redis Cluster of REDIS_CLUSTER_ADDRS, in one process and with -spawn.
func TestSpawnRedisCluster(t *testing.T) {
	t.Parallel()
	env := os.Getenv("REDIS_CLUSTER_ADDRS")
	if env == "" {
		t.Skip("REDIS_CLUSTER_ADDRS is not set")
	}
	addrs, err := parseAddrs(env)
	require.NoError(t, err)
	for _, spawn := range []bool{false, true} {
		t.Run(map[bool]string{false: "in-process", true: "spawn"}[spawn], func(t *testing.T) {
			o := hotKeyHerd(addrs, 4, spawn)
			checkHotKeyHerd(t, o, simulateOne(t, o))
			assertNoKeysLeft(t, addrs)
		})
	}
}

func TestParseAddrs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in      string
		want    []string
		cluster bool
	}{
		{"", nil, false},
		{"127.0.0.1:6379", []string{"127.0.0.1:6379"}, false},
		{"127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003", []string{"127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003"}, true},
		{" [::1]:7001 , localhost:7002", []string{"[::1]:7001", "localhost:7002"}, true},
	} {
		got, err := parseAddrs(tc.in)
		require.NoError(t, err, "parseAddrs(%q)", tc.in)
		assert.Equal(t, tc.want, got, "parseAddrs(%q)", tc.in)
		if len(got) == 0 {
			continue
		}
		// go-redis's UniversalClient rules: one address is a server, several a cluster. Nothing is dialled yet.
		c := newRedisClient(got, nil)
		_, isCluster := c.(*redis.ClusterClient)
		assert.Equal(t, tc.cluster, isCluster, "parseAddrs(%q) = %v: a %T", tc.in, got, c)
		require.NoError(t, c.Close())
	}
	for _, bad := range []string{"localhost", "127.0.0.1:7001,", "127.0.0.1:7001,localhost", "a:1,a:1"} {
		_, err := parseAddrs(bad)
		assert.Error(t, err, "parseAddrs(%q): want an error", bad)
	}
}

func TestSpawnNeedsRedis(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runArgs(t, "-spawn", "-scenario", "hotkey")
	assert.Equal(t, exitUsage, code, "exit code %d, want %d; stderr:\n%s", code, exitUsage, stderr)
	assert.Contains(t, stderr, "-spawn needs a real Redis: give -redis ADDR[,ADDR...]", "stderr:\n%s", stderr)
	assert.Empty(t, stdout)
}

func TestUnreachableClusterFailsTheRun(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runArgs(t, "-redis", "127.0.0.1:1,127.0.0.1:2", "-scenario", "hotkey")
	assert.Equal(t, exitFailed, code, "exit code %d (want 1); stderr %q", code, stderr)
	assert.Contains(t, stderr, "cannot reach Redis at 127.0.0.1:1,127.0.0.1:2", "stderr %q", stderr)
	assert.Empty(t, stdout)
}
