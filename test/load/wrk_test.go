package main

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	testToken = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJlLV9-"
	testKey   = "m9m_sk_AbCdEfGhIjKlMnOpQrStUvWxYz012345abc123"
)

func TestLuaScriptSetsTheHeaderAndPrintsTheFigures(t *testing.T) {
	s, err := luaScript(wrkScenario{name: "jwt", path: "/api/v1/auth/me", header: "Authorization", value: "Bearer " + testToken})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`wrk.method = "GET"`,
		`wrk.headers["Authorization"] = "Bearer ` + testToken + `"`,
		"function done(summary, latency, requests)",
		doneMarker + " requests=%d duration_us=%d",
		"latency:percentile(99)",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("script lacks %q:\n%s", want, s)
		}
	}
	s, err = luaScript(wrkScenario{name: "health", path: "/health"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s, "wrk.headers") {
		t.Errorf("a scenario without a header sets one:\n%s", s)
	}
}

func TestLuaScriptRefusesWhatCouldBreakOutOfTheString(t *testing.T) {
	for _, v := range []string{
		`Bearer a"b`, "Bearer a\nb", `Bearer a\b`, "Bearer a]]b", "", "Bearer é", strings.Repeat("a", maxCredential+1),
	} {
		_, err := luaScript(wrkScenario{name: "x", header: "X-API-Key", value: v})
		if err == nil {
			t.Errorf("value %q accepted", v)
			continue
		}
		if v != "" && strings.Contains(err.Error(), v) {
			t.Errorf("the error quotes the credential: %v", err)
		}
	}
	if _, err := luaScript(wrkScenario{name: "x", header: `X"]`, value: testKey}); err == nil {
		t.Error("a header name with quotes was accepted")
	}
}

// wrkStdout is what wrk 4.1 prints with --latency and the generated done().
const wrkStdout = `Running 5s test @ http://127.0.0.1:18080/api/v1/auth/me
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.81ms    1.10ms  21.01ms   80.11%
    Req/Sec     9.01k   611.48    10.29k    71.00%
  Latency Distribution
     50%    1.62ms
     75%    2.27ms
     90%    3.01ms
     99%    5.51ms
  89702 requests in 5.00s, 40.16MB read
Requests/sec:  17935.21
Transfer/sec:      8.03MB
m9m-wrk: requests=89702 duration_us=5001425 connect=0 read=0 write=0 status=3 timeout=1 p50_us=1620 p99_us=5510 max_us=21010
`

