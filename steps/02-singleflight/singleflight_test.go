package singleflight_test

// Step 02: singleflight. These tests exercise the flight group in day45/singleflight.go through Get
// (see README.md beside this file).

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"day45-thundering-herd/testutil"
)

const readme = "steps/02-singleflight/README.md を参照"

// bound caps every wait in these tests: they fail with a message instead of hanging.
const bound = 2 * time.Second

func newProtector(t *testing.T, env *testutil.Env) *testutil.Protector {
	cfg := env.Config()
	cfg.JitterPercent = 0
	cfg.LockPollInterval = time.Millisecond
	return env.Protector(t, cfg)
}

func TestGet_OneLoadForAThousandCallers(t *testing.T) {
	env := testutil.NewEnv(t)
	p := newProtector(t, env)
	env.Repo.SetLatency(50 * time.Millisecond) // long enough for the whole herd to miss
	const n = 1000
	r := testutil.Herd(n, func(int) error {
		d, err := p.Get(context.Background(), "product:1")
		if err == nil && d.Value != "value:product:1" {
			return errors.New("値が違います: " + d.Value)
		}
		return err
	})
	require.Zero(t, r.Failed(), "%d 回の Get のうち %d 回が失敗しました（最初のエラー: %v） — %s", n, r.Failed(), r.FirstErr(), readme)
	got := env.Repo.Loads()
	assert.Equal(t, int64(1), got, "%d 並行の Get が DB クエリ %d 回になりました。期待は 1 回 — %s", n, got, readme)
	inFlight := env.Repo.MaxInFlight()
	assert.Equal(t, int64(1), inFlight, "DB が 1 つのキーのクエリを同時に %d 本処理しました。期待は 1 本 — %s", inFlight, readme)
}

func TestGet_WaiterLeavesAtItsOwnDeadline(t *testing.T) {
	env := testutil.NewEnv(t)
	p := newProtector(t, env)
	env.Repo.Hold()
	defer env.Repo.Release()
	leader := make(chan error, 1)
	go func() { _, err := p.Get(context.Background(), "k"); leader <- err }()
	env.Repo.WaitLoads(t, 1, "最初の Get が DB に届きませんでした — "+readme)

	waiter := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := p.Get(ctx, "k")
		waiter <- err
	}()
	select {
	case err := <-waiter:
		assert.ErrorIs(t, err, context.DeadlineExceeded,
			"50ms の期限が過ぎた待ち側の呼び出し元が %v を受け取りました。期待は context.DeadlineExceeded — %s", err, readme)
	case <-time.After(bound):
		assert.Fail(t, "待ち側の呼び出し元が期限を過ぎてもブロックされたままです",
			"50ms の期限を持つ待ち側の呼び出し元が、%v たってもまだブロックされていました。読み込みだけでなく自分の ctx も待つ必要があります（singleflight の Do ではできません。DoChan を使い、ctx.Done() と select してください） — %s",
			bound, readme)
		defer func() { <-waiter }() // it returns once the load is released below
	}
	got := env.Repo.Loads()
	assert.Equal(t, int64(1), got, "待ち側の呼び出し元が自分で DB クエリを始めました（クエリ %d 回）。走っている読み込みに相乗りするはずです — %s", got, readme)
	env.Repo.Release()
	assert.NoError(t, <-leader, "最初の Get が失敗しました — %s", readme)
}

