package consistency_test

// Step 08 (advanced): negative caching and no stale sets, in day45/consistency.go (see README.md beside this file).

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"day45-thundering-herd/testutil"
)

const readme = "steps/08-consistency/README.md を参照"

// config is the Env's Config (DefaultConfig on the test clock, negative caching on) without jitter, so that a test
// knows to the millisecond when a remembered absence ends.
func config(env *testutil.Env) testutil.Config {
	cfg := env.Config()
	cfg.JitterPercent = 0
	cfg.LockPollInterval = time.Millisecond
	return cfg
}

// finish closes p, a process whose work is done: Close waits for its write-backs, so that what it stores is in
// Redis when the test reads it through another process.
func finish(t *testing.T, p *testutil.Protector) {
	t.Helper()
	require.NoError(t, p.Close(), "Close")
}

func TestNegative_RepeatedGetsQueryTheDBOnce(t *testing.T) {
	env := testutil.NewRealEnv(t) // no clock moves: CI runs it on a real Redis and a Cluster too
	env.Repo.Missing("ghost")
	p := env.Protector(t, env.Config()) // DefaultConfig: negative caching is on
	const n = 50
	for i := range n {
		_, err := p.Get(t.Context(), "ghost")
		require.ErrorIs(t, err, testutil.ErrNotFound, "DB に無いキーへの %d 回目の Get", i+1)
	}
	assert.LessOrEqual(t, env.Repo.Loads(), int64(2),
		"DB に無いキーへの Get %d 回で DB クエリが %d 回でした。期待は 2 回以下。ErrNotFound という答えも NegativeTTL の間 Redis に覚えておくこと（ネガティブキャッシュ） — %s",
		n, env.Repo.Loads(), readme)
}

// getGhost is one caller of TestNegative_HerdOverFourProcessesQueriesOnce.
func getGhost(p *testutil.Protector, errs chan<- error) {
	_, err := p.Get(context.Background(), "ghost")
	errs <- err
}

func TestNegative_HerdOverFourProcessesQueriesOnce(t *testing.T) {
	env := testutil.NewRealEnv(t) // no clock moves: CI runs it on a real Redis and a Cluster too
	env.Repo.Missing("ghost")
	const procs, perProc = 4, 25
	env.Repo.Hold()
	errs := make(chan error, procs*perProc)
	for range procs {
		p := env.Protector(t, config(env))
		for range perProc {
			go getGhost(p, errs)
		}
	}
	// The database answers once every caller waits for it, inside it or for a shared load.
	testutil.WaitUntil(func() bool { return testutil.WaitsForTheDB("consistency_test.getGhost(") == procs*perProc }, 5*time.Second)
	env.Repo.Release()
	wrong := 0
	for range procs * perProc {
		if err := <-errs; !errors.Is(err, testutil.ErrNotFound) {
			wrong++
		}
	}
	assert.Zero(t, wrong, "%d 個の呼び出しが ErrNotFound 以外を返しました", wrong)
	assert.Equal(t, int64(1), env.Repo.Loads(),
		"%d プロセス × %d 個の呼び出しが DB に無いキーを同時に読み、DB クエリが %d 回でした。期待は 1 回。ロックを持った読み込みが「無い」を Redis に書いてからロックを放せば、ロックを待つ他のプロセスはそれを読んで答えられる — %s",
		procs, perProc, env.Repo.Loads(), readme)
}

func TestNegative_RememberedForNegativeTTLOnly(t *testing.T) {
	env := testutil.NewEnv(t)
	env.Repo.Missing("ghost")
	cfg := config(env)
	a, b := env.Protector(t, cfg), env.Protector(t, cfg)
	_, err := a.Get(t.Context(), "ghost")
	require.ErrorIs(t, err, testutil.ErrNotFound, "Get of a key the DB lacks")
	finish(t, a)
	_, err = b.Get(t.Context(), "ghost")
	require.ErrorIs(t, err, testutil.ErrNotFound, "another process's Get of the key the DB lacks")
	require.Equal(t, int64(1), env.Repo.Loads(),
		"プロセス A が DB に無いと知ったキーを、プロセス B がもう一度 DB に聞きました。「無い」を Redis に NegativeTTL の間だけ保存すること — %s", readme)

	env.Repo.Put("ghost", "created") // the row appears; until NegativeTTL ends, the cache still says it does not
	env.Clock.Advance(cfg.NegativeTTL - time.Millisecond)
	_, err = b.Get(t.Context(), "ghost")
	assert.ErrorIs(t, err, testutil.ErrNotFound,
		"NegativeTTL（%v）の 1ms 前に、覚えたはずの「無い」が消えていました。期待は NegativeTTL の間は覚えていること — %s", cfg.NegativeTTL, readme)
	env.Clock.Advance(2 * time.Millisecond)
	d, err := b.Get(t.Context(), "ghost")
	require.NoError(t, err,
		"NegativeTTL（%v）を過ぎても「無い」のままでした。期待は NegativeTTL で忘れて DB に聞き直し、その間に作られた行を返すこと（TTL ではなく NegativeTTL を使う） — %s", cfg.NegativeTTL, readme)
	assert.Equal(t, "created", d.Value, "the row created meanwhile")
}

