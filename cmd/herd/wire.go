package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// With -spawn every simulated process is a worker process: this binary again, started with workerEnv set. Two
// channels join a worker to the parent, both on loopback (127.0.0.1), both opened by the worker:
//
//   - control: one TCP connection to the parent's control listener, carrying JSON lines both ways. The parent
//     sends ctlMsg (init, then get/swr/set for the requests, clock, freeze, heal, close), each with an id; the
//     worker answers each with a ctlReply of the same id, requests concurrently. When the connection closes, the
//     worker exits: a parent that dies leaves no worker behind.
//   - database: HTTP to the parent's dbServer, GET /load?key=K for a query of the fake database (the request's
//     deadline travels in a header, and a caller that gives up closes its connection, which cancels the query in
//     the parent, as with a real pool), POST /expire?key=K&at=NS for the TTL emulation of the cache-aside keys.
//
// The database and its counters stay in the parent, so DB counts stay exact; the workers share nothing but Redis.

// workerEnv, when set ("CONTROL-ADDR TOKEN INDEX"), makes this binary a worker of the parent listening there.
const workerEnv = "HERD_WORKER"

// deadlineHeader carries a query's deadline (Unix ns) to the dbServer.
const deadlineHeader = "Herd-Deadline"

// ctlMsg is one message from the parent to a worker.
type ctlMsg struct {
	ID       uint64        `json:"id"`
	Op       string        `json:"op"` // init, get, swr, set, clock, freeze, heal, close
	Key      string        `json:"key,omitempty"`
	Rec      *record       `json:"rec,omitempty"` // set
	TTL      time.Duration `json:"ttl,omitempty"` // set
	Now      time.Time     `json:"now"`           // the simulated clock: the worker's copy moves to it
	Deadline time.Time     `json:"deadline,omitzero"`
	Init     *workerInit   `json:"init,omitempty"`
}

// workerInit is everything a worker needs to become one process of a world.
type workerInit struct {
	Kind    implKind   `json:"kind"`
	Addrs   []string   `json:"addrs"` // Redis: one server, or the seeds of a cluster
	DBURL   string     `json:"db_url"`
	Cfg     implConfig `json:"cfg"`
	Emulate bool       `json:"emulate"` // expire the cache-aside keys through the parent's ttlEmulator
	Proxy   bool       `json:"proxy"`   // reach Redis through fault proxies (redis-outage)
}

// ctlReply answers the ctlMsg of the same id.
type ctlReply struct {
	ID   uint64  `json:"id"`
	Rec  *record `json:"rec,omitempty"`
	Err  string  `json:"err,omitempty"`
	Kind string  `json:"kind,omitempty"` // errorKind of Err, sorted in the worker
}

// hello is a worker's first line: who it is, and the token that proves the parent started it.
type hello struct {
	Token  string `json:"token"`
	Worker int    `json:"worker"`
}

// ---- the database over loopback ----

// dbServer serves the world's fakeDB (and its ttlEmulator) to the workers over HTTP on 127.0.0.1.
type dbServer struct {
	db   *fakeDB
	ttl  *ttlEmulator // nil on miniredis (never with -spawn)
	srv  *http.Server
	url  string
	done chan struct{}
}

func startDBServer(db *fakeDB, ttl *ttlEmulator) (*dbServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("database server: %w", err)
	}
	s := &dbServer{db: db, ttl: ttl, url: "http://" + ln.Addr().String(), done: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /load", s.load)
	mux.HandleFunc("POST /expire", s.expire)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: netTimeout}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// dbAnswer is the reply of /load: a record, or an error and its kind (dbErrKind).
type dbAnswer struct {
	Rec  record `json:"rec"`
	Err  string `json:"err,omitempty"`
	Kind string `json:"kind,omitempty"`
}

func (s *dbServer) load(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context() // cancelled when the worker's caller gives up and its connection closes
	if n, err := strconv.ParseInt(r.Header.Get(deadlineHeader), 10, 64); err == nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, time.Unix(0, n))
		defer cancel()
	}
	rec, err := s.db.Load(ctx, r.URL.Query().Get("key"))
	a := dbAnswer{Rec: rec}
	if err != nil {
		a.Err, a.Kind = err.Error(), dbErrKind(err)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(a)
}

