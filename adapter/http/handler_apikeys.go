package httpapi

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/m9m/auth/domain"
	ak "github.com/m9m/auth/domain/apikey"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/usecase/apikey"
)

// apiKeyHandlers serve /api/v1/api-keys (contract §5).
type apiKeyHandlers struct {
	svc *apikey.Service
}

// APIKeyRoutes declares the key-management endpoints. Every one needs
// api_keys:manage (all roles hold it; a key needs it in its scopes).
// Creating and rotating also refuse API-key callers, so a leaked key cannot
// mint fresh keys (the use cases refuse them too).
func APIKeyRoutes(svc *apikey.Service) Routes {
	h := &apiKeyHandlers{svc: svc}
	perm := user.PermAPIKeysManage
	return Routes{
		{Method: http.MethodPost, Path: "/api/v1/api-keys", Handler: h.create, Permission: perm, DenyAPIKey: true},
		{Method: http.MethodGet, Path: "/api/v1/api-keys", Handler: h.list, Permission: perm},
		{Method: http.MethodDelete, Path: "/api/v1/api-keys/:id", Handler: h.revoke, Permission: perm},
		{Method: http.MethodPost, Path: "/api/v1/api-keys/:id/rotate", Handler: h.rotate, Permission: perm, DenyAPIKey: true},
	}
}

type apiKeyCreateRequest struct {
	Name      string   `json:"name"`
	ExpiresAt *string  `json:"expiresAt"`
	Scopes    []string `json:"scopes"`
}

type apiKeyRotateRequest struct {
	GraceSeconds *int `json:"graceSeconds"`
}

// apiKeyIssuedBody is the one answer that carries a key.
type apiKeyIssuedBody struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Key       string            `json:"key"`
	Prefix    string            `json:"prefix"`
	Scopes    []user.Permission `json:"scopes"`
	CreatedAt string            `json:"createdAt"`
	ExpiresAt *string           `json:"expiresAt"`
}

// apiKeyBody is a key as listings show it: never the key or its digest.
type apiKeyBody struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Prefix     string            `json:"prefix"`
	Scopes     []user.Permission `json:"scopes"`
	CreatedAt  string            `json:"createdAt"`
	ExpiresAt  *string           `json:"expiresAt"`
	LastUsedAt *string           `json:"lastUsedAt"`
	GraceUntil *string           `json:"graceUntil"`
}

type apiKeyListBody struct {
	Data       []apiKeyBody `json:"data"`
	NextCursor *string      `json:"nextCursor"`
}

func apiKeyTime(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := formatAPITime(*t)
	return &s
}

func apiKeyScopes(s []user.Permission) []user.Permission {
	if s == nil {
		return []user.Permission{}
	}
	return s
}

func apiKeyIssued(in apikey.Issued) apiKeyIssuedBody {
	k := in.Key
	return apiKeyIssuedBody{
		ID:        k.ID,
		Name:      k.Name,
		Key:       in.Token.Secret(),
		Prefix:    k.Prefix,
		Scopes:    apiKeyScopes(k.Scopes),
		CreatedAt: formatAPITime(k.CreatedAt),
		ExpiresAt: apiKeyTime(k.ExpiresAt),
	}
}

func apiKeyListed(k ak.Key) apiKeyBody {
	return apiKeyBody{
		ID:         k.ID,
		Name:       k.Name,
		Prefix:     k.Prefix,
		Scopes:     apiKeyScopes(k.Scopes),
		CreatedAt:  formatAPITime(k.CreatedAt),
		ExpiresAt:  apiKeyTime(k.ExpiresAt),
		LastUsedAt: apiKeyTime(k.LastUsedAt),
		GraceUntil: apiKeyTime(k.GraceUntil),
	}
}

func (h *apiKeyHandlers) create(c echo.Context) error {
	p, err := Caller(c)
	if err != nil {
		return err
	}
	var req apiKeyCreateRequest
	if err := BindJSON(c, &req); err != nil {
		return err
	}
	in := apikey.CreateInput{Name: req.Name, Scopes: req.Scopes}
	if req.ExpiresAt != nil {
		t, err := domain.ParseTime("expiresAt", *req.ExpiresAt)
		if err != nil {
			return err
		}
		in.ExpiresAt = &t
	}
	issued, err := h.svc.Create(c.Request().Context(), p, ClientOf(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, apiKeyIssued(issued))
}

func (h *apiKeyHandlers) list(c echo.Context) error {
	p, err := Caller(c)
	if err != nil {
		return err
	}
	in := apikey.ListInput{UserID: c.QueryParam("userId"), Cursor: c.QueryParam("cursor")}
	if in.UserID != "" && !validID(in.UserID) {
		return domain.ErrNotFound.WithMessage("User not found")
	}
	if raw := c.QueryParam("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > apikey.MaxListLimit {
			return domain.InvalidField("limit", "must be an integer between 1 and "+strconv.Itoa(apikey.MaxListLimit))
		}
		in.Limit = n
	}
	page, err := h.svc.List(c.Request().Context(), p, in)
	if err != nil {
		return err
	}
	body := apiKeyListBody{Data: make([]apiKeyBody, 0, len(page.Keys))}
	for _, k := range page.Keys {
		body.Data = append(body.Data, apiKeyListed(k))
	}
	if page.NextCursor != "" {
		body.NextCursor = &page.NextCursor
	}
	return c.JSON(http.StatusOK, body)
}

func (h *apiKeyHandlers) revoke(c echo.Context) error {
	p, err := Caller(c)
	if err != nil {
		return err
	}
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if err := h.svc.Revoke(c.Request().Context(), p, ClientOf(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *apiKeyHandlers) rotate(c echo.Context) error {
	p, err := Caller(c)
	if err != nil {
		return err
	}
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var req apiKeyRotateRequest
	if err := bindOptionalJSON(c, &req); err != nil {
		return err
	}
	in := apikey.RotateInput{}
	if req.GraceSeconds != nil {
		in.GraceSeconds = *req.GraceSeconds
	}
	issued, err := h.svc.Rotate(c.Request().Context(), p, ClientOf(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, apiKeyIssued(issued))
}

// bindOptionalJSON is BindJSON for a body that may be left out entirely:
// an empty body leaves dst as it is; anything else must be strict JSON.
func bindOptionalJSON(c echo.Context, dst any) error {
	req := c.Request()
	body, err := io.ReadAll(req.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return domain.ErrTooLarge
		}
		return domain.InvalidField("body", "could not read request body")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if ct := req.Header.Get(echo.HeaderContentType); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return domain.InvalidField("Content-Type", "must be application/json")
		}
	}
	return DecodeJSON(body, dst)
}
