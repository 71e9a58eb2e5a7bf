// Command herd simulates thundering herds (cache stampedes) against an embedded miniredis and shows, side by side,
// what a cache without protection, the learner's day45 and the reference solutions/day45 do with them.
//
//	go run ./cmd/herd                  # every scenario, default sizes, a table on stdout
//	go run ./cmd/herd -scenario hotkey -procs 8 -clients 500
//	go run ./cmd/herd -json > herd.json
//
// See README.md for the scenarios, the columns and the -json schema.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

func main() {
	if os.Getenv(workerEnv) != "" { // -spawn started this process as a worker
		os.Exit(workerMain())
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // the run failed: an invariant of the reference or of the accounting broke, or Redis is unreachable
	exitUsage  = 2 // bad flags
)

// options are the parsed flags.
type options struct {
	procs       int
	clients     int
	dbLatency   time.Duration
	dbPool      int
	keys        int
	bulkhead    int // MaxConcurrentLoads of each protector process; 0 sizes it from the database (bulkheadSize)
	timeout     time.Duration
	scenarios   []string
	impls       []implKind
	redisAddr   string   // -redis as given
	redisAddrs  []string // its addresses: one is a server, several a Redis Cluster
	spawn       bool
	jsonOut     bool
	seed        uint64
	metricsAddr string         // -metrics-addr: where to serve /metrics, empty for nowhere
	metrics     *metricsServer // serving -metrics-addr while the run lasts; nil without it

	// For tests only: a replacement for newImpl, and for scenarioBudget; a hook called after each step of
	// redis-outage.
	newImpl  func(implKind, redis.UniversalClient, loader, implConfig) (cacheImpl, error)
	budget   time.Duration
	stepHook func(step int)
}

// run is the whole program: parse args, simulate, report. It returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitUsage
	}
	// Ctrl-C (or SIGTERM) abandons the run: the worlds are closed and the workers stopped and waited for. A second
	// Ctrl-C kills at once; workers then see their connection close, and exit.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop)
	if o.metricsAddr != "" {
		if o.metrics, err = startMetrics(o.metricsAddr); err != nil {
			fmt.Fprintf(stderr, "herd: -metrics-addr: %v\n", err)
			return exitFailed
		}
		defer o.metrics.close()
		fmt.Fprintf(stderr, "herd: metrics of the reference's processes on http://%s/metrics while the run lasts\n", o.metrics.addr)
	}
	rep, err := simulate(ctx, o, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "herd: %v\n", err)
		return exitFailed
	}
	if o.jsonOut {
		err = writeJSON(stdout, rep)
	} else {
		err = writeTable(stdout, rep)
	}
	if err != nil {
		fmt.Fprintf(stderr, "herd: writing the report: %v\n", err)
		return exitFailed
	}
	if !rep.OK {
		fmt.Fprintf(stderr, "herd: FAILED: %d invariant(s) broken:\n", len(rep.Violations))
		for _, v := range rep.Violations {
			fmt.Fprintf(stderr, "  - %s\n", v)
		}
		return exitFailed
	}
	return exitOK
}

// parseFlags parses and checks args. On an error it has already told stderr what was wrong.
func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("herd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	scen, impls := o.define(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err // the flag package has printed the error and the usage
	}
	err := o.check(fs.Args())
	if err == nil {
		err = o.parseLists(*scen, *impls)
	}
	if err != nil {
		fmt.Fprintf(stderr, "herd: %v\nRun 'go run ./cmd/herd -h' for the flags.\n", err)
		return nil, err
	}
	return o, nil
}

const usage = `Usage: go run ./cmd/herd [flags]

Simulates thundering herds against an embedded miniredis (or -redis ADDR[,ADDR...], a server or a Redis Cluster)
and a fake database, and prints what no protection, the learner's day45 and the reference solutions/day45 do with
them, side by side. With -spawn every simulated process is a real OS process.

Flags:
`