func (s *dbServer) expire(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.ParseInt(r.URL.Query().Get("at"), 10, 64)
	if err != nil || s.ttl == nil {
		http.Error(w, "bad expire", http.StatusBadRequest)
		return
	}
	s.ttl.expireAt(r.URL.Query().Get("key"), time.Unix(0, n).UTC())
}

// close stops the server once its last queries have ended (or after a few seconds).
func (s *dbServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), netTimeout)
	defer cancel()
	if s.srv.Shutdown(ctx) != nil {
		_ = s.srv.Close()
	}
	<-s.done
}

// dbSentinels are the errors of a query that survive the trip to a worker, by kind.
var dbSentinels = map[string]error{
	"db_down":     errDBDown,
	"no_such_key": errNoSuchKey,
	"deadline":    context.DeadlineExceeded,
	"canceled":    context.Canceled,
}

func dbErrKind(err error) string {
	for k, e := range dbSentinels {
		if errors.Is(err, e) {
			return k
		}
	}
	return "other"
}

// wireError is an error that crossed the wire: its message, and the sentinel it wraps (nil for "other").
type wireError struct {
	msg string
	is  error
}

func (e *wireError) Error() string { return e.msg }
func (e *wireError) Unwrap() error { return e.is }

// remoteDB is a worker's view of the parent's database: a loader and a keyExpirer over HTTP.
type remoteDB struct {
	url string
	hc  *http.Client
}

func newRemoteDB(u string) *remoteDB {
	// One connection per query in flight, kept for the next: a herd opens as many as it has callers.
	t := &http.Transport{Proxy: nil, MaxIdleConns: 0, MaxIdleConnsPerHost: 10000, DisableCompression: true}
	return &remoteDB{url: u, hc: &http.Client{Transport: t}}
}

func (d *remoteDB) Load(ctx context.Context, key string) (record, error) {
	rctx := ctx
	if ctx.Err() != nil {
		// In one process the fakeDB counts a query whose caller has already given up (it fails at once, as with a
		// real pool): send it all the same, with its past deadline, so that the counts do not depend on -spawn.
		var cancel context.CancelFunc
		rctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), netTimeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, d.url+"/load?key="+url.QueryEscape(key), nil)
	if err != nil {
		return record{}, err
	}
	if dl, ok := ctx.Deadline(); ok {
		req.Header.Set(deadlineHeader, strconv.FormatInt(dl.UnixNano(), 10))
	}
	resp, err := d.hc.Do(req)
	if err != nil {
		return record{}, fmt.Errorf("fakedb over loopback: %w", err)
	}
	defer resp.Body.Close()
	var a dbAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		return record{}, fmt.Errorf("fakedb over loopback: %w", err)
	}
	if a.Kind != "" {
		return record{}, &wireError{msg: a.Err, is: dbSentinels[a.Kind]}
	}
	return a.Rec, nil
}

// expireAt registers key with the parent's ttlEmulator. A failure shows as a cache-aside hit that should have
// been a miss, never as a lost request: it is ignored, like every error of the cache-aside's SET.
func (d *remoteDB) expireAt(key string, at time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), netTimeout)
	defer cancel()
	u := fmt.Sprintf("%s/expire?key=%s&at=%d", d.url, url.QueryEscape(key), at.UnixNano())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return
	}
	if resp, err := d.hc.Do(req); err == nil {
		resp.Body.Close()
	}
}

func (d *remoteDB) close() { d.hc.CloseIdleConnections() }

// ---- the parent's end of a control connection ----

// remoteProc is one worker process as the simulator sees it: a cacheImpl whose calls travel over the control
// connection. A caller that reaches its deadline stops waiting (the worker's call has the same deadline).
type remoteProc struct {
	index int
	conn  net.Conn
	now   func() time.Time

	lw *lineWriter

	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]chan ctlReply

	dead    chan struct{} // closed when the connection is: the worker is gone
	deadErr error
}

func newRemoteProc(index int, conn net.Conn, dec *json.Decoder, now func() time.Time) *remoteProc {
	p := &remoteProc{index: index, conn: conn, now: now, lw: newLineWriter(conn), pending: map[uint64]chan ctlReply{},
		dead: make(chan struct{})}
	go p.read(dec)
	return p
}

