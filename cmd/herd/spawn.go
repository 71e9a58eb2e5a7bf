package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"time"
)

// workerStart bounds how long a worker process may take to start and connect.
const workerStart = 30 * time.Second

// fleet is the worker processes of one world (-spawn), and the loopback servers they use (see wire.go).
type fleet struct {
	ctl    net.Listener
	db     *dbServer
	token  string
	procs  []*remoteProc
	cmds   []*exec.Cmd
	exited []chan struct{} // closed when the worker's process has been waited for
}

// spawn starts the world's processes as worker processes, each a cacheImpl of kind on its own Redis client.
func (w *world) spawn(ctx context.Context, o *options, sc *scenario) error {
	if o.newImpl != nil {
		return errors.New("-spawn cannot use a replacement implementation (tests only)")
	}
	f := &fleet{token: rand.Text()}
	w.fleet = f // closed with the world, even half started
	var err error
	if f.db, err = startDBServer(w.db, w.clock.ttl); err != nil {
		return err
	}
	if f.ctl, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return fmt.Errorf("control listener: %w", err)
	}
	if err := f.startWorkers(o.procs); err != nil {
		return err
	}
	if err := f.accept(ctx, o.procs, w.clock.Now); err != nil {
		return err
	}
	init := &workerInit{Kind: w.kind, Addrs: o.redisAddrs, DBURL: f.db.url, Cfg: o.implConfig(w.prefix, nil),
		Emulate: w.clock.ttl != nil, Proxy: sc.proxy}
	for _, p := range f.procs {
		if _, err := p.do(ctx, ctlMsg{Op: "init", Init: init}); err != nil {
			return fmt.Errorf("worker %d: creating %s: %w", p.index, w.kind, err)
		}
		w.procs = append(w.procs, p)
	}
	w.clock.sync = f.setClock
	return nil
}

// startWorkers runs this binary n times as a worker. Their output goes to this process's stderr.
func (f *fleet) startWorkers(n int) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("-spawn: finding this program to run it as workers: %w", err)
	}
	for i := range n {
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %s %d", workerEnv, f.ctl.Addr(), f.token, i))
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("starting worker %d: %w", i, err)
		}
		exited := make(chan struct{})
		go func() {
			defer close(exited)
			_ = cmd.Wait()
		}()
		f.cmds, f.exited = append(f.cmds, cmd), append(f.exited, exited)
	}
	return nil
}

// accept waits for the n workers to connect and say who they are, and orders them by index.
func (f *fleet) accept(ctx context.Context, n int, now func() time.Time) error {
	deadline := time.Now().Add(workerStart)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = f.ctl.(*net.TCPListener).SetDeadline(deadline)
	procs := make([]*remoteProc, n)
	for range n {
		conn, err := f.ctl.Accept()
		if err != nil {
			return fmt.Errorf("waiting for the worker processes to connect: %w", err)
		}
		_ = conn.SetReadDeadline(deadline)
		dec := json.NewDecoder(bufio.NewReader(conn))
		var h hello
		if err := dec.Decode(&h); err != nil || h.Token != f.token || h.Worker < 0 || h.Worker >= n || procs[h.Worker] != nil {
			_ = conn.Close()
			return fmt.Errorf("a connection to the control port is not one of the workers (%v)", err)
		}
		_ = conn.SetReadDeadline(time.Time{})
		procs[h.Worker] = newRemoteProc(h.Worker, conn, dec, now)
		f.procs = append(f.procs, procs[h.Worker]) // in accept order, to close them all on an error
	}
	f.procs = procs
	return nil
}

// setClock moves every worker's copy of the simulated clock to now.
func (f *fleet) setClock(ctx context.Context, now time.Time) error {
	return f.broadcast(ctx, ctlMsg{Op: "clock", Now: now})
}

// setFrozen freezes (true) or heals (false) every worker's path to Redis.
func (f *fleet) setFrozen(ctx context.Context, frozen bool) error {
	op := "heal"
	if frozen {
		op = "freeze"
	}
	return f.broadcast(ctx, ctlMsg{Op: op})
}

// broadcast sends m to every worker, and returns the first failure.
func (f *fleet) broadcast(ctx context.Context, m ctlMsg) error {
	for _, p := range f.procs {
		if _, err := p.do(ctx, m); err != nil {
			return fmt.Errorf("worker %d: %s: %w", p.index, m.Op, err)
		}
	}
	return nil
}

// close ends the control connections, which makes every worker exit; waits for each process (killing it after
// closeWithin if it has not exited); then stops the servers. Call it after closing the processes (their
// implementations may still need the database).
func (f *fleet) close(closeWithin time.Duration) []string {
	var problems []string
	if f.ctl != nil {
		_ = f.ctl.Close() // a worker not yet accepted sees its connection refused, and exits
	}
	for _, p := range f.procs {
		if p != nil {
			_ = p.conn.Close()
		}
	}
	for i, cmd := range f.cmds {
		t := time.NewTimer(closeWithin)
		select {
		case <-f.exited[i]:
		case <-t.C:
			_ = cmd.Process.Kill()
			<-f.exited[i]
			problems = append(problems, fmt.Sprintf("worker %d: still running %v after its connection closed: killed", i, closeWithin))
		}
		t.Stop()
	}
	for _, p := range f.procs {
		if p != nil {
			<-p.dead
		}
	}
	if f.db != nil {
		f.db.close()
	}
	return problems
}