func TestParseWrk(t *testing.T) {
	o, err := parseWrk(wrkStdout)
	if err != nil {
		t.Fatal(err)
	}
	if o.requests != 89702 || o.duration != 5001425*time.Microsecond || o.p50 != 1620*time.Microsecond ||
		o.p99 != 5510*time.Microsecond || o.maxLatency != 21010*time.Microsecond || o.status != 3 || o.timeout != 1 {
		t.Fatalf("parsed %+v", o)
	}
	if o.errs() != 4 {
		t.Errorf("errs = %d, want 4 (3 status + 1 timeout)", o.errs())
	}
	if r := o.rate(); r < 17935 || r > 17936 {
		t.Errorf("rate = %.2f, want wrk's 17935.21", r)
	}
	for name, out := range map[string]string{
		"no done line":  "Running 5s test @ http://127.0.0.1:1/\n",
		"missing field": "m9m-wrk: requests=1 duration_us=1\n",
		"bad value":     strings.Replace(wrkStdout, "requests=89702", "requests=x", 1),
		"negative":      strings.Replace(wrkStdout, "status=3", "status=-3", 1),
		"not key=value": strings.Replace(wrkStdout, "status=3", "status", 1),
	} {
		if _, err := parseWrk(out); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

func TestWrkSeconds(t *testing.T) {
	for d, want := range map[time.Duration]int{
		500 * time.Millisecond: 1, time.Second: 1, 5 * time.Second: 5, 5500 * time.Millisecond: 6, 0: 1,
	} {
		if got := wrkSeconds(d); got != want {
			t.Errorf("wrkSeconds(%v) = %d, want %d", d, got, want)
		}
	}
}

// fakeWrk is a stand-in for wrk that records what it was given: its
// arguments, its environment, the script's mode and text.
const fakeWrk = `#!/bin/sh
out=$(dirname "$0")
printf '%s\n' "$@" > "$out/argv"
env > "$out/env"
script=""
while [ $# -gt 0 ]; do
  if [ "$1" = "-s" ]; then script=$2; fi
  shift
done
stat -c %a "$script" > "$out/mode"
stat -c %a "$(dirname "$script")" > "$out/dirmode"
cp "$script" "$out/script"
echo "$script" > "$out/path"
echo "Running 1s test"
echo "m9m-wrk: requests=100 duration_us=1000000 connect=0 read=0 write=0 status=0 timeout=0 p50_us=900 p99_us=4000 max_us=7000"
`

func TestRunWrkKeepsTheCredentialOffArgvAndRemovesTheScript(t *testing.T) {
	fake := t.TempDir()
	bin := filepath.Join(fake, "wrk")
	if err := os.WriteFile(bin, []byte(fakeWrk), 0o700); err != nil {
		t.Fatal(err)
	}
	setFlags(t, "http://127.0.0.1:18080")
	oldBin, oldScratch := *wrkBin, wrkScratch
	t.Cleanup(func() { *wrkBin, wrkScratch = oldBin, oldScratch })
	*wrkBin = bin
	scratch, err := os.MkdirTemp(t.TempDir(), "m9m-wrk-")
	if err != nil {
		t.Fatal(err)
	}
	wrkScratch = scratch
	t.Setenv("M9M_LOAD_PASSWORD", "the-login-password")

	o, err := runWrk(context.Background(), wrkScenario{name: nameKeyMe, path: "/api/v1/auth/me", header: "X-API-Key", value: testKey}, 1500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if o.requests != 100 || o.p99 != 4*time.Millisecond {
		t.Errorf("output = %+v", o)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(fake, name))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	argv := read("argv")
	if strings.Contains(argv, testKey) {
		t.Errorf("the key is on wrk's argv:\n%s", argv)
	}
	for _, want := range []string{"-t\n2", "-c\n32", "-d\n2s", "--latency", "http://127.0.0.1:18080/api/v1/auth/me"} {
		if !strings.Contains(argv, want) {
			t.Errorf("argv lacks %q:\n%s", want, argv)
		}
	}
	if env := read("env"); strings.Contains(env, "the-login-password") || strings.Contains(env, "M9M_LOAD_PASSWORD") {
		t.Errorf("wrk inherited the password:\n%s", env)
	}
	if m := read("mode"); m != "600" {
		t.Errorf("script mode %s, want 600", m)
	}
	if !strings.Contains(read("script"), `wrk.headers["X-API-Key"] = "`+testKey+`"`) {
		t.Errorf("the script does not set the key:\n%s", read("script"))
	}
	if _, err := os.Stat(read("path")); !os.IsNotExist(err) {
		t.Errorf("the script is still there after the run: %v", err)
	}
}

func TestRunWrkReportsAFailingWrk(t *testing.T) {
	fake := t.TempDir()
	bin := filepath.Join(fake, "wrk")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho 'unable to connect to 127.0.0.1:1 Connection refused' >&2\nexit 1\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	setFlags(t, "http://127.0.0.1:1")
	oldBin, oldScratch := *wrkBin, wrkScratch
	t.Cleanup(func() { *wrkBin, wrkScratch = oldBin, oldScratch })
	*wrkBin, wrkScratch = bin, t.TempDir()
	_, err := runWrk(context.Background(), wrkScenario{name: nameHealth, path: "/health"}, time.Second)
	if err == nil || !strings.Contains(err.Error(), "Connection refused") {
		t.Fatalf("err = %v, want wrk's own message", err)
	}
	left, _ := os.ReadDir(wrkScratch)
	if len(left) != 0 {
		t.Errorf("scripts left behind: %v", left)
	}
}

// run makes a wrkResult of req/s, p99 and counts.
func run(name string, rate float64, p99 time.Duration, redis, pg int64, counted bool) wrkResult {
	const secs = 5
	return wrkResult{
		name:      name,
		out:       wrkOutput{requests: int64(rate * secs), duration: secs * time.Second, p99: p99},
		redisCmds: redis, pgXacts: pg, redis: counted, pg: counted,
	}
}

func met(rows []goalRow) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.met)
	}
	return out
}

