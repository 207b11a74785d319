package e2e_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/m9m/auth/adapter/memory"
	ak "github.com/m9m/auth/domain/apikey"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/test/harness"
)

// Helpers of the API-key tests are prefixed "ak".

const akPath = "/api/v1/api-keys"

// akIssued is the answer of create and rotate.
type akIssued struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Key       string   `json:"key"`
	Prefix    string   `json:"prefix"`
	Scopes    []string `json:"scopes"`
	CreatedAt string   `json:"createdAt"`
	ExpiresAt *string  `json:"expiresAt"`
}

type akListed struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Prefix     string   `json:"prefix"`
	Scopes     []string `json:"scopes"`
	CreatedAt  string   `json:"createdAt"`
	ExpiresAt  *string  `json:"expiresAt"`
	LastUsedAt *string  `json:"lastUsedAt"`
	GraceUntil *string  `json:"graceUntil"`
}

type akList struct {
	Data       []akListed `json:"data"`
	NextCursor *string    `json:"nextCursor"`
}

var akKeyShape = regexp.MustCompile(`^m9m_sk_[0-9A-Za-z]{38}$`)

// akCreate creates a key with the bearer token and fails unless 201.
func akCreate(t *testing.T, s *harness.Server, token string, body map[string]any) akIssued {
	t.Helper()
	if body == nil {
		body = map[string]any{}
	}
	if _, ok := body["name"]; !ok {
		body["name"] = "e2e key"
	}
	r := s.Do(t, harness.Req{Method: http.MethodPost, Path: akPath, Bearer: token, Body: body})
	if r.Status != http.StatusCreated {
		t.Fatalf("create key: %d %s", r.Status, r.Body)
	}
	var out akIssued
	r.JSON(t, &out)
	if !akKeyShape.MatchString(out.Key) {
		t.Fatalf("key %q does not have the documented shape", out.Key)
	}
	if _, err := ak.Parse(out.Key); err != nil {
		t.Fatalf("issued key does not parse: %v", err)
	}
	if out.Prefix != out.Key[:10] {
		t.Fatalf("prefix %q is not the key's first 10 characters", out.Prefix)
	}
	return out
}

// akMe calls GET /auth/me with an API key.
func akMe(t *testing.T, s *harness.Server, key string) *harness.Response {
	t.Helper()
	return s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/auth/me", APIKey: key})
}

func akWantStatus(t *testing.T, r *harness.Response, status int, code string) {
	t.Helper()
	if r.Status != status || (code != "" && r.Code() != code) {
		t.Fatalf("got %d %s, want %d %s", r.Status, r.Body, status, code)
	}
}

func akListOf(t *testing.T, s *harness.Server, req harness.Req) akList {
	t.Helper()
	req.Method = http.MethodGet
	if req.Path == "" {
		req.Path = akPath
	}
	r := s.Do(t, req)
	akWantStatus(t, r, http.StatusOK, "")
	var out akList
	r.JSON(t, &out)
	return out
}