func TestGet_CancelledLeaderDoesNotFailTheOthers(t *testing.T) {
	env := testutil.NewEnv(t)
	p := newProtector(t, env)
	env.Repo.Hold()
	defer env.Repo.Release()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	leader := make(chan error, 1)
	go func() { _, err := p.Get(ctx, "k"); leader <- err }()
	env.Repo.WaitLoads(t, 1, "最初の Get が DB に届きませんでした — "+readme)

	const n = 20
	var asked atomic.Int64
	res := make(chan testutil.HerdResult, 1)
	go func() {
		res <- testutil.Herd(n, func(int) error {
			asked.Add(1)
			_, err := p.Get(context.Background(), "k")
			return err
		})
	}()
	testutil.Eventually(t, func() bool { return asked.Load() == n }, bound, "待ち側の呼び出し元の Get が始まりませんでした")
	cancel() // the first caller gives up: a user closed the page
	select {
	case err := <-leader:
		assert.ErrorIs(t, err, context.Canceled, "キャンセルされた最初の呼び出し元が %v を受け取りました。期待は context.Canceled — %s", err, readme)
	case <-time.After(bound):
		assert.Fail(t, "キャンセルされた最初の呼び出し元がブロックされたままです", "キャンセルされた最初の呼び出し元が、%v たってもまだブロックされていました — %s", bound, readme)
		defer func() { <-leader }()
	}
	env.Repo.Release()
	r := <-res
	assert.Zero(t, r.Failed(), "最初の呼び出し元のキャンセルで、他の呼び出し元 %d 人のうち %d 人が失敗しました（最初のエラー: %v）。共有の読み込みは、どの呼び出し元からも切り離した context で走らせてください（context.WithoutCancel(ctx) で走らせる） — %s",
		n, r.Failed(), r.FirstErr(), readme)
	got := env.Repo.Loads()
	assert.Equal(t, int64(1), got, "DB クエリが %d 回でした。期待は 1 回。最初の呼び出し元が抜けても共有の読み込みは続け（context.WithoutCancel(ctx) で走らせる）、後から来た呼び出し元は自分で始めずにそれに相乗りする必要があります — %s", got, readme)
}

func TestGet_EachCallerGetsItsOwnCopy(t *testing.T) {
	env := testutil.NewEnv(t)
	p := newProtector(t, env)
	env.Repo.SetLatency(50 * time.Millisecond)
	got := make([]*testutil.Data, 10)
	r := testutil.Herd(len(got), func(i int) error {
		d, err := p.Get(context.Background(), "k")
		got[i] = d
		return err
	})
	require.Zero(t, r.Failed(), "%d 回の Get が失敗しました（最初のエラー: %v） — %s", r.Failed(), r.FirstErr(), readme)
	loads := env.Repo.Loads()
	require.Equal(t, int64(1), loads, "10 並行の Get が DB クエリ %d 回になりました。期待は 1 回 — %s", loads, readme)
	got[0].Value = "changed by one caller"
	for i, d := range got[1:] {
		require.Equal(t, "value:k", d.Value,
			"呼び出し元 %d から %q が見えます。呼び出し元どうしが 1 つの *Data を共有しているので、1 人の変更が他の人に漏れています — %s", i+1, d.Value, readme)
	}
}

// childEnv marks the copy of this test binary that TestGet_PanicInTheLoadIsAnError runs.
const childEnv = "DAY45_STEP02_PANIC_CHILD"