// define defines the flags on fs, to be parsed into o; the lists -scenario and -impl are returned as given.
func (o *options) define(fs *flag.FlagSet) (scen, impls *string) {
	fs.IntVar(&o.procs, "procs", 4, "processes: separate protectors with separate Redis clients (1..64)")
	fs.IntVar(&o.clients, "clients", 250, "concurrent clients (goroutines) per process (1..10000)")
	fs.DurationVar(&o.dbLatency, "db-latency", 20*time.Millisecond, "latency of one database query (0..2s)")
	fs.IntVar(&o.dbPool, "db-pool", 10, "database connections; queries beyond them queue (1..10000)")
	fs.IntVar(&o.keys, "keys", 500, "keys written at once in the mass-expiry scenario (1..100000)")
	fs.IntVar(&o.bulkhead, "bulkhead", 0, "MaxConcurrentLoads of each protector process; 0 sizes it from the database: "+
		"the loads it finishes within the deadline (db-pool × timeout / db-latency), two thirds of them, shared by the processes (0..100000)")
	fs.DurationVar(&o.timeout, "timeout", 500*time.Millisecond, "deadline of every request, at the caller (1ms..60s)")
	scen = fs.String("scenario", "all", "`NAMES`: all, or a comma-separated list of: "+strings.Join(scenarioNames, ", "))
	impls = fs.String("impl", "all", "`NAMES`: all, or a comma-separated list of: none, learner, reference")
	fs.StringVar(&o.redisAddr, "redis", "", "`ADDR[,ADDR...]`: host:port of a real Redis to use instead of the embedded "+
		"miniredis; several are the seed nodes of a Redis Cluster")
	fs.BoolVar(&o.spawn, "spawn", false, "run every simulated process as an OS process of its own (needs -redis)")
	fs.BoolVar(&o.jsonOut, "json", false, "print the report as JSON on stdout (progress stays on stderr)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the simulator's choices (request order, which process serves a read)")
	fs.StringVar(&o.metricsAddr, "metrics-addr", "", "`ADDR`: serve Prometheus /metrics of the reference's processes on ADDR (host:port, :9100) while the run lasts; not with -spawn")
	return scen, impls
}

// check checks the parsed numbers, and that no argument follows the flags.
func (o *options) check(args []string) error {
	switch {
	case len(args) > 0:
		return fmt.Errorf("unexpected argument %q: herd takes only flags", args[0])
	case o.procs < 1 || o.procs > 64:
		return fmt.Errorf("-procs must be between 1 and 64, got %d", o.procs)
	case o.clients < 1 || o.clients > 10000:
		return fmt.Errorf("-clients must be between 1 and 10000, got %d", o.clients)
	case o.procs*o.clients > 100000:
		return fmt.Errorf("-procs × -clients must be at most 100000, got %d", o.procs*o.clients)
	case o.dbLatency < 0 || o.dbLatency > 2*time.Second:
		return fmt.Errorf("-db-latency must be between 0 and 2s, got %v", o.dbLatency)
	case o.dbPool < 1 || o.dbPool > 10000:
		return fmt.Errorf("-db-pool must be between 1 and 10000, got %d", o.dbPool)
	case o.keys < 1 || o.keys > 100000:
		return fmt.Errorf("-keys must be between 1 and 100000, got %d", o.keys)
	case o.bulkhead < 0 || o.bulkhead > 100000:
		return fmt.Errorf("-bulkhead must be between 0 and 100000, got %d", o.bulkhead)
	case o.timeout < time.Millisecond || o.timeout > time.Minute:
		return fmt.Errorf("-timeout must be between 1ms and 60s, got %v", o.timeout)
	}
	return nil
}

