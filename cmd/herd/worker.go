package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// workerMain is the whole program of a worker process (-spawn): connect to the parent, become one process of a
// world, serve its requests until told to close or until the connection ends. It returns the exit code.
func workerMain() int {
	// Ctrl-C on a terminal reaches the whole process group: the parent decides when its workers stop.
	signal.Ignore(os.Interrupt)
	if err := serveWorker(os.Getenv(workerEnv)); err != nil {
		fmt.Fprintf(os.Stderr, "herd worker: %v\n", err)
		return exitFailed
	}
	return exitOK
}

// workerClock is a worker's copy of the parent's simulated clock, moved by every message.
type workerClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *workerClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *workerClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
}

// worker is one simulated process in a process of its own.
type worker struct {
	clock  workerClock
	fault  *faultNet // redis-outage: the worker's own proxies, frozen and healed on the parent's word
	client redis.UniversalClient
	db     *remoteDB
	impl   cacheImpl

	lw *lineWriter // the replies

	closeOnce sync.Once
	closeErr  error
}

// serveWorker runs the worker described by spec ("CONTROL-ADDR TOKEN INDEX", see workerEnv).
func serveWorker(spec string) error {
	f := strings.Fields(spec)
	if len(f) != 3 {
		return fmt.Errorf("%s=%q: want CONTROL-ADDR TOKEN INDEX", workerEnv, spec)
	}
	index, err := strconv.Atoi(f[2])
	if err != nil {
		return fmt.Errorf("%s: index: %w", workerEnv, err)
	}
	conn, err := net.DialTimeout("tcp", f[0], netTimeout)
	if err != nil {
		return err
	}
	defer conn.Close()
	w := &worker{lw: newLineWriter(conn)}
	defer w.lw.close() // before conn.Close: the last reply goes out
	defer w.shutdown()
	if err := w.lw.send(hello{Token: f[1], Worker: index}); err != nil {
		return err
	}
	return w.serve(json.NewDecoder(bufio.NewReader(conn)))
}

// serve handles the parent's messages until close, or until the connection ends (the parent is gone).
func (w *worker) serve(dec *json.Decoder) error {
	for {
		var m ctlMsg
		if err := dec.Decode(&m); err != nil {
			return nil // the parent closed the connection, or died: stop
		}
		w.clock.set(m.Now)
		switch m.Op {
		case "get", "swr", "set":
			go func() { w.reply(w.request(m)) }() // a request still running at close dies with the process
		case "close":
			w.reply(ctlReply{ID: m.ID, Err: errString(w.shutdown())})
			return nil
		default:
			w.reply(w.control(m))
		}
	}
}

// control handles the messages that change the worker itself, in order: init, clock, freeze, heal.
func (w *worker) control(m ctlMsg) ctlReply {
	var err error
	switch m.Op {
	case "init":
		err = w.init(m.Init)
	case "clock":
	case "freeze", "heal":
		if w.fault == nil {
			err = errors.New("no fault proxy in this scenario")
		} else {
			w.fault.setFrozen(m.Op == "freeze")
		}
	default:
		err = fmt.Errorf("unknown op %q", m.Op)
	}
	return ctlReply{ID: m.ID, Err: errString(err), Kind: "other"}
}

func (w *worker) init(in *workerInit) error {
	if in == nil || w.impl != nil {
		return errors.New("init: missing, or twice")
	}
	if in.Proxy {
		w.fault = newFaultNet()
	}
	w.client = newRedisClient(in.Addrs, w.fault)
	if err := warmUp(w.client); err != nil {
		return fmt.Errorf("connecting to Redis: %w", err)
	}
	w.db = newRemoteDB(in.DBURL)
	cfg := in.Cfg
	cfg.Now = w.clock.Now
	if in.Emulate {
		cfg.ttlEmulator = w.db
	}
	impl, err := newImpl(in.Kind, w.client, w.db, cfg)
	if err != nil {
		return err
	}
	w.impl = impl
	return nil
}

// request runs one call of the implementation with the caller's deadline, as the simulator's runner does in one
// process (call recovers a panic), and sorts its error here, where the packages' error types are known.
func (w *worker) request(m ctlMsg) ctlReply {
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if !m.Deadline.IsZero() {
		ctx, cancel = context.WithDeadline(ctx, m.Deadline)
	}
	defer cancel()
	var rec record
	var err error
	if w.impl == nil {
		err = errors.New("worker not initialised")
	} else if m.Op == "set" && m.Rec != nil {
		err = w.impl.Set(ctx, m.Key, *m.Rec, m.TTL)
	} else {
		rec, err = call(ctx, w.impl, request{key: m.Key, swr: m.Op == "swr"})
	}
	if err != nil {
		return ctlReply{ID: m.ID, Err: err.Error(), Kind: requestErrorKind(ctx, err)}
	}
	return ctlReply{ID: m.ID, Rec: &rec}
}

// requestErrorKind is errorKind, and "deadline" for an error past the caller's deadline that says something else
// (a Redis read cut by the deadline reports a network timeout): runner.one's rule.
func requestErrorKind(ctx context.Context, err error) string {
	k := errorKind(err)
	if k == "other" && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return "deadline"
	}
	return k
}

func (w *worker) reply(r ctlReply) { _ = w.lw.send(r) }

// shutdown heals the proxies, closes the implementation (waiting for its background work), then the client; it
// runs once: on close, or when serveWorker returns without one.
func (w *worker) shutdown() error {
	w.closeOnce.Do(func() {
		if w.fault != nil {
			w.fault.setFrozen(false)
		}
		if w.impl != nil {
			if ps := closeProcs([]cacheImpl{w.impl}, closeWithin); len(ps) > 0 {
				w.closeErr = errors.New(strings.Join(ps, "; "))
			}
		}
		if w.client != nil {
			_ = w.client.Close()
		}
		if w.db != nil {
			w.db.close()
		}
		if w.fault != nil {
			w.fault.close()
		}
	})
	return w.closeErr
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