// TestGet_PanicInTheLoadIsAnError runs the herd in a copy of this test binary, because a panic on a goroutine that
// nobody recovers kills the whole process: that is what DoChan does with a panic of the function it runs.
func TestGet_PanicInTheLoadIsAnError(t *testing.T) {
	if os.Getenv(childEnv) == "1" {
		panickingHerd(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestGet_PanicInTheLoadIsAnError$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		return
	}
	first := string(out)
	if i := strings.Index(first, "panic:"); i >= 0 {
		first, _, _ = strings.Cut(first[i:], "\n")
		assert.Fail(t, "読み込みの panic でプロセスが落ちました",
			"%q: 共有の読み込みの中の panic でプロセス全体が落ち、サーバーのすべてのリクエストも一緒に失われました。DoChan に渡す関数の中で recover し、panic をエラーとして全員に返してください — %s",
			first, readme)
		return
	}
	assert.NoError(t, err, "panic する読み込みでのサンダリングハードのテストが失敗しました:\n%s— %s", out, readme)
}

// panickingHerd is the child's half: 10 callers share a load that panics (a bug in code the load runs: here the
// clock, once the database has answered), and each must get an error.
func panickingHerd(t *testing.T) {
	env := testutil.NewEnv(t)
	cfg := env.Config()
	cfg.JitterPercent = 0
	cfg.Now = func() time.Time {
		if env.Repo.Completed() > 0 {
			panic("読み込みのバグ")
		}
		return env.Clock.Now()
	}
	p := env.Protector(t, cfg)
	env.Repo.Hold()
	res := make(chan testutil.HerdResult, 1)
	go func() {
		res <- testutil.Herd(10, func(int) error { _, err := p.Get(context.Background(), "k"); return err })
	}()
	testutil.WaitUntil(func() bool { return testutil.Parked(testutil.WaitingCaller) == 10 }, bound)
	env.Repo.Release()
	r := <-res
	assert.Equal(t, 10, r.Failed(), "panic する読み込みの呼び出し元 10 人のうち、エラーを受け取ったのは %d 人でした。期待は 10 人全員 — %s", r.Failed(), readme)
	assert.ErrorContains(t, r.FirstErr(), "panic", "エラーには、読み込みが panic したことを書いてください — %s", readme)
}

// TestGet_EachKeyHasItsOwnLoad: the flight is per key. Two keys loaded at once are two loads, and each caller gets
// the value of the key it asked for.
func TestGet_EachKeyHasItsOwnLoad(t *testing.T) {
	env := testutil.NewEnv(t)
	p := newProtector(t, env)
	env.Repo.SetLatency(50 * time.Millisecond)
	keys := []string{"product:1", "product:2"}
	const n = 100
	var wrong atomic.Int64
	var firstWrong atomic.Value
	r := testutil.Herd(n, func(i int) error {
		key := keys[i%len(keys)]
		d, err := p.Get(context.Background(), key)
		if err == nil && d.Value != "value:"+key {
			wrong.Add(1)
			firstWrong.CompareAndSwap(nil, key+" → "+d.Value)
		}
		return err
	})
	require.Zero(t, r.Failed(), "%d 回の Get のうち %d 回が失敗しました（最初のエラー: %v） — %s", n, r.Failed(), r.FirstErr(), readme)
	assert.Zero(t, wrong.Load(), "2 つのキーを %d 回並行に Get して、%d 回が別のキーの値を受け取りました（例: %v）。読み込みの共有はキーごとです（DoChan の key） — %s",
		n, wrong.Load(), firstWrong.Load(), readme)
	for _, key := range keys {
		got := env.Repo.LoadsOf(key)
		assert.Equal(t, int64(1), got, "%s の DB クエリが %d 回でした。期待はキーごとに 1 回 — %s", key, got, readme)
	}
}

// TestClose_WaitsForTheLoad: a load in flight is background work of the protector, so Close waits for it.
func TestClose_WaitsForTheLoad(t *testing.T) {
	env := testutil.NewEnv(t)
	p := newProtector(t, env)
	env.Repo.Hold()
	defer env.Repo.Release()
	got := make(chan error, 1)
	go func() { _, err := p.Get(context.Background(), "k"); got <- err }()
	env.Repo.WaitLoads(t, 1, "Get が DB に届きませんでした — "+readme)
	closed := make(chan error, 1)
	go func() { closed <- p.Close() }()
	select {
	case err := <-closed:
		env.Repo.Release()
		<-got
		assert.Fail(t, "Close が読み込みを待たなかった", "読み込みがまだ DB を待っているのに Close が戻りました（%v）。読み込みは protector のバックグラウンド作業です。DoChan に渡す関数で g.work.begin() / g.work.end() を呼び、Close がその終了を待つようにしてください — %s", err, readme)
		return
	case <-time.After(100 * time.Millisecond):
	}
	env.Repo.Release()
	select {
	case err := <-closed:
		assert.NoError(t, err, "Close")
	case <-time.After(bound):
		assert.Fail(t, "Close が戻らない", "読み込みが終わって %v たっても Close が戻りませんでした — %s", bound, readme)
	}
	assert.NoError(t, <-got, "Close の前に始まった Get が失敗しました — %s", readme)
}
