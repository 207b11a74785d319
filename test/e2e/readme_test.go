package e2e_test

import (
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/test/harness"
)

// credentialNames maps the OpenAPI security schemes to the README's words,
// in the order the authenticator chain tries them.
var credentialNames = []struct{ scheme, name string }{
	{"bearerAuth", "JWT"}, {"apiKeyAuth", "API key"}, {"basicAuth", "basic"},
}

// acceptedCredentials is what an operation's security requirement accepts,
// as the README writes it: "none" for a public operation, else the kinds.
func acceptedCredentials(doc *openapi3.T, op *openapi3.Operation) (string, []string) {
	reqs := doc.Security
	if op.Security != nil {
		reqs = *op.Security
	}
	var schemes []string
	for _, r := range reqs {
		for name := range r {
			schemes = append(schemes, name)
		}
	}
	if len(schemes) == 0 {
		return "none", nil
	}
	var words []string
	for _, c := range credentialNames {
		if slices.Contains(schemes, c.scheme) {
			words = append(words, c.name)
		}
	}
	return strings.Join(words, ", "), schemes
}

// readmeAPIRows parses the README's API table: "METHOD path" → credentials.
func readmeAPIRows(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(data)
	i := strings.Index(section, "\n## API\n")
	if i < 0 {
		t.Fatal("README has no ## API section")
	}
	section = section[i+1:]
	if j := strings.Index(section[3:], "\n## "); j >= 0 {
		section = section[:j+3]
	}
	spans := regexp.MustCompile("`([A-Z/]+) (/[^`]*)`")
	rows := map[string]string{}
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(line, " | ")
		if len(cells) < 3 {
			t.Fatalf("README API row has no credentials column: %q", line)
		}
		creds := strings.TrimSpace(cells[1])
		for _, m := range spans.FindAllStringSubmatch(strings.TrimPrefix(cells[0], "| "), -1) {
			for _, method := range strings.Split(m[1], "/") {
				key := method + " " + m[2]
				if _, dup := rows[key]; dup {
					t.Errorf("README API table lists %s twice", key)
				}
				rows[key] = creds
			}
		}
	}
	if len(rows) == 0 {
		t.Fatal("README API table has no rows")
	}
	return rows
}

// TestReadmeAPITable: the README's API table lists exactly the operations of
// the OpenAPI document, each with the credentials its security requirement
// accepts; and the document's requirements agree with the route table
// (a route that refuses API keys does not list apiKeyAuth, a public route
// requires nothing unless it authenticates itself).
func TestReadmeAPITable(t *testing.T) {
	t.Parallel()
	doc := harness.LoadSpec(t).Doc
	rows := readmeAPIRows(t)
	want := map[string]string{}
	schemesOf := map[string][]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			key := strings.ToUpper(method) + " " + path
			want[key], schemesOf[key] = acceptedCredentials(doc, op)
		}
	}
	var problems []string
	for key, creds := range want {
		got, ok := rows[key]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s is missing from the README (credentials: %s)", key, creds))
		case got != creds:
			problems = append(problems, fmt.Sprintf("%s: README says %q, the OpenAPI document %q", key, got, creds))
		}
	}
	for key := range rows {
		if _, ok := want[key]; !ok {
			problems = append(problems, key+" is in the README but not in the OpenAPI document")
		}
	}

	// The route table's DenyAPIKey and the document's security agree.
	s := harness.Start(t, harness.WithConfig(func(c *config.Config) {
		c.Security.BasicAuth = config.BasicAuthConfig{Enabled: true, Username: "ops", Password: "basic-" + strings.Repeat("p", 16)}
	}))
	braces := regexp.MustCompile(`\{[^}]+\}`)
	byTemplate := map[string]string{}
	for key := range want {
		byTemplate[braces.ReplaceAllString(key, "{}")] = key
	}
	for key, r := range s.HTTP().RouteTable() {
		method, path, _ := strings.Cut(key, " ")
		if method == echo.RouteNotFound {
			continue
		}
		docKey, ok := byTemplate[method+" "+azParam.ReplaceAllString(path, "{}")]
		if !ok {
			problems = append(problems, key+": route not in the OpenAPI document")
			continue
		}
		schemes := schemesOf[docKey]
		switch {
		case r.Public && len(schemes) > 0 && azSelfAuthenticating[key] == "":
			problems = append(problems, fmt.Sprintf("%s: public route, but the document requires %v", key, schemes))
		case !r.Public && len(schemes) == 0:
			problems = append(problems, key+": protected route documented as public")
		case !r.Public && r.DenyAPIKey && slices.Contains(schemes, "apiKeyAuth"):
			// (A handler may refuse more than its route says, as
			// GET /auth/sessions refuses every non-session caller; the
			// requests of TestDocumentedCredentialsAreAccepted check those.)
			problems = append(problems, fmt.Sprintf("%s: DenyAPIKey, but the document's security lists apiKeyAuth: %v", key, schemes))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		t.Fatalf("README API table, OpenAPI document and route table disagree:\n  %s", strings.Join(problems, "\n  "))
	}
}

// TestDocumentedCredentialsAreAccepted asks every protected operation once
// with each credential kind of the same admin: a kind the document (and so
// the README) lists is neither 401 nor 403, a kind it does not list is
// refused (401 or 403). Bodies are empty objects, so most writes answer 400:
// what matters is that the caller got past authentication and the guard.
func TestDocumentedCredentialsAreAccepted(t *testing.T) {
	t.Parallel()
	basicPassword := "basic-" + strings.Repeat("q", 16)
	s := harness.Start(t, harness.WithConfig(func(c *config.Config) {
		// The basic credential names the admin user, so that it may own keys.
		c.Security.BasicAuth = config.BasicAuthConfig{Enabled: true, Username: harness.AdminUsername, Password: basicPassword}
	}))
	r := s.Do(t, harness.Req{Method: http.MethodPost, Path: "/api/v1/api-keys", Bearer: s.AdminToken(t), Body: map[string]any{"name": "readme-probe"}})
	if r.Status != http.StatusCreated {
		t.Fatalf("create API key: %d %s", r.Status, r.Body)
	}
	var key struct {
		Key string `json:"key"`
	}
	r.JSON(t, &key)

	doc := harness.LoadSpec(t).Doc
	braces := regexp.MustCompile(`\{[^}]+\}`)
	var problems []string
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			creds, _ := acceptedCredentials(doc, op)
			if creds == "none" {
				continue
			}
			for _, kind := range credentialNames {
				req := harness.Req{Method: strings.ToUpper(method), Path: braces.ReplaceAllString(path, "x"), Body: "{}"}
				switch kind.name {
				case "JWT":
					req.Bearer = s.AdminToken(t) // fresh: logout and refresh consume theirs
				case "API key":
					req.APIKey = key.Key
				case "basic":
					req.Basic = [2]string{harness.AdminUsername, basicPassword}
				}
				if req.Method == http.MethodGet || req.Method == http.MethodDelete {
					req.Body = nil
				}
				got := s.DoRaw(t, req)
				refused := got.Status == http.StatusUnauthorized || got.Status == http.StatusForbidden
				listed := slices.Contains(strings.Split(creds, ", "), kind.name)
				if listed == refused {
					problems = append(problems, fmt.Sprintf("%s %s with %s: %d %s (documented credentials: %s)",
						req.Method, path, kind.name, got.Status, got.Code(), creds))
				}
			}
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		t.Fatalf("documented credentials differ from what the service accepts:\n  %s", strings.Join(problems, "\n  "))
	}
}
