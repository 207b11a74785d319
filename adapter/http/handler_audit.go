package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/m9m/auth/domain"
	auditdomain "github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/usecase/audit"
)

// auditHandlers serve the audit trail to admins (contract §9).
type auditHandlers struct {
	lister *audit.Lister
}

// AuditRoutes declares GET /api/v1/audit-events, which needs audit:read
// (only admins hold it).
func AuditRoutes(lister *audit.Lister) Routes {
	h := &auditHandlers{lister: lister}
	return Routes{
		{Method: http.MethodGet, Path: "/api/v1/audit-events", Handler: h.list, Permission: user.PermAuditRead},
	}
}

// auditEventBody is one event as the API shows it. Optional facts are null
// rather than "", so "no actor" (an anonymous attempt) reads as such.
type auditEventBody struct {
	ID         string            `json:"id"`
	Time       string            `json:"time"`
	ActorID    *string           `json:"actorId"`
	ActorName  *string           `json:"actorName"`
	Action     string            `json:"action"`
	TargetType *string           `json:"targetType"`
	TargetID   *string           `json:"targetId"`
	IP         *string           `json:"ip"`
	UserAgent  *string           `json:"userAgent"`
	Outcome    string            `json:"outcome"`
	Metadata   map[string]string `json:"metadata"`
}

type auditListBody struct {
	Data       []auditEventBody `json:"data"`
	NextCursor *string          `json:"nextCursor"`
}

func (h *auditHandlers) list(c echo.Context) error {
	p, err := Caller(c)
	if err != nil {
		return err
	}
	q, err := parseAuditQuery(c.QueryParams())
	if err != nil {
		return err
	}
	page, err := h.lister.List(c.Request().Context(), p, q)
	if err != nil {
		return err
	}
	body := auditListBody{Data: make([]auditEventBody, 0, len(page.Events))}
	for _, e := range page.Events {
		body.Data = append(body.Data, auditBody(e))
	}
	if page.NextCursor != "" {
		body.NextCursor = &page.NextCursor
	}
	return c.JSON(http.StatusOK, body)
}

func auditBody(e auditdomain.Event) auditEventBody {
	meta := e.Metadata
	if meta == nil {
		meta = map[string]string{}
	}
	return auditEventBody{
		ID: e.ID,
		// Full precision: the order within a second is part of the trail,
		// and a copied time works as a from/to filter.
		Time:       e.Time.UTC().Format(time.RFC3339Nano),
		ActorID:    auditOptional(e.ActorID),
		ActorName:  auditOptional(e.ActorName),
		Action:     string(e.Action),
		TargetType: auditOptional(e.TargetType),
		TargetID:   auditOptional(e.TargetID),
		IP:         auditOptional(e.IP),
		UserAgent:  auditOptional(e.UserAgent),
		Outcome:    string(e.Outcome),
		Metadata:   meta,
	}
}

func auditOptional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// auditParams are the query parameters the listing understands. Anything
// else is refused: a misspelt filter silently ignored would show an
// auditor every event and look like an answer.
var auditParams = []string{"actor", "action", "from", "to", "cursor", "limit"}

// parseAuditQuery turns the query string into a Query, reporting every bad
// parameter at once. Empty values count as absent. Range checks (limit
// bounds, time order, lengths, cursor shape) are the use case's.
func parseAuditQuery(v url.Values) (auditdomain.Query, error) {
	var q auditdomain.Query
	var bad []domain.FieldError
	fail := func(field, msg string) { bad = append(bad, domain.FieldError{Field: field, Message: msg}) }
	names := make([]string, 0, len(v))
	for name := range v {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		switch {
		case !slices.Contains(auditParams, name):
			fail(auditFieldName(name), "unknown parameter; use actor, action, from, to, cursor or limit")
		case len(v[name]) > 1:
			fail(name, "must be given at most once")
		}
	}
	get := func(name string) string {
		if vals := v[name]; len(vals) == 1 {
			return vals[0]
		}
		return ""
	}
	q.ActorID = get("actor")
	q.Action = auditdomain.Action(get("action"))
	q.Cursor = get("cursor")
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		if raw := get(f.name); raw != "" {
			t, err := parseAuditTime(raw)
			if err != nil {
				fail(f.name, err.Error())
			}
			*f.dst = t
		}
	}
	if raw := get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > auditdomain.MaxLimit {
			fail("limit", fmt.Sprintf("must be an integer between 1 and %d", auditdomain.MaxLimit))
		}
		q.Limit = n
	}
	if len(bad) > 0 {
		return auditdomain.Query{}, domain.Invalid(bad...)
	}
	return q, nil
}

func parseAuditTime(raw string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, raw)
	if err == nil {
		return t.UTC(), nil
	}
	if strings.Contains(raw, " ") {
		// An unencoded '+' in a query string arrives as a space.
		return time.Time{}, fmt.Errorf("must be an RFC 3339 time (encode '+' in an offset as %%2B, or use Z)")
	}
	return time.Time{}, fmt.Errorf("must be an RFC 3339 time, e.g. 2026-01-27T10:00:00Z")
}

// auditFieldName keeps an unknown parameter's name printable and short
// before it is echoed in the error details.
func auditFieldName(name string) string {
	const maxLen = 64
	clean := strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\uFFFD' {
			return -1
		}
		return r
	}, strings.ToValidUTF8(name, ""))
	if len(clean) > maxLen {
		clean = strings.ToValidUTF8(clean[:maxLen], "")
	}
	return clean
}
