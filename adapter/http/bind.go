package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/workflow"
)

// BindJSON decodes the request body into dst strictly: JSON only, one value,
// no unknown fields, within the body limit. Every failure is a 400 (or 413)
// envelope naming the field, never a 500.
func BindJSON(c echo.Context, dst any) error {
	req := c.Request()
	if ct := req.Header.Get(echo.HeaderContentType); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return domain.InvalidField("Content-Type", "must be application/json")
		}
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return domain.ErrTooLarge
		}
		return domain.InvalidField("body", "could not read request body")
	}
	return DecodeJSON(body, dst)
}

// DecodeJSON is BindJSON's decoder on bytes already read. Every string in
// the body must be storable (valid UTF-8, no \u0000, no unpaired surrogate
// escape: workflow.CheckStorable), so no field of any body can reach a store
// as text the store refuses; the check is one linear scan.
func DecodeJSON(body []byte, dst any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return domain.InvalidField("body", "a JSON body is required")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return domain.InvalidField("body", "must contain a single JSON value")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return domain.InvalidField("body", "must contain a single JSON value")
	}
	if msg := workflow.CheckStorable(body); msg != "" {
		return domain.InvalidField(unstorableField(body), msg)
	}
	return nil
}

// unstorableField names the top-level field of the JSON object body whose
// value workflow.CheckStorable refuses, or "body" when none alone is (the
// body is no object, or a key is the problem). Only refused bodies pay for
// this second decode.
func unstorableField(body []byte) string {
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return "body"
	}
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if workflow.CheckStorable(fields[name]) != "" && domain.ValidText(name) {
			return name
		}
	}
	return "body"
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF):
		return domain.InvalidField("body", "malformed JSON")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return domain.InvalidField(field, fmt.Sprintf("must be %s", jsonTypeName(typ.Type.Kind().String())))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return domain.InvalidField(name, "unknown field")
	default:
		return domain.InvalidField("body", "invalid JSON")
	}
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "a number"
	default:
		return "of a different type"
	}
}

// checkParams refuses a request whose query or path parameters are not
// valid UTF-8 without NUL (domain.ValidText). The guard runs it for every
// route, after authentication and before the handler: the one place for
// every parameter, so none can reach a store as text the store refuses (a
// NUL in ?cursor= or ?userId= was a 500). A query parameter is a 400
// naming it; a path parameter is 404, as for any id no resource could have.
func checkParams(c echo.Context) error {
	for name, values := range c.QueryParams() {
		if !domain.ValidText(name) {
			return domain.InvalidField("query", "parameter names must be valid UTF-8 without NUL characters")
		}
		for _, v := range values {
			if err := domain.CheckText(name, v); err != nil {
				return err
			}
		}
	}
	for _, v := range c.ParamValues() {
		if !domain.ValidText(v) {
			return domain.ErrNotFound
		}
	}
	return nil
}

// bodyLimit refuses bodies over max bytes with 413: at once when the
// declared length is too large, otherwise when reading passes the limit.
func bodyLimit(maxBytes int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			if req.ContentLength > maxBytes {
				return domain.ErrTooLarge
			}
			if req.Body == nil || req.Body == http.NoBody {
				// Nothing to read (net/http's body of a request without
				// one): no limit needed, and no reader to allocate.
				return next(c)
			}
			req.Body = http.MaxBytesReader(c.Response(), req.Body, maxBytes)
			return next(c)
		}
	}
}
