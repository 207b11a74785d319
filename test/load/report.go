package main

import (
	"fmt"
	"os"
	"time"
)

// Targets of issue 7, on the 2-core machine the load generator shares.
const (
	minAuthRatio      = 0.40 // JWT and API-key /me, of /health
	minWorkflowsRatio = 0.25 // workflows list, of /health
	maxJWTMeP99       = 6 * time.Millisecond
	minLoginOfHash    = 0.90                 // login req/s, of the hash's ops/s
	maxLoginOverhead  = 2 * time.Millisecond // login p50 − hash p50
	maxFloodRSS       = 150 << 20            // bytes, during the login flood
)

func find(rs []result, name string) (result, bool) {
	for _, r := range rs {
		if r.name == name {
			return r, true
		}
	}
	return result{}, false
}

func printTable(rs []result) {
	health, hasHealth := find(rs, nameHealth)
	fmt.Println("| scenario | conns | req/s | p50 | p99 | errors | peak RSS | ratio to /health | CPU/req |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rs {
		ratio := "-"
		if hasHealth && health.rate() > 0 && !r.inProcess {
			ratio = fmt.Sprintf("%.2f", r.rate()/health.rate())
		}
		rss := "-"
		if r.peakRSS > 0 {
			rss = fmt.Sprintf("%.1f MiB", float64(r.peakRSS)/(1<<20))
		}
		cpu := "-"
		if r.cpu > 0 {
			cpu = fmt.Sprintf("%.0f µs", float64(r.cpuPerOp().Nanoseconds())/1000)
		}
		fmt.Printf("| %s | %d | %.0f | %s | %s | %d | %s | %s | %s |\n", r.name, r.conns, r.rate(),
			fmtDur(r.pct(0.50)), fmtDur(r.pct(0.99)), r.errs, rss, ratio, cpu)
	}
	fmt.Println()
	fmt.Println("req/s counts answers completed inside the measured time; p50/p99 are of successful answers;" +
		" peak RSS is the server's VmHWM, reset at each slice; CPU/req is the server's user+system CPU per request" +
		" (for the in-process rows, the load generator's own), 10 ms resolution.")
	for _, r := range rs {
		if r.errs > 0 {
			fmt.Fprintf(os.Stderr, "load: %s: %d errors, first: %s\n", r.name, r.errs, r.firstErr)
		}
	}
}

// target is one line of the verdict.
type target struct {
	what, want, got string
	met             bool
}

// printTargets judges the run against the targets, for those whose
// scenarios ran.
func printTargets(rs []result) {
	var ts []target
	ts = append(ts, ratioTargets(rs)...)
	ts = append(ts, loginTargets(rs)...)
	if r, ok := find(rs, nameJWTMe); ok {
		ts = append(ts, target{"p99 of JWT /me", "≤ " + fmtDur(maxJWTMeP99), fmtDur(r.pct(0.99)), r.pct(0.99) <= maxJWTMeP99 && r.errs == 0})
	}
	if r, ok := find(rs, nameFlood); ok && r.peakRSS > 0 {
		got := fmt.Sprintf("%.1f MiB", float64(r.peakRSS)/(1<<20))
		ts = append(ts, target{fmt.Sprintf("server peak RSS, login flood (%d conns)", r.conns), "≤ 150 MiB", got, r.peakRSS <= maxFloodRSS})
	}
	if len(ts) == 0 {
		return
	}
	fmt.Println()
	fmt.Println("| target | want | got | |")
	fmt.Println("|---|---:|---:|---|")
	for _, t := range ts {
		verdict := "met"
		if t.want == "-" {
			verdict = ""
		} else if !t.met {
			verdict = "**MISSED**"
		}
		fmt.Printf("| %s | %s | %s | %s |\n", t.what, t.want, t.got, verdict)
	}
}

func ratioTargets(rs []result) []target {
	health, ok := find(rs, nameHealth)
	if !ok || health.rate() == 0 {
		return nil
	}
	var ts []target
	for _, c := range []struct {
		name string
		min  float64
	}{{nameJWTMe, minAuthRatio}, {nameKeyMe, minAuthRatio}, {nameWorkflows, minWorkflowsRatio}} {
		if r, ok := find(rs, c.name); ok {
			ratio := r.rate() / health.rate()
			ts = append(ts, target{c.name + " ÷ /health", fmt.Sprintf("≥ %.2f", c.min), fmt.Sprintf("%.3f", ratio), ratio >= c.min && r.errs == 0})
		}
	}
	return ts
}

// loginTargets compare login with the hash alone at the same concurrency:
// throughput at 32 connections, and the latency login adds to one hash at
// the hasher's cap (at 32 connections each login waits behind ~16 others,
// which multiplies any per-login overhead; that difference is shown too,
// for information).
func loginTargets(rs []result) []target {
	var ts []target
	hash, okHash := find(rs, nameHash)
	login, okLogin := find(rs, nameLogin)
	if okHash && okLogin && hash.rate() > 0 {
		ratio := login.rate() / hash.rate()
		ts = append(ts,
			target{
				fmt.Sprintf("login req/s ÷ hash ops/s (%d conns)", login.conns), fmt.Sprintf("≥ %.2f", minLoginOfHash),
				fmt.Sprintf("%.3f (%.1f ÷ %.1f)", ratio, login.rate(), hash.rate()), ratio >= minLoginOfHash && login.errs == 0,
			},
			target{
				fmt.Sprintf("login p50 − hash p50 (%d conns, queued; information)", login.conns), "-",
				fmtDur(login.pct(0.50) - hash.pct(0.50)), true,
			})
	}
	hashCap, okHash := find(rs, nameHashCap)
	loginCap, okLogin := find(rs, nameLoginCap)
	if okHash && okLogin && hashCap.ok > 0 && loginCap.ok > 0 {
		over := loginCap.pct(0.50) - hashCap.pct(0.50)
		ts = append(ts, target{
			fmt.Sprintf("login p50 − hash p50 (%d conns = hasher cap)", loginCap.conns), "< " + fmtDur(maxLoginOverhead),
			fmt.Sprintf("%s (%s − %s)", fmtDur(over), fmtDur(loginCap.pct(0.50)), fmtDur(hashCap.pct(0.50))), over < maxLoginOverhead && loginCap.errs == 0,
		})
	}
	return ts
}

func fmtDur(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000)
}
