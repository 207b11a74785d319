package harness

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
)

// AdminUsername is the bootstrap admin every test instance starts with
// (its password is Server.AdminPassword()).
const AdminUsername = "admin"

// AdminPassword returns the bootstrap admin's password for this instance.
func (s *Server) AdminPassword() string { return s.Config.Security.BootstrapAdmin.Password }

// Login logs in and returns the access token, failing the test otherwise.
func (s *Server) Login(t testing.TB, username, password string) string {
	t.Helper()
	r := s.Do(t, Req{Method: http.MethodPost, Path: "/api/v1/auth/login", Body: map[string]string{"username": username, "password": password}})
	if r.Status != http.StatusOK {
		t.Fatalf("login %s: %d %s", username, r.Status, r.Body)
	}
	var out struct {
		Token string `json:"token"`
	}
	r.JSON(t, &out)
	if out.Token == "" {
		t.Fatalf("login %s: no token in %s", username, r.Body)
	}
	return out.Token
}

// AdminToken logs in as the bootstrap admin.
func (s *Server) AdminToken(t testing.TB) string {
	t.Helper()
	return s.Login(t, AdminUsername, s.AdminPassword())
}

var userSeq atomic.Int64

// CreateUser creates a user with role through the admin API and returns its
// id and password (usernames are unique per call).
func (s *Server) CreateUser(t testing.TB, adminToken, role string) (id, username, password string) {
	t.Helper()
	username = fmt.Sprintf("%s-%d-%s", role, userSeq.Add(1), randomSecret()[:6])
	username = sanitizeUsername(username)
	password = "pw-" + randomSecret()[:20]
	r := s.Do(t, Req{Method: http.MethodPost, Path: "/api/v1/users", Bearer: adminToken,
		Body: map[string]string{"username": username, "password": password, "role": role}})
	if r.Status != http.StatusCreated {
		t.Fatalf("create user %s: %d %s", username, r.Status, r.Body)
	}
	var out struct {
		ID string `json:"id"`
	}
	r.JSON(t, &out)
	return out.ID, username, password
}

func sanitizeUsername(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		case c >= 'A' && c <= 'Z':
			b[i] = c + 32
		default:
			b[i] = '-'
		}
	}
	return string(b)
}