func akDigest(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

func TestAPIKeyCreateUseListRevoke(t *testing.T) {
	s := harness.Start(t)
	admin := s.AdminToken(t)
	_, username, password := s.CreateUser(t, admin, "editor")
	token := s.Login(t, username, password)

	created := akCreate(t, s, token, map[string]any{"name": "CI/CD Integration", "scopes": []string{"workflows:read", "api_keys:manage"}})
	if created.Name != "CI/CD Integration" || !slices.Equal(created.Scopes, []string{"workflows:read", "api_keys:manage"}) ||
		created.ExpiresAt != nil {
		t.Fatalf("created = %+v", created)
	}
	if _, err := time.Parse(time.RFC3339, created.CreatedAt); err != nil || !strings.HasSuffix(created.CreatedAt, "Z") {
		t.Fatalf("createdAt %q is not RFC 3339 UTC", created.CreatedAt)
	}

	// Use it.
	r := akMe(t, s, created.Key)
	akWantStatus(t, r, http.StatusOK, "")
	me := r.Map(t)
	if me["authMethod"] != "api_key" {
		t.Fatalf("authMethod = %v", me["authMethod"])
	}
	if perms := me["permissions"].([]any); len(perms) != 2 || perms[0] != "workflows:read" || perms[1] != "api_keys:manage" {
		t.Fatalf("permissions = %v", perms)
	}
	if u := me["user"].(map[string]any); u["username"] != username || u["role"] != "editor" {
		t.Fatalf("user = %v", u)
	}

	// List: the key is there, its secret and digest are not.
	for _, req := range []harness.Req{{Bearer: token}, {APIKey: created.Key}} {
		raw := s.Do(t, harness.Req{Method: http.MethodGet, Path: akPath, Bearer: req.Bearer, APIKey: req.APIKey})
		akWantStatus(t, raw, http.StatusOK, "")
		if leaks := harness.ContainsAny(string(raw.Body), created.Key, created.Key[10:], akDigest(created.Key)); len(leaks) > 0 {
			t.Fatalf("the list answer leaks the key: %s", raw.Body)
		}
		var list akList
		raw.JSON(t, &list)
		if len(list.Data) != 1 || list.Data[0].ID != created.ID || list.Data[0].Prefix != created.Prefix || list.NextCursor != nil {
			t.Fatalf("list = %+v", list)
		}
	}

	// Revoke: 204, then 401 at once; the list no longer shows it.
	r = s.Do(t, harness.Req{Method: http.MethodDelete, Path: akPath + "/" + created.ID, Bearer: token})
	akWantStatus(t, r, http.StatusNoContent, "")
	r = akMe(t, s, created.Key)
	akWantStatus(t, r, http.StatusUnauthorized, "AUTH_REQUIRED")
	if !strings.Contains(r.Header.Get("WWW-Authenticate"), `Bearer realm="m9m"`) {
		t.Fatalf("WWW-Authenticate = %q", r.Header.Get("WWW-Authenticate"))
	}
	if list := akListOf(t, s, harness.Req{Bearer: token}); len(list.Data) != 0 {
		t.Fatalf("revoked key still listed: %+v", list)
	}

	if leaks := harness.ContainsAny(s.Logs(), created.Key, created.Key[10:], akDigest(created.Key)); len(leaks) > 0 {
		t.Fatalf("the logs contain the key or its digest")
	}
}

func TestAPIKeyTableDumpHoldsNoUsableKey(t *testing.T) {
	s := harness.Start(t)
	admin := s.AdminToken(t)
	created := akCreate(t, s, admin, nil)
	dump := s.Dump(t, "api_keys")
	if !strings.Contains(dump, created.ID) {
		t.Fatalf("the dump does not contain the key's row")
	}
	if leaks := harness.ContainsAny(dump, created.Key, created.Key[10:]); len(leaks) > 0 {
		t.Fatalf("the database holds the key itself")
	}
	for _, f := range strings.FieldsFunc(dump, func(r rune) bool { return strings.ContainsRune(`(),{}" `, r) }) {
		if _, err := ak.Parse(f); err == nil {
			t.Fatalf("the dump contains a usable key")
		}
		if strings.HasPrefix(f, ak.Prefix) && akMe(t, s, f).Status != http.StatusUnauthorized {
			t.Fatalf("a value from the dump does not get 401")
		}
	}
}

func TestAPIKeyRotation(t *testing.T) {
	clock := memory.NewClock(time.Now().UTC())
	s := harness.Start(t, harness.WithClock(clock))
	admin := s.AdminToken(t)
	_, username, password := s.CreateUser(t, admin, "viewer")
	token := s.Login(t, username, password)

	t.Run("without grace the old key stops at once", func(t *testing.T) {
		exp := clock.Now().Add(90 * 24 * time.Hour).Truncate(time.Second)
		old := akCreate(t, s, token, map[string]any{"name": "deploy", "expiresAt": exp.Format(time.RFC3339), "scopes": []string{"workflows:read"}})
		r := s.Do(t, harness.Req{Method: http.MethodPost, Path: akPath + "/" + old.ID + "/rotate", Bearer: token})
		akWantStatus(t, r, http.StatusCreated, "")
		var next akIssued
		r.JSON(t, &next)
		if next.ID == old.ID || next.Key == old.Key || next.Name != "deploy" || next.ExpiresAt == nil ||
			*next.ExpiresAt != exp.Format(time.RFC3339) || !slices.Equal(next.Scopes, old.Scopes) {
			t.Fatalf("successor = %+v (old %+v)", next, old)
		}
		akWantStatus(t, akMe(t, s, old.Key), http.StatusUnauthorized, "AUTH_REQUIRED")
		akWantStatus(t, akMe(t, s, next.Key), http.StatusOK, "")
		// A rotated key cannot be rotated again.
		r = s.Do(t, harness.Req{Method: http.MethodPost, Path: akPath + "/" + old.ID + "/rotate", Bearer: token})
		akWantStatus(t, r, http.StatusConflict, "CONFLICT")
	})

	t.Run("with grace the old key works until the grace ends", func(t *testing.T) {
		old := akCreate(t, s, token, nil)
		r := s.Do(t, harness.Req{
			Method: http.MethodPost, Path: akPath + "/" + old.ID + "/rotate", Bearer: token,
			Body: map[string]any{"graceSeconds": 120},
		})
		akWantStatus(t, r, http.StatusCreated, "")
		var next akIssued
		r.JSON(t, &next)
		akWantStatus(t, akMe(t, s, old.Key), http.StatusOK, "")
		akWantStatus(t, akMe(t, s, next.Key), http.StatusOK, "")
		var listed *akListed
		for _, k := range akListOf(t, s, harness.Req{Bearer: token}).Data {
			if k.ID == old.ID {
				listed = &k
			}
		}
		if listed == nil || listed.GraceUntil == nil {
			t.Fatalf("the key in grace is not listed with graceUntil")
		}
		clock.Advance(119 * time.Second)
		akWantStatus(t, akMe(t, s, old.Key), http.StatusOK, "")
		clock.Advance(time.Second)
		akWantStatus(t, akMe(t, s, old.Key), http.StatusUnauthorized, "AUTH_REQUIRED")
		akWantStatus(t, akMe(t, s, next.Key), http.StatusOK, "")
	})

	t.Run("bad rotation requests", func(t *testing.T) {
		k := akCreate(t, s, token, nil)
		for _, body := range []any{
			map[string]any{"graceSeconds": -1},
			map[string]any{"graceSeconds": 86401},
			map[string]any{"graceSeconds": "10"},
			map[string]any{"grace": 10},
		} {
			r := s.Do(t, harness.Req{Method: http.MethodPost, Path: akPath + "/" + k.ID + "/rotate", Bearer: token, Body: body})
			akWantStatus(t, r, http.StatusBadRequest, "INVALID_REQUEST")
		}
		r := s.Do(t, harness.Req{Method: http.MethodPost, Path: akPath + "/nope/rotate", Bearer: token})
		akWantStatus(t, r, http.StatusNotFound, "NOT_FOUND")
		// A key may not rotate keys, not even itself.
		r = s.Do(t, harness.Req{Method: http.MethodPost, Path: akPath + "/" + k.ID + "/rotate", APIKey: k.Key})
		akWantStatus(t, r, http.StatusForbidden, "ACCESS_DENIED")
		akWantStatus(t, akMe(t, s, k.Key), http.StatusOK, "")
	})
}

func TestAPIKeyExpiry(t *testing.T) {
	clock := memory.NewClock(time.Now().UTC())
	s := harness.Start(t, harness.WithClock(clock))
	admin := s.AdminToken(t)
	exp := clock.Now().Add(10 * time.Minute)
	k := akCreate(t, s, admin, map[string]any{"expiresAt": exp.Format(time.RFC3339Nano)})
	if k.ExpiresAt == nil || *k.ExpiresAt != exp.Truncate(time.Second).Format(time.RFC3339) {
		t.Fatalf("expiresAt = %v", k.ExpiresAt)
	}
	akWantStatus(t, akMe(t, s, k.Key), http.StatusOK, "")
	clock.Advance(10*time.Minute - time.Second)
	akWantStatus(t, akMe(t, s, k.Key), http.StatusOK, "")
	clock.Advance(time.Second)
	akWantStatus(t, akMe(t, s, k.Key), http.StatusUnauthorized, "AUTH_REQUIRED")
	// Still listed, so its owner sees why it stopped.
	listed := false
	for _, l := range akListOf(t, s, harness.Req{Path: akPath + "?limit=100", Bearer: s.AdminToken(t)}).Data {
		listed = listed || (l.ID == k.ID && l.ExpiresAt != nil)
	}
	if !listed {
		t.Fatal("the expired key is not listed")
	}
}

func TestAPIKeyValidation(t *testing.T) {
	s := harness.Start(t, harness.WithConfig(func(c *config.Config) { c.Security.APIKeys.MaxPerUser = 2 }))
	admin := s.AdminToken(t)
	_, username, password := s.CreateUser(t, admin, "viewer")
	token := s.Login(t, username, password)

	past := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	tests := []struct {
		name  string
		body  any
		field string
	}{
		{"no name", map[string]any{}, "name"},
		{"empty name", map[string]any{"name": ""}, "name"},
		{"long name", map[string]any{"name": strings.Repeat("x", 101)}, "name"},
		{"name not a string", map[string]any{"name": 7}, "name"},
		{"expiry in the past", map[string]any{"name": "k", "expiresAt": past}, "expiresAt"},
		{"expiry not RFC 3339", map[string]any{"name": "k", "expiresAt": "tomorrow"}, "expiresAt"},
		{"unknown scope", map[string]any{"name": "k", "scopes": []string{"root:all"}}, "scopes"},
		{"scope beyond the role", map[string]any{"name": "k", "scopes": []string{"workflows:write"}}, "scopes"},
		{"unknown field", map[string]any{"name": "k", "owner": "someone"}, "owner"},
		{"not JSON", "{", "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.Do(t, harness.Req{Method: http.MethodPost, Path: akPath, Bearer: token, Body: tt.body})
			akWantStatus(t, r, http.StatusBadRequest, "INVALID_REQUEST")
			var env struct {
				Details []struct{ Field string } `json:"details"`
			}
			r.JSON(t, &env)
			if len(env.Details) == 0 || env.Details[0].Field != tt.field {
				t.Fatalf("details = %+v, want field %q", env.Details, tt.field)
			}
		})
	}

	// At most max_per_user active keys: the third is a conflict until one goes.
	first := akCreate(t, s, token, nil)
	akCreate(t, s, token, nil)
	r := s.Do(t, harness.Req{Method: http.MethodPost, Path: akPath, Bearer: token, Body: map[string]any{"name": "third"}})
	akWantStatus(t, r, http.StatusConflict, "CONFLICT")
	akWantStatus(t, s.Do(t, harness.Req{Method: http.MethodDelete, Path: akPath + "/" + first.ID, Bearer: token}), http.StatusNoContent, "")
	akCreate(t, s, token, nil)

	// Paging parameters.
	for _, q := range []string{"?limit=0", "?limit=101", "?limit=x", "?cursor=%21%21"} {
		r := s.Do(t, harness.Req{Method: http.MethodGet, Path: akPath + q, Bearer: token})
		akWantStatus(t, r, http.StatusBadRequest, "INVALID_REQUEST")
	}
	page := akListOf(t, s, harness.Req{Path: akPath + "?limit=1", Bearer: token})
	if len(page.Data) != 1 || page.NextCursor == nil {
		t.Fatalf("first page = %+v", page)
	}
	page2 := akListOf(t, s, harness.Req{Path: akPath + "?limit=1&cursor=" + *page.NextCursor, Bearer: token})
	if len(page2.Data) != 1 || page2.NextCursor != nil || page2.Data[0].ID == page.Data[0].ID {
		t.Fatalf("second page = %+v", page2)
	}
}

