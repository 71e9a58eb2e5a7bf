package main

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"day45-thundering-herd/observability"
	reference "day45-thundering-herd/solutions/day45"
)

// metricsServer serves /metrics while the simulator runs (-metrics-addr): a Collector of every process of the
// reference (observability.Collector), labelled with its scenario and process. A scenario's processes stay
// registered after it ends (a closed protector still reports its counters), so that a scrape after the run's last
// scenario sees every one. The learner's protector has its own types and is not exported.
//
// The durations of the query histogram are on the simulated clock, the protectors' Config.Now, which stands still
// while requests run: every query lands in the first bucket. The counters are exact.
type metricsServer struct {
	reg  *prometheus.Registry
	srv  *http.Server
	addr string // where it listens: the port the system chose for a port of 0
	done chan struct{}
}

// startMetrics listens on addr and serves /metrics until close.
func startMetrics(addr string) (*metricsServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	m := &metricsServer{reg: prometheus.NewRegistry(), addr: ln.Addr().String(), done: make(chan struct{})}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	m.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		defer close(m.done)
		_ = m.srv.Serve(ln) // ErrServerClosed after close; Serve closes ln whatever it returns
	}()
	return m, nil
}

// register exports p, process proc of scenario, if it is a process of the reference. m may be nil: no -metrics-addr.
func (m *metricsServer) register(scenario string, proc int, p cacheImpl) error {
	if m == nil {
		return nil
	}
	ref, ok := p.(protectorImpl[reference.Data])
	if !ok {
		return nil
	}
	src, ok := ref.p.(observability.Source)
	if !ok {
		return nil
	}
	return m.reg.Register(observability.NewCollector(src, prometheus.Labels{"scenario": scenario, "process": strconv.Itoa(proc)}))
}

// close stops the server, letting a scrape in progress finish for up to a second, and waits for it.
func (m *metricsServer) close() {
	if m == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if m.srv.Shutdown(ctx) != nil {
		_ = m.srv.Close()
	}
	<-m.done
}
