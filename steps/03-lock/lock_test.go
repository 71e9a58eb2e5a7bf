package lock_test

// Step 03: the Redis distributed lock in day45/lock.go (see README.md beside this file).

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"day45-thundering-herd/testutil"
)

const readme = "steps/03-lock/README.md を参照"

func TestAcquire_SetsTheKeyWithATokenAndATTL(t *testing.T) {
	r := testutil.StartMiniredis(t)
	l := testutil.NewDistributedLock(r.Client(t), "lock:product:1", 5*time.Second)
	before := r.Mini.CommandCount()
	require.NoError(t, l.Acquire(t.Context()), "空いているロックへの Acquire が失敗しました — %s", readme)
	require.True(t, r.Mini.Exists("lock:product:1"),
		"Acquire が nil を返しましたが、Redis にキー lock:product:1 がありません。ロックは Redis に置いてください（SET key token NX PX ttl） — %s", readme)
	n := r.Mini.CommandCount() - before
	assert.Equal(t, 1, n, "Acquire が Redis コマンドを %d 個送りました。期待は 1 個。SETNX の後に EXPIRE を送ると、その間にプロセスが死んだとき、切れないロックが残ります — %s", n, readme)
	ttl := r.Mini.TTL("lock:product:1")
	assert.Equal(t, 5*time.Second, ttl, "ロックの TTL が %v です。期待は 5s。保持者が死んでもロックが切れるようにするためです — %s", ttl, readme)
	token, _ := r.Mini.Get("lock:product:1")
	assert.Regexp(t, regexp.MustCompile(`^[0-9a-fA-F]{32,}$|^[A-Za-z0-9+/=_-]{22,}$`), token,
		"ロックの値が %q です。crypto/rand で作った 128 ビットのランダムなトークン（例: 16 進数 32 桁）にしてください — %s", token, readme)
}

func TestAcquire_OneOwnerAtATime(t *testing.T) {
	r := testutil.StartRedis(t)
	ctx := t.Context()
	first := testutil.NewDistributedLock(r.Client(t), "lock:k", 5*time.Second)
	second := testutil.NewDistributedLock(r.Client(t), "lock:k", 5*time.Second)
	require.NoError(t, first.Acquire(ctx), "最初の Acquire が失敗しました — %s", readme)
	err := second.Acquire(ctx)
	require.ErrorIs(t, err, testutil.ErrLockNotAcquired, "2 つのプロセスが両方とも lock:k を持っています（2 つ目の Acquire = %v）。期待は ErrLockNotAcquired — %s", err, readme)
	require.NoError(t, first.Release(ctx), "保持者の Release が失敗しました — %s", readme)
	require.NoError(t, second.Acquire(ctx), "保持者が解放した後の Acquire が失敗しました — %s", readme)
}

func TestRelease_StaleOwnerCannotReleaseTheNewOwnersLock(t *testing.T) {
	env := testutil.NewEnv(t)
	ctx := t.Context()
	old := testutil.NewDistributedLock(env.Redis.Client(t), "lock:k", 5*time.Second)
	require.NoError(t, old.Acquire(ctx), "Acquire — %s", readme)
	env.Clock.Advance(6 * time.Second) // the old owner stalled (GC pause, slow DB) past its lease
	fresh := testutil.NewDistributedLock(env.Redis.Client(t), "lock:k", 5*time.Second)
	require.NoError(t, fresh.Acquire(ctx), "古いロックが切れた後の Acquire が失敗しました — %s", readme)
	require.True(t, env.Redis.Mini.Exists("lock:k"), "Acquire が nil を返しましたが、Redis にキー lock:k がありません。ロックは Redis に置いてください — %s", readme)
	err := old.Release(ctx)
	require.True(t, env.Redis.Mini.Exists("lock:k"),
		"古い保持者の Release が、新しい保持者のロックを消しました。トークンの比較と削除は 1 つの Lua スクリプトで行ってください — %s", readme)
	assert.ErrorIs(t, err, testutil.ErrLockNotHeld, "古い保持者の Release = %v です。期待は ErrLockNotHeld — %s", err, readme)
	assert.NoError(t, fresh.Release(ctx), "新しい保持者の Release が失敗しました — %s", readme)
}

