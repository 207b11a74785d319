// Package browser_test drives m9m's console in a real Chromium (Debian's
// package, found on PATH; chromedp downloads nothing) against the real
// server, Postgres and Redis. One browser serves the whole package; each
// scenario gets its own tab.
package browser_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	httpapi "github.com/m9m/auth/adapter/http"
	"github.com/m9m/auth/test/harness"
)

// chromiumNames are the executables tried on PATH, Debian's first.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

var (
	browserOnce   sync.Once
	browserCtx    context.Context
	browserErr    error
	browserCancel context.CancelFunc
)

func TestMain(m *testing.M) {
	code := m.Run()
	if browserCancel != nil {
		browserCancel()
	}
	os.Exit(code)
}

// browser returns the package's one Chromium, started on first use with a
// fresh profile. Without Chromium the test fails, saying how to install it.
func browser(t *testing.T) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("browser tests drive Chromium; not run under -short")
	}
	browserOnce.Do(func() {
		var path string
		for _, n := range chromiumNames {
			if p, err := exec.LookPath(n); err == nil {
				path = p
				break
			}
		}
		if path == "" {
			browserErr = fmt.Errorf("no Chromium on PATH (tried %v): install it with `apt-get install -y chromium` (make test does this through scripts/services.sh)", chromiumNames)
			return
		}
		dir, err := os.MkdirTemp("", "m9m-chromium-")
		if err != nil {
			browserErr = err
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path),
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("no-first-run", true),
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.UserDataDir(dir),
			chromedp.WindowSize(1100, 760),
		)
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancelCtx := chromedp.NewContext(alloc)
		browserCancel = func() {
			cancelCtx()
			cancelAlloc()
			_ = os.RemoveAll(dir)
		}
		if err := chromedp.Do(ctx); err != nil {
			browserErr = fmt.Errorf("launch %s: %w (install Chromium with `apt-get install -y chromium`)", path, err)
			return
		}
		browserCtx = ctx
	})
	if browserErr != nil {
		t.Fatalf("browser: %v", browserErr)
	}
	return browserCtx
}

// tab is one browser tab and what its pages reported.
type tab struct {
	t   *testing.T
	ctx context.Context

	mu       sync.Mutex
	messages []chromedp.ConsoleMessage
	// expected are answers a test provoked on purpose, as "status of N"
	// and the URL they came from: the browser notes them as errors.
	expected []expectedAnswer
}

type expectedAnswer struct{ status, url string }

// expectAnswer tells problems that the browser's note of status from url
// is the test's doing, not the console's.
func (b *tab) expectAnswer(status int, url string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expected = append(b.expected, expectedAnswer{fmt.Sprintf("status of %d", status), url})
}

// newTab opens a tab (in its own cookie jar when isolated) that records
// the console messages, exceptions and CSP violations of its pages.
func newTab(t *testing.T, isolated bool) *tab {
	t.Helper()
	var opts []chromedp.ContextOption
	if isolated {
		opts = append(opts, chromedp.WithNewBrowserContext())
	}
	ctx, cancel := chromedp.NewContext(browser(t), opts...)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	tb := &tab{t: t, ctx: ctx}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			tb.mu.Lock()
			tb.messages = append(tb.messages, m)
			tb.mu.Unlock()
		}
	}()
	// Reported by the page itself too, in case the log misses one.
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.__violations = []; document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(e.violatedDirective + " " + e.blockedURI));`,
	}); err != nil {
		t.Fatalf("install violation listener: %v", err)
	}
	return tb
}

func (b *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// waitJS waits until expr is truthy in the page.
func (b *tab) waitJS(expr string) {
	b.t.Helper()
	b.do(chromedp.Steps(func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(10*time.Second))(ctx, t)
		if err != nil {
			return chromedp.Void{}, fmt.Errorf("waiting for %s: %w", expr, err)
		}
		return chromedp.Void{}, nil
	}))
}

func evalJS[T any](b *tab, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func sel(testid string) chromedp.CSS { return chromedp.CSS(`[data-testid="` + testid + `"]`) }

func (b *tab) click(testid string)          { b.t.Helper(); b.do(chromedp.Click(sel(testid))) }
func (b *tab) typeInto(testid, text string) { b.t.Helper(); b.do(chromedp.SendKeys(sel(testid), text)) }
func (b *tab) count(css string) int {
	b.t.Helper()
	return evalJS[int](b, `document.querySelectorAll('`+css+`').length`)
}

func (b *tab) textOf(testid string) string {
	b.t.Helper()
	return evalJS[string](b, `document.querySelector('[data-testid="`+testid+`"]')?.textContent ?? ""`)
}

func (b *tab) visible(id string) bool {
	b.t.Helper()
	return evalJS[bool](b, `!document.getElementById('`+id+`').hidden`)
}

func (b *tab) waitVisible(id string) {
	b.t.Helper()
	b.waitJS(`!document.getElementById('` + id + `').hidden`)
}

func (b *tab) waitRows(testid string, n int) {
	b.t.Helper()
	b.waitJS(fmt.Sprintf(`document.querySelectorAll('[data-testid="%s"]').length === %d`, testid, n))
}
func (b *tab) navigate(url string) { b.t.Helper(); b.do(chromedp.Navigate(url)) }

// startNavigation navigates without waiting for a load event: for a page
// that navigates away by itself while loading (a form it submits).
func (b *tab) startNavigation(url string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, page.Navigate, page.NavigateParams{URL: url}); err != nil {
		b.t.Fatalf("navigate to %s: %v", url, err)
	}
}

func (b *tab) signIn(username, password string) {
	b.t.Helper()
	b.waitVisible("signin")
	evalJS[bool](b, `(() => { for (const id of ["login-username", "login-password"]) document.getElementById(id).value = ""; return true; })()`)
	b.typeInto("login-username", username)
	b.typeInto("login-password", password)
	b.click("login-submit")
}

// screenshotEnv makes the run rewrite the README's screenshots in docs/.
// Without it they go to a temporary directory: every run's pictures differ
// (names, times, keys), and committed images rewritten by every `make
// test` would conflict between branches.
const screenshotEnv = "M9M_SCREENSHOTS"