func TestNegative_DeletedRowIsForgotten(t *testing.T) {
	env := testutil.NewEnv(t)
	cfg := config(env)
	a, b, c := env.Protector(t, cfg), env.Protector(t, cfg), env.Protector(t, cfg)
	_, err := a.Get(t.Context(), "item")
	require.NoError(t, err, "Get of a row that exists")
	finish(t, a)
	env.Clock.Advance(cfg.TTL + time.Second) // stale, still within StaleTTL
	env.Repo.Missing("item")                 // the row is deleted
	_, err = b.Get(t.Context(), "item")
	require.ErrorIs(t, err, testutil.ErrNotFound, "Get of a stale key whose row was deleted")
	finish(t, b)
	d, err := c.GetStaleWhileRevalidate(t.Context(), "item")
	assert.ErrorIs(t, err, testutil.ErrNotFound,
		"行が削除された後も、新鮮でない値 %+v が返りました。期待は ErrNotFound。もう新鮮でない値は「無い」で置き換えること（新鮮な値だけは守る） — %s", d, readme)
	assert.Equal(t, int64(2), env.Repo.Loads(),
		"行が削除されたと分かった後も、別のプロセスがまた DB に聞きました（DB クエリ %d 回、期待は 2 回）。もう新鮮でない値は「無い」で置き換えること — %s", env.Repo.Loads(), readme)
}

// result is one Get's answer.
type result struct {
	d   *testutil.Data
	err error
}

func TestStaleSet_SetDuringASlowLoad(t *testing.T) {
	for _, tc := range []struct {
		name         string
		loaded, set  int64 // versions: what the slow load read, what the application Set meanwhile
		loadedStored bool  // the load's write-back replaces the Set's value
	}{
		{"読み込みが v1 を読んだ後に Set(v2)", 1, 2, false},
		{"v9 の後に Set(v10)：文字列で比べると 9 が大きい", 9, 10, false},
		{"2^53 の後に Set(2^53+1)：Lua の数値では区別できない", 1 << 53, 1<<53 + 1, false},
		{"更新時刻のナノ秒をバージョンに", 1_764_460_800_000_000_000, 1_764_460_800_000_000_001, false},
		{"負のバージョン", -5, -4, false},
		{"同じバージョン：書き戻しが新鮮期限を延ばす", 3, 3, true},
		{"読み込みのほうが新しい", 5, 4, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := testutil.NewRealEnv(t)
			cfg := config(env)
			a, b := env.Protector(t, cfg), env.Protector(t, cfg)
			env.Repo.SetVersion("item", tc.loaded)
			env.Repo.HoldAfterRead() // the load reads the row, then takes its time
			got := make(chan result, 1)
			go func() {
				d, err := a.Get(context.Background(), "item")
				got <- result{d, err}
			}()
			env.Repo.WaitInFlight(t, 1, "the load did not reach the DB")
			set := &testutil.Data{Key: "item", Value: "set by the application", Version: tc.set}
			require.NoError(t, b.Set(t.Context(), "item", set, time.Hour), "Set")
			env.Repo.Release()
			r := <-got
			require.NoError(t, r.err, "the slow load's Get")
			finish(t, a)
			d, err := b.Get(t.Context(), "item")
			require.NoError(t, err, "Get after the load's write-back")
			want := set.Value
			if tc.loadedStored {
				want = r.d.Value
			}
			assert.Equal(t, want, d.Value,
				"読み込みがバージョン %d を読み、その間にアプリがバージョン %d を Set しました。書き戻しの後、キャッシュの値は %+v。期待は %q（高いほうのバージョン。同じなら書き戻し）。書き戻しは、Redis にもっと新しいバージョンがあれば書かないこと。比べるのと書くのは 1 つの Lua スクリプトで — %s",
				tc.loaded, tc.set, d, want, readme)
		})
	}
}

func TestStaleSet_AbsenceNeverHidesASetValue(t *testing.T) {
	env := testutil.NewRealEnv(t) // no clock moves: CI runs it on a real Redis and a Cluster too
	cfg := config(env)
	a, b := env.Protector(t, cfg), env.Protector(t, cfg)
	env.Repo.Missing("ghost", "item")
	env.Repo.HoldAfterRead() // both loads find no row, then take their time
	errs := make(chan error, 2)
	for _, key := range []string{"ghost", "item"} {
		go func() {
			_, err := a.Get(context.Background(), key)
			errs <- err
		}()
	}
	env.Repo.WaitInFlight(t, 2, "the loads did not reach the DB")
	set := &testutil.Data{Key: "item", Value: "created and set", Version: 1}
	require.NoError(t, b.Set(t.Context(), "item", set, time.Hour), "Set") // the row is created meanwhile
	env.Repo.Release()
	for range 2 {
		require.ErrorIs(t, <-errs, testutil.ErrNotFound, "the slow loads found no row")
	}
	finish(t, a)
	_, err := b.Get(t.Context(), "ghost")
	require.ErrorIs(t, err, testutil.ErrNotFound, "Get of the key the DB lacks")
	assert.Equal(t, int64(2), env.Repo.Loads(),
		"プロセス A が DB に無いと知ったキーを、プロセス B がもう一度 DB に聞きました（DB クエリ %d 回、期待は 2 回）。「無い」を Redis に覚えておくこと — %s", env.Repo.Loads(), readme)
	d, err := b.Get(t.Context(), "item")
	assert.NoError(t, err,
		"行が無いと読んだ読み込みの書き戻しが、その間に Set された値を「無い」で上書きしました。「無い」は、まだ新鮮な値の上には書かないこと — %s", readme)
	if err == nil {
		assert.Equal(t, set.Value, d.Value, "the value Set while the load ran")
	}
}