func TestAcquire_DeadHoldersLockExpires(t *testing.T) {
	env := testutil.NewEnv(t)
	ctx := t.Context()
	dead := testutil.NewDistributedLock(env.Redis.Client(t), "lock:k", 5*time.Second)
	require.NoError(t, dead.Acquire(ctx), "Acquire — %s", readme)
	// The holder crashes here and never releases.
	next := testutil.NewDistributedLock(env.Redis.Client(t), "lock:k", 5*time.Second)
	env.Clock.Advance(4 * time.Second)
	err := next.Acquire(ctx)
	require.ErrorIs(t, err, testutil.ErrLockNotAcquired, "5s のロックが取られて 4s 後の Acquire = %v です。期待は ErrLockNotAcquired — %s", err, readme)
	env.Clock.Advance(time.Second)
	require.NoError(t, next.Acquire(ctx), "死んだ保持者のロックが、5s の TTL を過ぎても切れていません — %s", readme)
}

func TestGet_ProcessesLoadOnce(t *testing.T) {
	env := testutil.NewRealEnv(t)
	const procs, perProc = 4, 100
	ps := make([]*testutil.Protector, procs)
	for i := range ps {
		cfg := env.Config()
		cfg.JitterPercent = 0
		cfg.LockPollInterval = time.Millisecond
		ps[i] = env.Protector(t, cfg) // each with its own Redis client: a separate process
	}
	env.Repo.SetLatency(50 * time.Millisecond)
	r := testutil.Herd(procs*perProc, func(i int) error {
		_, err := ps[i%procs].Get(context.Background(), "product:1")
		return err
	})
	require.Zero(t, r.Failed(), "%d 回の Get が失敗しました（最初のエラー: %v） — %s", r.Failed(), r.FirstErr(), readme)
	got := env.Repo.Loads()
	assert.Equal(t, int64(1), got, "%d プロセス x %d goroutine で DB クエリが %d 回になりました。期待は 1 回。ロックを取った 1 つだけが読み込み、他はその値を待ちます — %s",
		procs, perProc, got, readme)
}

func TestAcquire_RedisFailureIsNotContention(t *testing.T) {
	l := testutil.NewDistributedLock(testutil.DeadClient(t), "lock:k", 5*time.Second)
	err := l.Acquire(t.Context())
	require.Error(t, err, "つながらない Redis への Acquire が nil を返しました。Redis のエラーを返してください — %s", readme)
	assert.NotErrorIs(t, err, testutil.ErrLockNotAcquired,
		"つながらない Redis への Acquire = %v です。期待は ErrLockNotAcquired ではなく接続エラーです。「他の誰かが持っている」と返すと、呼び出し元は来ない値を待ち続けます — %s", err, readme)
}

func TestAcquire_RejectsBadInput(t *testing.T) {
	r := testutil.StartMiniredis(t)
	client := r.Client(t)
	for _, tc := range []struct {
		name string
		lock *testutil.DistributedLock
	}{
		{"ttl 0: 切れないロック", testutil.NewDistributedLock(client, "lock:k", 0)},
		{"負の ttl", testutil.NewDistributedLock(client, "lock:k", -time.Second)},
		{"空のキー", testutil.NewDistributedLock(client, "", time.Second)},
		{"nil の client", testutil.NewDistributedLock(nil, "lock:k", time.Second)},
	} {
		err := tc.lock.Acquire(t.Context())
		assert.ErrorIs(t, err, testutil.ErrInvalidArgument, "Acquire（%s）= %v です。ErrInvalidArgument を包んだエラーを返してください — %s", tc.name, err, readme)
	}
	keys := r.Mini.Keys()
	assert.Empty(t, keys, "拒否されたはずの Acquire が Redis に %v を書きました — %s", keys, readme)
}