// read delivers the replies until the connection ends.
func (p *remoteProc) read(dec *json.Decoder) {
	defer p.lw.close()
	defer close(p.dead)
	for {
		var r ctlReply
		if err := dec.Decode(&r); err != nil {
			p.deadErr = err
			return
		}
		p.mu.Lock()
		ch := p.pending[r.ID]
		delete(p.pending, r.ID)
		p.mu.Unlock()
		if ch != nil {
			ch <- r // buffered
		}
	}
}

// call sends m and waits for its reply, ctx's end, or the worker's.
func (p *remoteProc) call(ctx context.Context, m ctlMsg) (ctlReply, error) {
	ch := make(chan ctlReply, 1)
	p.mu.Lock()
	p.nextID++
	m.ID = p.nextID
	p.pending[m.ID] = ch
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.pending, m.ID)
		p.mu.Unlock()
	}()
	if m.Now.IsZero() {
		m.Now = p.now()
	}
	if dl, ok := ctx.Deadline(); ok {
		m.Deadline = dl
	}
	if err := p.lw.send(m); err != nil {
		return ctlReply{}, fmt.Errorf("worker %d: %w", p.index, err)
	}
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		return ctlReply{}, ctx.Err()
	case <-p.dead:
		select {
		case r := <-ch: // the last reply before the connection closed (read delivers it first)
			return r, nil
		default:
		}
		return ctlReply{}, fmt.Errorf("worker %d: connection lost: %v", p.index, p.deadErr)
	}
}

// do runs an op that answers a record, or an error sorted by the worker.
func (p *remoteProc) do(ctx context.Context, m ctlMsg) (record, error) {
	r, err := p.call(ctx, m)
	switch {
	case err != nil:
		return record{}, err
	case r.Err != "":
		return record{}, &kindError{kind: r.Kind, msg: r.Err}
	case r.Rec == nil:
		return record{}, nil
	}
	return *r.Rec, nil
}

func (p *remoteProc) Get(ctx context.Context, key string) (record, error) {
	return p.do(ctx, ctlMsg{Op: "get", Key: key})
}

func (p *remoteProc) GetStaleWhileRevalidate(ctx context.Context, key string) (record, error) {
	return p.do(ctx, ctlMsg{Op: "swr", Key: key})
}

func (p *remoteProc) Set(ctx context.Context, key string, r record, ttl time.Duration) error {
	_, err := p.do(ctx, ctlMsg{Op: "set", Key: key, Rec: &r, TTL: ttl})
	return err
}

// Close closes the worker's implementation; the worker exits after answering.
func (p *remoteProc) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), closeWithin)
	defer cancel()
	_, err := p.do(ctx, ctlMsg{Op: "close"})
	return err
}

// ---- JSON lines ----

// errConnClosed is a message sent after its connection closed.
var errConnClosed = errors.New("control connection closed")

// lineWriter writes JSON lines on a connection from one goroutine, flushing when nothing more is queued: the
// callers of a herd never queue for the socket, and a burst costs a few writes, not one per message.
type lineWriter struct {
	ch   chan any
	quit chan struct{}
	done chan struct{}
	once sync.Once
}

func newLineWriter(conn net.Conn) *lineWriter {
	w := &lineWriter{ch: make(chan any, 1024), quit: make(chan struct{}), done: make(chan struct{})}
	go w.loop(conn)
	return w
}

func (w *lineWriter) loop(conn net.Conn) {
	defer close(w.done)
	bw := bufio.NewWriterSize(conn, 64<<10)
	enc := json.NewEncoder(bw)
	write := func(m any) { // a failed write shows as the connection's end, on the reading side
		_ = conn.SetWriteDeadline(time.Now().Add(netTimeout))
		if enc.Encode(m) == nil && len(w.ch) == 0 {
			_ = bw.Flush()
		}
	}
	for {
		select {
		case m := <-w.ch:
			write(m)
		case <-w.quit:
			for { // what was queued before close still goes out
				select {
				case m := <-w.ch:
					write(m)
				default:
					_ = bw.Flush()
					return
				}
			}
		}
	}
}

// send queues m.
func (w *lineWriter) send(m any) error {
	select {
	case w.ch <- m:
		return nil
	case <-w.quit:
		return errConnClosed
	}
}

// close writes what is queued and stops.
func (w *lineWriter) close() {
	w.once.Do(func() { close(w.quit) })
	<-w.done
}
