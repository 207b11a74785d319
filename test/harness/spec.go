package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	httpapi "github.com/m9m/auth/adapter/http"
)

// Spec checks answers against the service's own OpenAPI document.
type Spec struct {
	Doc    *openapi3.T
	router routers.Router
}

var (
	specOnce sync.Once
	spec     *Spec
	specErr  error
)

// LoadSpec parses and validates the embedded OpenAPI document once per package.
func LoadSpec(t testing.TB) *Spec {
	t.Helper()
	specOnce.Do(func() {
		raw, err := httpapi.OpenAPIDocument()
		if err != nil {
			specErr = err
			return
		}
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(raw)
		if err != nil {
			specErr = err
			return
		}
		if err := doc.Validate(context.Background()); err != nil {
			specErr = err
			return
		}
		doc.Servers = nil // match any host (random test ports)
		r, err := gorillamux.NewRouter(doc)
		if err != nil {
			specErr = err
			return
		}
		spec = &Spec{Doc: doc, router: r}
	})
	if specErr != nil {
		t.Fatalf("OpenAPI document is invalid: %v", specErr)
	}
	return spec
}

// Check fails the test when the answer to req is not what the document says.
func (s *Spec) Check(t testing.TB, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		if status != http.StatusNotFound && status != http.StatusMethodNotAllowed {
			t.Errorf("OpenAPI: %s %s answered %d but is not documented: %v", req.Method, req.URL.Path, status, err)
		}
		s.CheckEnvelope(t, status, header, body)
		return
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: params,
			Route:      route,
			Options:    &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status:  status,
		Header:  header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		t.Errorf("OpenAPI: %s %s → %d does not match the document: %v\nbody: %s", req.Method, req.URL.Path, status, err, truncate(body))
	}
	if status >= 400 {
		s.CheckEnvelope(t, status, header, body)
	}
}

// CheckEnvelope asserts the contract's error envelope (§1).
func (s *Spec) CheckEnvelope(t testing.TB, status int, header http.Header, body []byte) {
	t.Helper()
	if status < 400 {
		return
	}
	var env map[string]any
	if err := json.Unmarshal(body, &env); err != nil {
		t.Errorf("error answer %d is not JSON: %q", status, truncate(body))
		return
	}
	schema := s.Doc.Components.Schemas["Error"].Value
	if err := schema.VisitJSON(env); err != nil {
		t.Errorf("error answer %d is not the envelope: %v\nbody: %s", status, err, truncate(body))
	}
	if got, want := env["error"], http.StatusText(status); got != want {
		t.Errorf("envelope error = %v, want %q", got, want)
	}
	if header.Get("X-Request-ID") == "" || env["requestId"] != header.Get("X-Request-ID") {
		t.Errorf("envelope requestId %v does not match X-Request-ID %q", env["requestId"], header.Get("X-Request-ID"))
	}
	if status == http.StatusUnauthorized && header.Get("WWW-Authenticate") == "" {
		t.Errorf("401 without WWW-Authenticate")
	}
	if status == http.StatusTooManyRequests && header.Get("Retry-After") == "" {
		t.Errorf("429 without Retry-After")
	}
}

func truncate(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}
