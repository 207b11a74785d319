package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// worker performs one operation (one HTTP request, or one hash) and says
// whether it succeeded. Each connection has its own worker, so state such
// as a refresh token chain is never shared between connections.
type worker func(ctx context.Context) error

// scenario is one row of the table.
type scenario struct {
	name  string
	conns int
	// newWorker is called once per connection before the clock starts.
	newWorker func(ctx context.Context) (worker, error)
	// inProcess marks work done in this process rather than by the server
	// (its RSS is not the server's).
	inProcess bool
}

// result is one scenario's measurement. Only operations that completed
// before their slice's deadline count (those still running then are
// discarded, so slow operations do not stretch the measured time); the
// latencies are of successful operations, failures are counted in errs.
type result struct {
	name      string
	conns     int
	ok, errs  int64
	firstErr  string
	dur       time.Duration
	latencies []time.Duration // sorted once all slices have run
	peakRSS   int64           // bytes; 0 when unknown
	cpu       time.Duration   // CPU time the server (or, in process, this process) spent
	inProcess bool
}

// cpuPerOp is the CPU time spent per completed operation: unlike req/s it
// hardly depends on what else the shared machine is doing.
func (r result) cpuPerOp() time.Duration {
	if r.ok+r.errs == 0 {
		return 0
	}
	return r.cpu / time.Duration(r.ok+r.errs)
}

func (r result) rate() float64 {
	if r.dur <= 0 {
		return 0
	}
	return float64(r.ok) / r.dur.Seconds()
}

func (r result) pct(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	return r.latencies[int(float64(len(r.latencies)-1)*p)]
}

// add folds one slice into the scenario's total.
func (r *result) add(s result) {
	r.ok += s.ok
	r.errs += s.errs
	r.dur += s.dur
	r.latencies = append(r.latencies, s.latencies...)
	r.peakRSS = max(r.peakRSS, s.peakRSS)
	r.cpu += s.cpu
	if r.firstErr == "" {
		r.firstErr = s.firstErr
	}
}

// settle is the pause between slices, so one scenario's backlog (GC,
// background flushes) is not billed to the next.
const settle = 250 * time.Millisecond

// runAll sets up every selected scenario's connections, then runs the
// scenarios round-robin, -rounds times each for -duration/-rounds. Drifts in
// the machine's background load (it is shared) then touch every scenario
// alike instead of whichever ran during them, which keeps the ratios to
// /health honest. A scenario that cannot be set up is reported as failed;
// the others still run.
func runAll(ctx context.Context, all []scenario, want map[string]bool) []result {
	type live struct {
		sc      scenario
		workers []worker
		total   *result
	}
	var order []*result
	var ls []live
	for _, sc := range all {
		if len(want) > 0 && !want[sc.name] {
			continue
		}
		total := &result{name: sc.name, conns: sc.conns, inProcess: sc.inProcess}
		order = append(order, total)
		ws, err := sc.workers(ctx)
		if err != nil {
			fmt.Fprintf(os.Stderr, "load: %s: %v\n", sc.name, err)
			total.errs, total.firstErr = 1, err.Error()
			continue
		}
		ls = append(ls, live{sc: sc, workers: ws, total: total})
	}
	slice := *duration / time.Duration(*rounds)
	for range *rounds {
		for _, l := range ls {
			l.total.add(l.sc.slice(ctx, l.workers, slice))
			time.Sleep(settle)
		}
	}
	out := make([]result, 0, len(order))
	for _, r := range order {
		slices.Sort(r.latencies)
		out = append(out, *r)
	}
	return out
}

