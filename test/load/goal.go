package main

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// Issue 14's goal, on the 2-core machine wrk shares with the server.
const (
	goalRatio  = 0.60                 // JWT and API-key /me, of /health
	goalPerReq = 0.05                 // Redis commands, and Postgres queries, per request
	goalP99    = 5 * time.Millisecond // at 32 connections
)

func findWrk(rs []wrkResult, name string) (wrkResult, bool) {
	for _, r := range rs {
		if r.name == name && r.idle == 0 {
			return r, true
		}
	}
	return wrkResult{}, false
}

// usable says whether r's figures mean anything: it ran, every answer was
// a success, and it answered at all.
func (r wrkResult) usable() bool { return r.err == nil && r.out.errs() == 0 && r.out.requests > 0 }

// printWrkTable prints one row per run with its raw counts.
func printWrkTable(rs []wrkResult) {
	health, hasHealth := findWrk(rs, nameHealth)
	fmt.Println("| scenario | req/s | p50 | p99 | max | errors | Redis commands (per req) | Postgres transactions (per req) | server CPU/req | ÷ /health |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rs {
		if r.idle > 0 {
			perSec := func(n int64) string { return fmt.Sprintf("%d (%.1f/s)", n, float64(n)/r.idle.Seconds()) }
			redis, pg := "-", "-"
			if r.redis {
				redis = perSec(r.redisCmds)
			}
			if r.pg {
				// Its window is the idle time and the settle after it.
				pg = fmt.Sprintf("%d", r.pgXacts)
			}
			fmt.Printf("| %s, %s | - | - | - | - | - | %s | %s | - | - |\n", r.name, r.idle, redis, pg)
			continue
		}
		if r.err != nil {
			fmt.Printf("| %s | failed: see above | | | | | | | | |\n", r.name)
			continue
		}
		count := func(counted bool, n int64) string {
			if !counted {
				return "-"
			}
			return fmt.Sprintf("%d (%.3f)", n, r.perRequest(n))
		}
		ratio := "-"
		if hasHealth && health.usable() && health.out.rate() > 0 {
			ratio = fmt.Sprintf("%.2f", r.out.rate()/health.out.rate())
		}
		cpu := "-"
		if r.cpu > 0 && r.out.requests > 0 {
			cpu = fmt.Sprintf("%.0f µs", float64(r.cpu.Microseconds())/float64(r.out.requests))
		}
		fmt.Printf("| %s | %.0f | %s | %s | %s | %d | %s | %s | %s | %s |\n", r.name, r.out.rate(),
			fmtDur(r.out.p50), fmtDur(r.out.p99), fmtDur(r.out.maxLatency), r.out.errs(),
			count(r.redis, r.redisCmds), count(r.pg, r.pgXacts), cpu, ratio)
		if e := r.out; e.errs() > 0 {
			fmt.Fprintf(os.Stderr, "load: %s: %d errors: %d answers >= 400, %d timeouts, socket errors %d connect %d read %d write\n",
				r.name, e.errs(), e.status, e.timeout, e.connect, e.read, e.write)
		}
	}
	fmt.Println()
	fmt.Println("req/s = wrk's requests ÷ its run time; p50/p99/max from wrk's latency histogram; errors = answers ≥ 400," +
		" timeouts (2 s) and socket errors; server CPU/req = its user+system time over the run ÷ requests (10 ms resolution).")
}

// goalRow is one line of the goal table; met is computed, never typed.
type goalRow struct{ measure, result, goal, met string }

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "no"
}

// goalRows judges the runs against issue 14's goal.
func goalRows(rs []wrkResult) []goalRow {
	health, okH := findWrk(rs, nameHealth)
	jwt, okJ := findWrk(rs, nameJWTMe)
	key, okK := findWrk(rs, nameKeyMe)
	both := okJ && okK && jwt.usable() && key.usable()
	var rows []goalRow

	for _, c := range []struct {
		label string
		r     wrkResult
		ok    bool
	}{{"JWT /auth/me ÷ /health", jwt, okJ}, {"API-key /auth/me ÷ /health", key, okK}} {
		row := goalRow{measure: c.label, goal: fmt.Sprintf("≥ %.2f", goalRatio)}
		switch {
		case !c.ok || !okH:
			row.result, row.met = "not measured", "no"
		case !c.r.usable() || !health.usable() || health.out.rate() == 0:
			row.result, row.met = "not usable: errors (see above)", "no"
		default:
			ratio := c.r.out.rate() / health.out.rate()
			row.result = fmt.Sprintf("%.2f (%.0f req/s vs %.0f)", ratio, c.r.out.rate(), health.out.rate())
			row.met = yesNo(ratio >= goalRatio)
		}
		rows = append(rows, row)
	}

	perReq := func(label, store string, counted func(wrkResult) (int64, bool)) goalRow {
		row := goalRow{measure: label, goal: fmt.Sprintf("< %.2f", goalPerReq)}
		nj, cj := counted(jwt)
		nk, ck := counted(key)
		switch {
		case !both:
			row.result, row.met = "not measured (errors)", "no"
		case !cj || !ck:
			row.result, row.met = "none: no "+store+" in this mode", "n/a"
		default:
			pj, pk := jwt.perRequest(nj), key.perRequest(nk)
			row.result = fmt.Sprintf("%.3f / %.3f", pj, pk)
			row.met = yesNo(pj < goalPerReq && pk < goalPerReq)
		}
		return row
	}
	rows = append(rows,
		perReq("Redis commands / request (JWT, API key)", "Redis", func(r wrkResult) (int64, bool) { return r.redisCmds, r.redis }),
		perReq("Postgres queries / request (JWT, API key)", "Postgres", func(r wrkResult) (int64, bool) { return r.pgXacts, r.pg }))

	p99 := goalRow{measure: fmt.Sprintf("p99 at %d connections (JWT, API key)", *conc), goal: "≤ " + fmtMs(goalP99)}
	if both {
		p99.result = fmtMs(jwt.out.p99) + " / " + fmtMs(key.out.p99)
		p99.met = yesNo(jwt.out.p99 <= goalP99 && key.out.p99 <= goalP99)
	} else {
		p99.result, p99.met = "not measured (errors)", "no"
	}
	return append(rows, p99)
}

// fmtMs prints a latency as the goal states them.
func fmtMs(d time.Duration) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", float64(d.Microseconds())/1000), "0"), ".") + " ms"
}

func printGoal(mode string, rs []wrkResult) {
	title := "goal (issue 14)"
	if mode != "" {
		title += ", " + mode
	}
	fmt.Println(title + ":")
	fmt.Println()
	fmt.Println("| measure | result | goal | met |")
	fmt.Println("|---|---|---|---|")
	for _, g := range goalRows(rs) {
		fmt.Printf("| %s | %s | %s | %s |\n", g.measure, g.result, g.goal, g.met)
	}
	fmt.Println()
	fmt.Println("Postgres queries are counted as transactions (pg_stat_database xact_commit + xact_rollback):" +
		" each statement in autocommit is one, a transaction of several statements counts once.")
}
