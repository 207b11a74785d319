package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m9m/auth/infra/config"
)

// FuzzLoadYAML checks that no file content makes Load panic, and that what
// Load accepts is valid and renders without secrets.
func FuzzLoadYAML(f *testing.F) {
	example, err := os.ReadFile("../../config.example.yaml")
	if err != nil {
		f.Fatal(err)
	}
	seeds := []string{
		string(example),
		"security:\n  jwt:\n    secret: " + jwtSecret + "\n",
		"",
		"~",
		"- a\n- b\n",
		"server: 8080\n",
		"server:\n  port: [1, 2]\n  read_timeout: 15x\n",
		"security:\n  jwt:\n    secrte: x\n",
		"server: {port: 1\n",
		"a: &a [*a]\n",
		"server: &s\n  tls: *s\n",
		"server:\n  <<: {port: 1}\n",
		"log: {level: info}\n---\nlog: {level: debug}\n",
		"server:\n  trusted_proxies: [~, {a: b}, [c]]\n",
		"security:\n  cors:\n    allowed_origins: ['*']\n    allow_credentials: true\n",
		"\xff\xfe\x00",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(path, []string{"M9M_SECURITY_JWT_SECRET=" + jwtSecret})
		if err != nil {
			if cfg != nil {
				t.Fatal("Load returned both a config and an error")
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("Load accepted a config that does not validate: %v", err)
		}
		if strings.Contains(cfg.String(), jwtSecret) {
			t.Fatal("String() leaks the JWT secret")
		}
	})
}