// TestAcquire_TTLIsNotRoundedToSeconds: the lock's TTL reaches Redis to the millisecond. Rounded down to whole
// seconds (EX instead of PX, or a Duration truncated to seconds), 1.5s becomes 1s, and a TTL under 1s becomes 0: a
// lock that never expires, or an error.
func TestAcquire_TTLIsNotRoundedToSeconds(t *testing.T) {
	r := testutil.StartMiniredis(t)
	client := r.Client(t)
	for i, ttl := range []time.Duration{1500 * time.Millisecond, 500 * time.Millisecond} {
		key := fmt.Sprint("lock:ttl", i)
		l := testutil.NewDistributedLock(client, key, ttl)
		err := l.Acquire(t.Context())
		require.NoError(t, err, "ttl %v の Acquire が失敗しました。1s 未満の TTL も PX（ミリ秒）なら送れます — %s", ttl, readme)
		require.True(t, r.Mini.Exists(key), "Acquire が nil を返しましたが、Redis にキー %s がありません。ロックは Redis に置いてください — %s", key, readme)
		got := r.Mini.TTL(key)
		require.Equal(t, ttl, got,
			"ttl %v のロックの TTL が Redis では %v です（0 は期限なし）。期待は %v。秒に切り捨てると（EX、time.Duration の秒への丸め）ロックが早く切れ、1s 未満では 0（切れないロック）になります。PX（ミリ秒）で送ってください — %s",
			ttl, got, ttl, readme)
	}
}

// expireAfterGet is a hook of the old holder's client: right after its first GET of key, the lock expires and
// another owner takes it, as when the old holder pauses between two commands.
type expireAfterGet struct {
	key   string
	fired atomic.Bool
	then  func()
}

func (h *expireAfterGet) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *expireAfterGet) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (h *expireAfterGet) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if args := cmd.Args(); len(args) == 2 && strings.EqualFold(fmt.Sprint(args[0]), "get") && fmt.Sprint(args[1]) == h.key && h.fired.CompareAndSwap(false, true) {
			h.then()
		}
		return err
	}
}

// TestRelease_IsOneAtomicStep: Release checks the token and deletes in one step on the server. A GET and then a DEL
// from Go leave a gap in which the lock can expire and pass to a new owner, whose lock the DEL then deletes.
func TestRelease_IsOneAtomicStep(t *testing.T) {
	env := testutil.NewEnv(t)
	ctx := t.Context()
	oldClient := env.Redis.Client(t)
	old := testutil.NewDistributedLock(oldClient, "lock:k", 5*time.Second)
	fresh := testutil.NewDistributedLock(env.Redis.Client(t), "lock:k", 5*time.Second)
	var freshErr error
	hook := &expireAfterGet{key: "lock:k", then: func() {
		env.Clock.Advance(6 * time.Second) // the old holder pauses here, past its lease
		freshErr = fresh.Acquire(ctx)
	}}
	oldClient.AddHook(hook)
	require.NoError(t, old.Acquire(ctx), "Acquire — %s", readme)
	require.True(t, env.Redis.Mini.Exists("lock:k"), "Acquire が nil を返しましたが、Redis にキー lock:k がありません。ロックは Redis に置いてください — %s", readme)
	_ = old.Release(ctx)
	if !hook.fired.Load() {
		return // no GET from Go: the comparison ran on the server
	}
	require.NoError(t, freshErr, "古いロックが切れた後の Acquire — %s", readme)
	assert.True(t, env.Redis.Mini.Exists("lock:k"),
		"古い保持者の Release が GET で自分のトークンを確かめた直後にロックが切れ、新しい保持者が取りました。その後の DEL が新しい保持者のロックを消しました。トークンの比較と削除は 1 つの Lua スクリプトで、Redis の中で一度に行ってください — %s", readme)
}