// screenshot captures the viewport as <name>.png: into docs/ (shown in the
// README) with M9M_SCREENSHOTS=1, else into the test's temporary directory.
func (b *tab) screenshot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if len(png) < 1000 || string(png[1:4]) != "PNG" {
		b.t.Fatalf("screenshot %s is not a PNG image (%d bytes)", name, len(png))
	}
	dir := b.t.TempDir()
	if os.Getenv(screenshotEnv) == "1" {
		dir = filepath.Join("..", "..", "docs")
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil { //nolint:gosec // documentation images
		b.t.Fatalf("write screenshot: %v", err)
	}
}

// cookies returns the browser's cookies for url, as DevTools sees them.
func (b *tab) cookies(url string) []*network.Cookie {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	r, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{url}})
	if err != nil {
		b.t.Fatalf("get cookies: %v", err)
	}
	return r.Cookies
}

func (b *tab) sessionCookie(url string) *network.Cookie {
	b.t.Helper()
	for _, c := range b.cookies(url) {
		if c.Name == httpapi.SessionCookieName {
			return c
		}
	}
	return nil
}

// problems are the page errors, console errors and CSP violations seen so
// far, leaving out the browser's own note of an expected 401 answer.
func (b *tab) problems() []string {
	b.t.Helper()
	var out []string
	b.mu.Lock()
	for _, m := range b.messages {
		if m.Type != chromedp.ConsoleError && m.Type != chromedp.ConsoleException && m.Type != chromedp.ConsoleWarning {
			continue
		}
		if strings.Contains(m.Text, "status of 401") {
			continue // the console asking who is signed in before sign-in
		}
		if slices.ContainsFunc(b.expected, func(e expectedAnswer) bool { return strings.Contains(m.Text, e.status) && m.URL == e.url }) {
			continue
		}
		out = append(out, fmt.Sprintf("%s: %s (%s)", m.Type, m.Text, m.URL))
	}
	b.mu.Unlock()
	for _, v := range evalJS[[]string](b, `window.__violations || []`) {
		out = append(out, "CSP violation: "+v)
	}
	return out
}

// apiStatus sends a request from outside the browser.
func apiStatus(t *testing.T, s *harness.Server, method, path string, headers map[string]string) int {
	t.Helper()
	return s.DoRaw(t, harness.Req{Method: method, Path: path, Headers: headers}).Status
}

// logCount counts the server's access-log lines for path with status.
func logCount(s *harness.Server, path string, status int) int {
	n := 0
	for _, line := range strings.Split(s.Logs(), "\n") {
		var e struct {
			Msg    string `json:"msg"`
			Path   string `json:"path"`
			Status int    `json:"status"`
		}
		if json.Unmarshal([]byte(line), &e) == nil && e.Msg == "request" && e.Path == path && e.Status == status {
			n++
		}
	}
	return n
}

// waitLog waits until the server has answered path with one of statuses
// more often than before.
func waitLog(t *testing.T, s *harness.Server, path string, before int, statuses ...int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		n := 0
		for _, st := range statuses {
			n += logCount(s, path, st)
		}
		if n > before {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the server never answered %s with %v", path, statuses)
}

// startAttacker serves testdata (a hostile page) on another port of
// 127.0.0.1: same host as the app (same-site, another origin); opened as
// http://localhost:<port> it is another site altogether.
func startAttacker(t *testing.T) (port string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir("testdata")), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	_, port, _ = net.SplitHostPort(ln.Addr().String())
	return port
}