// slice drives sc's workers for d. Each loop stops at the deadline;
// requests still running then are ended requestGrace later by their context.
func (sc scenario) slice(ctx context.Context, workers []worker, d time.Duration) result {
	rss := startRSS(sc.inProcess)
	cpu0 := cpuTime(sc.inProcess)
	start := time.Now()
	deadline := start.Add(d)
	runCtx, cancel := context.WithDeadline(ctx, deadline.Add(requestGrace))
	defer cancel()
	// CPU is read at the deadline, as operations are counted: the work of
	// those still running then is neither.
	cpuAtDeadline := make(chan time.Duration, 1)
	stopCPU := time.AfterFunc(d, func() { cpuAtDeadline <- cpuTime(sc.inProcess) })
	defer stopCPU.Stop()

	var ok, errs atomic.Int64
	var firstErr sync.Once
	var firstMsg string
	lat := make([][]time.Duration, len(workers))
	var wg sync.WaitGroup
	for i, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && runCtx.Err() == nil {
				t0 := time.Now()
				err := w(runCtx)
				end := time.Now()
				switch {
				case end.After(deadline):
					// Finished after the slice: not part of its measurement.
				case err != nil:
					errs.Add(1)
					firstErr.Do(func() { firstMsg = err.Error() })
				default:
					lat[i] = append(lat[i], end.Sub(t0))
					ok.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return result{
		dur: d, ok: ok.Load(), errs: errs.Load(), firstErr: firstMsg,
		latencies: slices.Concat(lat...), peakRSS: rss.stop(), cpu: <-cpuAtDeadline - cpu0,
	}
}

// workers makes one worker per connection, concurrently (a refresh worker
// logs in, which costs a password hash).
func (sc scenario) workers(ctx context.Context) ([]worker, error) {
	ws := make([]worker, sc.conns)
	errs := make([]error, sc.conns)
	var wg sync.WaitGroup
	for i := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ws[i], errs[i] = sc.newWorker(ctx)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("setting up a connection: %w", err)
		}
	}
	return ws, nil
}

// rssProbe measures the server's peak resident set during one scenario:
// it resets the kernel's high-water mark (VmHWM) at the start when allowed
// to, and also samples VmRSS every 10 ms as a fallback.
type rssProbe struct {
	done    chan struct{}
	peak    chan int64
	hwmOK   bool
	enabled bool
}

func startRSS(inProcess bool) *rssProbe {
	p := &rssProbe{done: make(chan struct{}), peak: make(chan int64, 1), enabled: *pid > 0 && !inProcess}
	if !p.enabled {
		return p
	}
	// "5" resets the peak RSS (Linux ≥ 4.0); it needs the same rights as ptrace.
	p.hwmOK = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", *pid), []byte("5"), 0) == nil
	go func() {
		var peak int64
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			if v := procStatus("VmRSS:"); v > peak {
				peak = v
			}
			select {
			case <-p.done:
				p.peak <- peak
				return
			case <-t.C:
			}
		}
	}()
	return p
}

// stop returns the peak in bytes (0 when not measured).
func (p *rssProbe) stop() int64 {
	if !p.enabled {
		return 0
	}
	close(p.done)
	peak := <-p.peak
	if p.hwmOK {
		peak = max(peak, procStatus("VmHWM:"))
	}
	return peak
}

// procStatus reads one "kB" field of the server's /proc status, in bytes.
func procStatus(field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", *pid))
	if err != nil {
		return 0
	}
	return statusBytes(string(b), field)
}

// statusBytes finds field ("VmRSS:") in a /proc/<pid>/status text and
// returns its value in bytes (0 when absent or malformed).
func statusBytes(status, field string) int64 {
	for _, line := range strings.Split(status, "\n") {
		if !strings.HasPrefix(line, field) {
			continue
		}
		f := strings.Fields(line[len(field):])
		if len(f) != 2 || f[1] != "kB" {
			return 0
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || kb < 0 {
			return 0
		}
		return kb * 1024
	}
	return 0
}

// clockTick is the unit of utime and stime in /proc/<pid>/stat (USER_HZ,
// 100 on every Linux this runs on).
const clockTick = 10 * time.Millisecond

// cpuTime is the user plus system CPU time of the server, or of this process
// when inProcess (0 when unknown).
func cpuTime(inProcess bool) time.Duration {
	path := "/proc/self/stat"
	if !inProcess {
		if *pid <= 0 {
			return 0
		}
		path = fmt.Sprintf("/proc/%d/stat", *pid)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return statCPU(string(b))
}

// statCPU returns utime+stime from a /proc/<pid>/stat line (0 when
// malformed). The command name, field 2, is in parentheses and may itself
// contain spaces and parentheses, so fields are counted from the last ')':
// state is field 3, utime field 14 and stime field 15.
func statCPU(stat string) time.Duration {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0
	}
	user, err1 := strconv.ParseInt(f[11], 10, 64)
	sys, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil || user < 0 || sys < 0 {
		return 0
	}
	return time.Duration(user+sys) * clockTick
}
