package httpapi

import (
	"embed"
	"fmt"
	"io/fs"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"
	"gopkg.in/yaml.v3"
)

// The OpenAPI document is kept as one base file plus one fragment per
// feature (openapi/*.yaml), merged at start-up, so that features can grow
// their part without editing a shared 2,000-line file. A path or schema
// defined twice is an error, caught by the tests.
//
//go:embed openapi/*.yaml
var openapiFS embed.FS

var (
	openapiOnce sync.Once
	openapiDoc  []byte
	openapiErr  error
)

// OpenAPIDocument returns the merged OpenAPI 3.1 document as YAML.
func OpenAPIDocument() ([]byte, error) {
	openapiOnce.Do(func() { openapiDoc, openapiErr = mergeOpenAPI(openapiFS) })
	return openapiDoc, openapiErr
}

func mergeOpenAPI(fsys fs.FS) ([]byte, error) {
	names, err := fs.Glob(fsys, "openapi/*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var base map[string]any
	var fragments []string
	for _, n := range names {
		if strings.HasSuffix(n, "/base.yaml") {
			b, err := fs.ReadFile(fsys, n)
			if err != nil {
				return nil, err
			}
			if err := yaml.Unmarshal(b, &base); err != nil {
				return nil, fmt.Errorf("%s: %w", n, err)
			}
			continue
		}
		fragments = append(fragments, n)
	}
	if base == nil {
		return nil, fmt.Errorf("openapi/base.yaml missing")
	}
	for _, n := range fragments {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		var frag map[string]any
		if err := yaml.Unmarshal(b, &frag); err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		if err := mergeFragment(base, frag, n); err != nil {
			return nil, err
		}
	}
	return yaml.Marshal(base)
}

// mergeFragment adds a fragment's paths, component entries and tags to
// base; a path or component defined twice is an error.
func mergeFragment(base, frag map[string]any, file string) error {
	for key, v := range frag {
		switch key {
		case "tags":
			list, _ := v.([]any)
			existing, _ := base["tags"].([]any)
			base["tags"] = append(existing, list...)
		case "paths":
			if err := addEntries(base, "paths", v, file); err != nil {
				return err
			}
		case "components":
			kinds, ok := v.(map[string]any)
			if !ok {
				return fmt.Errorf("%s: components must be a map", file)
			}
			comps, _ := base["components"].(map[string]any)
			if comps == nil {
				comps = map[string]any{}
				base["components"] = comps
			}
			for kind, entries := range kinds {
				if err := addEntries(comps, kind, entries, file); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("%s: fragments may only define paths, components and tags, not %q", file, key)
		}
	}
	return nil
}

func addEntries(parent map[string]any, key string, entries any, file string) error {
	src, ok := entries.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: %s must be a map", file, key)
	}
	dst, _ := parent[key].(map[string]any)
	if dst == nil {
		dst = map[string]any{}
		parent[key] = dst
	}
	for name, v := range src {
		if _, dup := dst[name]; dup {
			return fmt.Errorf("%s: %s %q is already defined", file, key, name)
		}
		dst[name] = v
	}
	return nil
}

func serveOpenAPI(c echo.Context) error {
	doc, err := OpenAPIDocument()
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "application/yaml", doc)
}