func TestGoalRows(t *testing.T) {
	setFlags(t, "http://127.0.0.1:1")
	ms := time.Millisecond
	tests := []struct {
		name string
		rs   []wrkResult
		want []string // met: JWT ratio, key ratio, Redis, Postgres, p99
	}{
		{"today's main, multi-instance", []wrkResult{
			{name: "idle (no requests)", idle: 5 * time.Second, redisCmds: 10, redis: true, pg: true},
			run(nameHealth, 50000, 3*ms, 0, 0, true),
			run(nameJWTMe, 18000, 9*ms, 90000*5, 0, true),
			run(nameKeyMe, 11000, 12*ms, 55000, 55000, true),
		}, []string{"no", "no", "no", "no", "no"}},
		{"the goal, exactly at its bounds", []wrkResult{
			run(nameHealth, 10000, 3*ms, 0, 0, true),
			run(nameJWTMe, 6000, 5*ms, 1499, 0, true), // 1499 / 30000 < 0.05
			run(nameKeyMe, 6000, 5*ms, 0, 1499, true),
		}, []string{"yes", "yes", "yes", "yes", "yes"}},
		{"0.05 per request is not below 0.05", []wrkResult{
			run(nameHealth, 10000, 3*ms, 0, 0, true),
			run(nameJWTMe, 7000, 4*ms, 1750, 0, true), // 1750 / 35000 = 0.05
			run(nameKeyMe, 7000, 4*ms, 0, 1750, true),
		}, []string{"yes", "yes", "no", "no", "yes"}},
		{"one slow key p99 misses", []wrkResult{
			run(nameHealth, 10000, 3*ms, 0, 0, true),
			run(nameJWTMe, 7000, 4*ms, 0, 0, true),
			run(nameKeyMe, 7000, 5*ms+time.Microsecond, 0, 0, true),
		}, []string{"yes", "yes", "yes", "yes", "no"}},
		{"embedded: no stores to count", []wrkResult{
			run(nameHealth, 10000, 3*ms, 0, 0, false),
			run(nameJWTMe, 7000, 4*ms, 0, 0, false),
			run(nameKeyMe, 5000, 4*ms, 0, 0, false),
		}, []string{"yes", "no", "n/a", "n/a", "yes"}},
	}
	for _, tc := range tests {
		if got := met(goalRows(tc.rs)); strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: met = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestGoalRowsFailEverythingAScenarioWithErrorsTouches(t *testing.T) {
	setFlags(t, "http://127.0.0.1:1")
	key := run(nameKeyMe, 30000, time.Millisecond, 0, 0, true)
	key.out.status = 1 // one 401 among fast answers: the figures are not the key path's
	rs := []wrkResult{
		run(nameHealth, 10000, time.Millisecond, 0, 0, true),
		run(nameJWTMe, 9000, time.Millisecond, 0, 0, true),
		key,
	}
	if got := met(goalRows(rs)); strings.Join(got, ",") != "yes,no,no,no,no" {
		t.Errorf("met = %v", got)
	}
	health := rs[0]
	health.err = context.DeadlineExceeded
	if got := met(goalRows([]wrkResult{health, rs[1]})); strings.Join(got, ",") != "no,no,no,no,no" {
		t.Errorf("without a usable /health and no key run: met = %v", got)
	}
}

func TestGoalRowsShowTheFigures(t *testing.T) {
	setFlags(t, "http://127.0.0.1:1")
	rows := goalRows([]wrkResult{
		run(nameHealth, 50000, time.Millisecond, 0, 0, true),
		run(nameJWTMe, 20000, 9500*time.Microsecond, 500000, 0, true),
		run(nameKeyMe, 10000, 12*time.Millisecond, 50000, 50000, true),
	})
	want := []string{"0.40 (20000 req/s vs 50000)", "0.20 (10000 req/s vs 50000)", "5.000 / 1.000", "0.000 / 1.000", "9.5 ms / 12 ms"}
	for i, w := range want {
		if rows[i].result != w {
			t.Errorf("row %d (%s) = %q, want %q", i, rows[i].measure, rows[i].result, w)
		}
	}
	if rows[4].measure != "p99 at 32 connections (JWT, API key)" || rows[4].goal != "≤ 5 ms" {
		t.Errorf("p99 row = %+v", rows[4])
	}
}

func TestNamesAndWithout(t *testing.T) {
	all := []scenario{{name: nameHealth}, {name: nameJWTMe}, {name: nameKeyMe}, {name: nameLogin}}
	got := without(all, names(" "+nameJWTMe+","+nameKeyMe+", ,"))
	if len(got) != 2 || got[0].name != nameHealth || got[1].name != nameLogin {
		t.Errorf("without = %+v", got)
	}
	if len(names("")) != 0 || len(without(all, names(""))) != 4 {
		t.Error("an empty list must skip nothing")
	}
}

func TestDatabaseURL(t *testing.T) {
	got, err := databaseURL("postgres://postgres:pw@127.0.0.1:5432/postgres?sslmode=disable", "m9m_bench_1")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(got)
	if u.Path != "/m9m_bench_1" || u.Query().Get("sslmode") != "disable" || u.User.Username() != "postgres" {
		t.Errorf("databaseURL = %s", got)
	}
	if got, _ := databaseURL("postgres://postgres@localhost:5432", "d"); !strings.Contains(got, "sslmode=disable") {
		t.Errorf("no sslmode added: %s", got)
	}
	for _, bad := range []string{"postgres://u:secretpw@10.0.0.1:5432/x", "mysql://127.0.0.1/x", "://secretpw", ""} {
		_, err := databaseURL(bad, "d")
		if err == nil {
			t.Errorf("%q accepted", bad)
		} else if strings.Contains(err.Error(), "secretpw") {
			t.Errorf("the error quotes the URL: %v", err)
		}
	}
}

func TestCountersRefuseNonLoopback(t *testing.T) {
	if _, err := dialRedisCounter(context.Background(), "192.0.2.1:6379"); err == nil {
		t.Error("a non-loopback Redis was accepted")
	}
	if _, err := dialRedisCounter(context.Background(), "no-port"); err == nil {
		t.Error("an address without a port was accepted")
	}
}

func TestInfoField(t *testing.T) {
	info := "# Stats\r\ntotal_connections_received:12\r\ntotal_commands_processed:4711\r\ninstantaneous_ops_per_sec:3\r\n"
	if n, err := infoField(info, "total_commands_processed"); err != nil || n != 4711 {
		t.Errorf("infoField = %d, %v", n, err)
	}
	if _, err := infoField(info, "total_net_input_bytes"); err == nil {
		t.Error("a missing field was found")
	}
}

func TestCountCheckVerdicts(t *testing.T) {
	good := countCheckResult{infoDelta: 1, scriptDelta: 4, pgLate: checkStatements, redis: true, pg: true}
	if !good.ok() {
		t.Errorf("%+v judged wrong", good)
	}
	for _, bad := range []countCheckResult{
		{infoDelta: 2, scriptDelta: 4, pgLate: checkStatements, redis: true, pg: true},
		{infoDelta: 1, scriptDelta: 1, pgLate: checkStatements, redis: true, pg: true},
		{infoDelta: 1, scriptDelta: 4, pgLate: checkStatements - 1, redis: true, pg: true},
		{infoDelta: 1, scriptDelta: 4, pgLate: 0, redis: true, pg: true},
		{infoDelta: 1, scriptDelta: 4, pgLate: checkStatements + catchUpSlack + 1, redis: true, pg: true},
	} {
		if bad.ok() {
			t.Errorf("%+v judged ok", bad)
		}
		if !strings.Contains(strings.Join(bad.lines(pgSettle), "\n"), "WRONG") {
			t.Errorf("%+v: lines do not say it is wrong: %v", bad, bad.lines(pgSettle))
		}
	}
	caughtUp := countCheckResult{pgLate: checkStatements + 2, pg: true}
	if l := caughtUp.lines(pgSettle); !caughtUp.ok() || !strings.Contains(l[0], "+2: empty transactions") {
		t.Errorf("two catch-up transactions: ok %v, lines %v", caughtUp.ok(), l)
	}
	if onlyRedis := (countCheckResult{infoDelta: 1, scriptDelta: 4, redis: true}); !onlyRedis.ok() || len(onlyRedis.lines(pgSettle)) != 1 {
		t.Errorf("a Redis-only check: ok %v, lines %v", onlyRedis.ok(), onlyRedis.lines(pgSettle))
	}
}