// parseLists parses -scenario, -impl and -redis, and checks that -spawn has a real Redis.
func (o *options) parseLists(scen, impls string) error {
	var err error
	if o.scenarios, err = parseList(scen, scenarioNames); err != nil {
		return fmt.Errorf("-scenario: %w", err)
	}
	names, err := parseList(impls, []string{"none", "learner", "reference"})
	if err != nil {
		return fmt.Errorf("-impl: %w", err)
	}
	for _, s := range names {
		o.impls = append(o.impls, implKind(s))
	}
	if o.redisAddrs, err = parseAddrs(o.redisAddr); err != nil {
		return fmt.Errorf("-redis %q: %w", o.redisAddr, err)
	}
	if o.spawn && o.metricsAddr != "" {
		return errors.New("-metrics-addr serves the processes of this process: it does not go with -spawn")
	}
	if o.spawn && len(o.redisAddrs) == 0 {
		return errors.New("-spawn needs a real Redis: give -redis ADDR[,ADDR...]. The worker processes share nothing but " +
			"Redis, and the embedded miniredis lives inside this process (start a redis-server, see README.md)")
	}
	return nil
}

// parseAddrs splits -redis into its host:port addresses: none (embedded miniredis), one (a server), or several
// (the seeds of a Redis Cluster, by go-redis's UniversalClient rules).
func parseAddrs(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var addrs []string
	for _, a := range strings.Split(s, ",") {
		a = strings.TrimSpace(a)
		if _, _, err := net.SplitHostPort(a); err != nil {
			return nil, fmt.Errorf("want host:port[,host:port...] (%q: %v)", a, err)
		}
		if slices.Contains(addrs, a) {
			return nil, fmt.Errorf("%s appears twice", a)
		}
		addrs = append(addrs, a)
	}
	return addrs, nil
}

// parseList parses "all" or a comma-separated subset of valid, keeping valid's order.
func parseList(s string, valid []string) ([]string, error) {
	if s == "all" {
		return slices.Clone(valid), nil
	}
	want := map[string]bool{}
	for _, v := range strings.Split(s, ",") {
		v = strings.TrimSpace(v)
		if !slices.Contains(valid, v) {
			return nil, fmt.Errorf("unknown value %q, want all or one or more of %s", v, strings.Join(valid, ", "))
		}
		want[v] = true
	}
	var out []string
	for _, v := range valid {
		if want[v] {
			out = append(out, v)
		}
	}
	return out, nil
}

// simulate runs every selected scenario against every selected implementation and checks the invariants. An
// interrupted run (ctx done) starts nothing new and reports what it measured so far, with the interruption as a
// violation.
func simulate(ctx context.Context, o *options, stderr io.Writer) (*report, error) {
	started := time.Now()
	redisName := "embedded"
	if o.redisAddr != "" {
		redisName = strings.Join(o.redisAddrs, ",")
		if err := pingRedis(ctx, o.redisAddrs); err != nil {
			return nil, fmt.Errorf("cannot reach Redis at %s: %w", o.redisAddr, err)
		}
	}
	rep := newReport(o, redisName)
	prog := newProgress(stderr)
	defer prog.close()
	runID := fmt.Sprintf("%x", time.Now().UnixNano())
	for i, name := range o.scenarios {
		if ctx.Err() != nil {
			break // interrupted: no new scenario
		}
		// Every implementation sees the same sequence of choices.
		seed := o.seed + uint64(i)*0x9e3779b97f4a7c15
		rep.Scenarios = append(rep.Scenarios, runScenario(ctx, o, scenarioByName(name), runID, seed, prog))
	}
	rep.Violations = violations(o, rep)
	if ctx.Err() != nil {
		rep.Violations = append(rep.Violations, "interrupted: "+ctx.Err().Error())
	}
	rep.OK = len(rep.Violations) == 0
	rep.WallMs = ms(time.Since(started))
	return rep, nil
}