func TestAPIKeyScopesAndMinting(t *testing.T) {
	s := harness.Start(t)
	admin := s.AdminToken(t)
	readOnly := akCreate(t, s, admin, map[string]any{"scopes": []string{"workflows:read"}})
	manager := akCreate(t, s, admin, map[string]any{"scopes": []string{"api_keys:manage"}})
	full := akCreate(t, s, admin, nil)

	// Effective permissions are the scopes, even though the owner is admin.
	me := akMe(t, s, readOnly.Key).Map(t)
	if perms := me["permissions"].([]any); len(perms) != 1 || perms[0] != "workflows:read" {
		t.Fatalf("read-only key permissions = %v", perms)
	}
	// A read-only key cannot do what needs another permission.
	for _, req := range []harness.Req{
		{Method: http.MethodGet, Path: akPath},
		{Method: http.MethodDelete, Path: akPath + "/" + full.ID},
		{Method: http.MethodGet, Path: "/api/v1/users"},
	} {
		req.APIKey = readOnly.Key
		akWantStatus(t, s.Do(t, req), http.StatusForbidden, "ACCESS_DENIED")
	}
	akWantStatus(t, akMe(t, s, full.Key), http.StatusOK, "")

	// The protected resource: a read-only key reads workflows but cannot write them.
	akWantStatus(t, s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/workflows", APIKey: readOnly.Key}), http.StatusOK, "")
	r := s.Do(t, harness.Req{
		Method: http.MethodPost, Path: "/api/v1/workflows", APIKey: readOnly.Key,
		Body: map[string]any{"name": "wf", "nodes": []any{}, "connections": map[string]any{}},
	})
	akWantStatus(t, r, http.StatusForbidden, "ACCESS_DENIED")

	// No key can mint keys, whatever its scopes.
	for _, k := range []akIssued{manager, full} {
		r := s.Do(t, harness.Req{Method: http.MethodPost, Path: akPath, APIKey: k.Key, Body: map[string]any{"name": "minted"}})
		akWantStatus(t, r, http.StatusForbidden, "ACCESS_DENIED")
	}
	// A manager key lists (never showing secrets) and revokes its owner's keys.
	list := s.Do(t, harness.Req{Method: http.MethodGet, Path: akPath, APIKey: manager.Key})
	akWantStatus(t, list, http.StatusOK, "")
	if leaks := harness.ContainsAny(string(list.Body), readOnly.Key, manager.Key, full.Key, akDigest(full.Key)); len(leaks) > 0 {
		t.Fatal("list leaks keys")
	}
	akWantStatus(t, s.Do(t, harness.Req{Method: http.MethodDelete, Path: akPath + "/" + readOnly.ID, APIKey: manager.Key}), http.StatusNoContent, "")
	akWantStatus(t, akMe(t, s, readOnly.Key), http.StatusUnauthorized, "AUTH_REQUIRED")
}

func TestAPIKeyOwnership(t *testing.T) {
	s := harness.Start(t)
	admin := s.AdminToken(t)
	aliceID, alice, alicePw := s.CreateUser(t, admin, "editor")
	_, bob, bobPw := s.CreateUser(t, admin, "editor")
	aliceTok, bobTok := s.Login(t, alice, alicePw), s.Login(t, bob, bobPw)
	k := akCreate(t, s, aliceTok, nil)

	akWantStatus(t, s.Do(t, harness.Req{Method: http.MethodDelete, Path: akPath + "/" + k.ID, Bearer: bobTok}), http.StatusForbidden, "ACCESS_DENIED")
	akWantStatus(t, s.Do(t, harness.Req{Method: http.MethodPost, Path: akPath + "/" + k.ID + "/rotate", Bearer: bobTok}), http.StatusForbidden, "ACCESS_DENIED")
	akWantStatus(t, s.Do(t, harness.Req{Method: http.MethodDelete, Path: akPath + "/no-such-key", Bearer: bobTok}), http.StatusNotFound, "NOT_FOUND")
	akWantStatus(t, s.Do(t, harness.Req{Method: http.MethodGet, Path: akPath + "?userId=" + aliceID, Bearer: bobTok}), http.StatusForbidden, "ACCESS_DENIED")
	if list := akListOf(t, s, harness.Req{Bearer: bobTok}); len(list.Data) != 0 {
		t.Fatalf("bob sees alice's keys: %+v", list)
	}
	akWantStatus(t, akMe(t, s, k.Key), http.StatusOK, "")

	// An admin lists and revokes anyone's keys.
	list := akListOf(t, s, harness.Req{Path: akPath + "?userId=" + aliceID, Bearer: admin})
	if len(list.Data) != 1 || list.Data[0].ID != k.ID {
		t.Fatalf("admin list = %+v", list)
	}
	akWantStatus(t, s.Do(t, harness.Req{Method: http.MethodGet, Path: akPath + "?userId=nobody", Bearer: admin}), http.StatusNotFound, "NOT_FOUND")
	akWantStatus(t, s.Do(t, harness.Req{Method: http.MethodDelete, Path: akPath + "/" + k.ID, Bearer: admin}), http.StatusNoContent, "")
	akWantStatus(t, akMe(t, s, k.Key), http.StatusUnauthorized, "AUTH_REQUIRED")
}

func TestAPIKeyFollowsItsOwner(t *testing.T) {
	s := harness.Start(t)
	admin := s.AdminToken(t)
	id, username, password := s.CreateUser(t, admin, "editor")
	k := akCreate(t, s, s.Login(t, username, password), map[string]any{"scopes": []string{"workflows:read", "workflows:write"}})
	patch := func(body map[string]any) {
		t.Helper()
		r := s.Do(t, harness.Req{Method: http.MethodPatch, Path: "/api/v1/users/" + id, Bearer: admin, Body: body})
		akWantStatus(t, r, http.StatusOK, "")
	}

	// Demoted: the key loses what the new role lacks, on the next request.
	patch(map[string]any{"role": "viewer"})
	perms := akMe(t, s, k.Key).Map(t)["permissions"].([]any)
	if len(perms) != 1 || perms[0] != "workflows:read" {
		t.Fatalf("after demotion permissions = %v", perms)
	}
	// Disabled: the key stops at once.
	patch(map[string]any{"disabled": true})
	akWantStatus(t, akMe(t, s, k.Key), http.StatusUnauthorized, "AUTH_REQUIRED")
	patch(map[string]any{"disabled": false})
	akWantStatus(t, akMe(t, s, k.Key), http.StatusOK, "")
	// Deleted: the key is gone with its owner.
	akWantStatus(t, s.Do(t, harness.Req{Method: http.MethodDelete, Path: "/api/v1/users/" + id, Bearer: admin}), http.StatusNoContent, "")
	akWantStatus(t, akMe(t, s, k.Key), http.StatusUnauthorized, "AUTH_REQUIRED")
}

func TestAPIKeyRevokedOnOneInstanceIsRefusedByAnother(t *testing.T) {
	harness.PostgresOnly(t, "two instances at once on one Postgres and Redis")
	a := harness.Start(t)
	b := harness.Start(t, harness.SharedWith(a))
	admin := a.AdminToken(t)
	k := akCreate(t, a, admin, nil)
	akWantStatus(t, akMe(t, b, k.Key), http.StatusOK, "")
	akWantStatus(t, a.Do(t, harness.Req{Method: http.MethodDelete, Path: akPath + "/" + k.ID, Bearer: admin}), http.StatusNoContent, "")
	// No wait, no retry: the very next request on the other instance is refused.
	akWantStatus(t, akMe(t, b, k.Key), http.StatusUnauthorized, "AUTH_REQUIRED")

	// Rotation likewise.
	k2 := akCreate(t, b, admin, nil)
	akWantStatus(t, akMe(t, a, k2.Key), http.StatusOK, "")
	akWantStatus(t, b.Do(t, harness.Req{Method: http.MethodPost, Path: akPath + "/" + k2.ID + "/rotate", Bearer: admin}), http.StatusCreated, "")
	akWantStatus(t, akMe(t, a, k2.Key), http.StatusUnauthorized, "AUTH_REQUIRED")
}

func TestAPIKeyMalformedOrMisplaced(t *testing.T) {
	s := harness.Start(t)
	k := akCreate(t, s, s.AdminToken(t), nil)
	flipped := []byte(k.Key)
	if flipped[len(flipped)-1] == 'a' {
		flipped[len(flipped)-1] = 'b'
	} else {
		flipped[len(flipped)-1] = 'a'
	}
	body := k.Key[7:39]
	unknown := ak.Prefix + strings.Repeat("0", 32) + ak.Checksum(strings.Repeat("0", 32))
	for name, v := range map[string]string{
		"bad checksum": string(flipped), "truncated": k.Key[:44], "wrong prefix": "m9m_pk_" + k.Key[7:],
		"body only": body, "unknown but well-formed": unknown,
	} {
		r := akMe(t, s, v)
		if r.Status != http.StatusUnauthorized || r.Code() != "AUTH_REQUIRED" {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	// Never read from the query string.
	for _, q := range []string{"?api_key=", "?apiKey=", "?key=", "?X-API-Key="} {
		r := s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/auth/me" + q + k.Key})
		akWantStatus(t, r, http.StatusUnauthorized, "AUTH_REQUIRED")
	}
	if leaks := harness.ContainsAny(s.Logs(), k.Key, body); len(leaks) > 0 {
		t.Fatal("the logs contain the key (query strings must be redacted)")
	}
}

func TestAPIKeyLastUsedAt(t *testing.T) {
	s := harness.Start(t, harness.WithConfig(func(c *config.Config) { c.Security.APIKeys.LastUsedInterval = 20 * time.Millisecond }))
	_, username, password := s.CreateUser(t, s.AdminToken(t), "viewer")
	owner := s.Login(t, username, password)
	k := akCreate(t, s, owner, nil)
	if l := akListOf(t, s, harness.Req{Bearer: owner}); l.Data[0].LastUsedAt != nil {
		t.Fatalf("unused key has lastUsedAt %v", *l.Data[0].LastUsedAt)
	}
	before := time.Now().UTC().Truncate(time.Second)
	akWantStatus(t, akMe(t, s, k.Key), http.StatusOK, "")
	deadline := time.Now().Add(10 * time.Second)
	for {
		l := akListOf(t, s, harness.Req{Bearer: owner})
		if at := l.Data[0].LastUsedAt; at != nil {
			got, err := time.Parse(time.RFC3339, *at)
			if err != nil || got.Before(before) || got.After(time.Now().Add(time.Second)) {
				t.Fatalf("lastUsedAt = %s (used at %s)", *at, before)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("lastUsedAt was never written")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAPIKeysDisabled(t *testing.T) {
	on := harness.Start(t)
	k := akCreate(t, on, on.AdminToken(t), nil)
	if harness.Embedded() {
		on.Stop(t) // embedded: the same file restarted with keys disabled
	}
	off := harness.Start(t, harness.SharedWith(on), harness.WithConfig(func(c *config.Config) { c.Security.APIKeys.Enabled = false }))
	// A credential of a disabled method is 401; its endpoints are 404.
	akWantStatus(t, akMe(t, off, k.Key), http.StatusUnauthorized, "AUTH_REQUIRED")
	r := off.DoRaw(t, harness.Req{Method: http.MethodGet, Path: akPath, Bearer: off.AdminToken(t)})
	akWantStatus(t, r, http.StatusNotFound, "NOT_FOUND")
	if harness.Embedded() {
		off.Stop(t)
		on = harness.Start(t, harness.SharedWith(on))
	}
	akWantStatus(t, akMe(t, on, k.Key), http.StatusOK, "")
}

// akSpy counts what the API-key request path asks of the stores.
type akSpy struct {
	port.APIKeyAuthStore
	lookups, touches atomic.Int64
}

func (s *akSpy) GetByDigest(ctx context.Context, digest string) (*port.KeyGrant, error) {
	s.lookups.Add(1)
	return s.APIKeyAuthStore.GetByDigest(ctx, digest)
}

func (s *akSpy) TouchLastUsed(ctx context.Context, seen map[string]time.Time) error {
	s.touches.Add(1)
	return s.APIKeyAuthStore.TouchLastUsed(ctx, seen)
}

// akUserSpy counts user-store reads.
type akUserSpy struct {
	port.UserStore
	calls atomic.Int64
}

func (s *akUserSpy) Get(ctx context.Context, id string) (*user.User, error) {
	s.calls.Add(1)
	return s.UserStore.Get(ctx, id)
}

func (s *akUserSpy) GetByUsername(ctx context.Context, name string) (*user.User, error) {
	s.calls.Add(1)
	return s.UserStore.GetByUsername(ctx, name)
}

// TestAPIKeyRequestCostsOneLookupAndNoWrite pins the request path's cost in
// the real composition: a key's first request reads its grant (one
// GetByDigest, one indexed query, see the Postgres adapter's tests); once
// the instance is fresh (it follows the revocation feed; always, in the
// embedded mode) the grant is cached and requests read nothing. No
// user-store read, and no lastUsedAt write until the background flush.
func TestAPIKeyRequestCostsOneLookupAndNoWrite(t *testing.T) {
	keys, users := &akSpy{}, &akUserSpy{}
	s := harness.Start(t, harness.WithFx(
		fx.Decorate(func(inner port.APIKeyAuthStore) port.APIKeyAuthStore { keys.APIKeyAuthStore = inner; return keys }),
		fx.Decorate(func(inner port.UserStore) port.UserStore { users.UserStore = inner; return users }),
	))
	k := akCreate(t, s, s.AdminToken(t), nil)
	users.calls.Store(0)
	// Until the grant is cached, each request reads it once.
	deadline := time.Now().Add(10 * time.Second)
	for {
		before := keys.lookups.Load()
		akWantStatus(t, akMe(t, s, k.Key), http.StatusOK, "")
		read := keys.lookups.Load() - before
		if read > 1 {
			t.Fatalf("one request cost %d key lookups", read)
		}
		if read == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the grant was never served from the cache")
		}
		time.Sleep(20 * time.Millisecond)
	}
	const n = 25
	before := keys.lookups.Load()
	for range n {
		akWantStatus(t, akMe(t, s, k.Key), http.StatusOK, "")
	}
	if got := keys.lookups.Load() - before; got != 0 {
		t.Fatalf("%d requests with a cached grant cost %d key lookups, want 0", n, got)
	}
	if got := keys.touches.Load(); got != 0 {
		t.Fatalf("requests wrote lastUsedAt %d times on the request path", got)
	}
	if got := users.calls.Load(); got != 0 {
		t.Fatalf("requests read the user store %d times", got)
	}
	// A malformed key costs nothing at all.
	before = keys.lookups.Load()
	akWantStatus(t, akMe(t, s, k.Key[:44]+"!"), http.StatusUnauthorized, "AUTH_REQUIRED")
	if got := keys.lookups.Load(); got != before {
		t.Fatalf("a malformed key reached the store")
	}
	// Stopping the instance flushes the uses: one batched write.
	s.Stop(t)
	if got := keys.touches.Load(); got != 1 {
		t.Fatalf("%d lastUsedAt writes at shutdown, want 1", got)
	}
}
