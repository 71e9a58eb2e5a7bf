package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progress reports on stderr, never on stdout. On a terminal it redraws one line (\r) while a scenario runs and
// erases it at the end; elsewhere (a log, a pipe, a test) it prints one line per finished run.
type progress struct {
	w   io.Writer
	tty bool

	mu      sync.Mutex
	cur     *runner
	db      *fakeDB
	label   string
	started time.Time
	width   int // of the line on screen

	stop chan struct{}
	done chan struct{}
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w, tty: isTerminal(w)}
	if p.tty {
		p.stop, p.done = make(chan struct{}), make(chan struct{})
		go p.loop()
	}
	return p
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func (p *progress) begin(scenario string, kind implKind, r *runner, db *fakeDB) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cur, p.db, p.label, p.started = r, db, scenario+" / "+kind.label(), time.Now()
}

func (p *progress) end() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == nil {
		return
	}
	if p.tty {
		p.draw("")
	} else {
		fmt.Fprintf(p.w, "herd: %s: %d requests, %d DB queries, %.2fs\n",
			p.label, p.cur.sent.Load(), p.db.queries.Load(), time.Since(p.started).Seconds())
	}
	p.cur = nil
}

func (p *progress) loop() {
	defer close(p.done)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		p.mu.Lock()
		if r := p.cur; r != nil {
			p.draw(fmt.Sprintf("herd: %s  step %d/%d  %d/%d requests done  %d DB queries  %.1fs",
				p.label, r.step.Load(), r.numSteps.Load(), r.done.Load(), r.sent.Load(), p.db.queries.Load(),
				time.Since(p.started).Seconds()))
		}
		p.mu.Unlock()
	}
}

// draw replaces the line on screen with s. Call with p.mu held.
func (p *progress) draw(s string) {
	n := len([]rune(s))
	fmt.Fprintf(p.w, "\r%s%s\r", s, strings.Repeat(" ", max(p.width-n, 0)))
	p.width = n
}

func (p *progress) close() {
	if p.tty {
		close(p.stop)
		<-p.done
	}
}