// newReport is the report of a run yet to be made.
func newReport(o *options, redisName string) *report {
	rep := &report{
		Config: configJSON{
			Procs: o.procs, Clients: o.clients, DBLatencyMs: ms(o.dbLatency), DBPool: o.dbPool, Keys: o.keys,
			TimeoutMs: ms(o.timeout), Bulkhead: o.bulkheadSize(), Seed: o.seed, Redis: redisName, Spawn: o.spawn, Scenarios: o.scenarios,
		},
		Scenarios:  []scenarioResult{},
		Violations: []string{},
	}
	for _, k := range o.impls {
		rep.Config.Impls = append(rep.Config.Impls, string(k))
	}
	return rep
}

// runScenario runs sc against every selected implementation, all with the same seed.
func runScenario(ctx context.Context, o *options, sc *scenario, runID string, seed uint64, prog *progress) scenarioResult {
	sr := scenarioResult{Name: sc.name, Title: sc.title(o), BucketClock: sc.bucketClock(), BucketMs: ms(sc.bucketWidth(o)),
		Results: []implResult{}}
	for _, k := range o.impls {
		if ctx.Err() != nil {
			break // interrupted: no new run
		}
		sr.Results = append(sr.Results, runOne(ctx, o, sc, k, runID, seed, prog))
	}
	sr.drawSparklines()
	return sr
}

// violations checks what must hold whatever the learner's code does. Any violation fails the run (exit 1).
func violations(o *options, rep *report) []string {
	out := []string{}
	for _, s := range rep.Scenarios {
		for _, r := range s.Results {
			if sum := r.Answered + r.Stale + r.Errors; sum != r.Requests {
				out = append(out, fmt.Sprintf("%s/%s: accounting: answered %d + stale %d + errors %d = %d, but %d requests were sent",
					s.Name, r.Impl, r.Answered, r.Stale, r.Errors, sum, r.Requests))
			}
			if r.Impl != string(implReference) {
				continue
			}
			if r.Status != statusOK {
				out = append(out, fmt.Sprintf("%s/reference: %s: %s", s.Name, r.Status, strings.Join(r.Problems, "; ")))
			}
			// More than one query means two loads of one key: the reference's promise broken. (None at all can only
			// mean that every caller gave up before the load, with an absurd -timeout; the errors column shows it.)
			if sc := scenarioByName(s.Name); sc != nil && sc.oneLoad && r.DBQueries > 1 {
				out = append(out, fmt.Sprintf("%s/reference: %d DB queries for one expired key, want exactly 1 "+
					"(reproduce: go run ./cmd/herd -scenario %s -impl reference -procs %d -clients %d "+
					"-db-latency %v -db-pool %d -timeout %v -seed %d%s)", s.Name, r.DBQueries, s.Name, o.procs, o.clients,
					o.dbLatency, o.dbPool, o.timeout, o.seed, redisFlag(o)))
			}
			if sc := scenarioByName(s.Name); sc != nil && sc.bulkhead && r.DBPeakConcurrency > int64(o.procs*o.bulkheadSize()) {
				out = append(out, fmt.Sprintf("%s/reference: %d DB queries at once, above the bulkhead of %d processes × %d "+
					"(reproduce: go run ./cmd/herd -scenario %s -impl reference -procs %d -clients %d -db-latency %v "+
					"-db-pool %d -timeout %v -bulkhead %d -seed %d%s)", s.Name, r.DBPeakConcurrency, o.procs, o.bulkheadSize(),
					s.Name, o.procs, o.clients, o.dbLatency, o.dbPool, o.timeout, o.bulkheadSize(), o.seed, redisFlag(o)))
			}
		}
	}
	return out
}

// plural is "1 key", "2 keys".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func procsClients(procs, clients int) string {
	return plural(procs, "process", "processes") + " × " + plural(clients, "client", "clients")
}

func redisFlag(o *options) string {
	s := ""
	if o.redisAddr != "" {
		s = " -redis " + o.redisAddr
	}
	if o.spawn {
		s += " -spawn"
	}
	return s
}
