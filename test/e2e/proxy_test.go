package e2e_test

import (
	"net/url"
	"testing"

	"github.com/m9m/auth/test/testenv"
)

func redisAddr(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(testenv.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}
