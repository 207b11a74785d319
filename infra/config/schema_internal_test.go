package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSchemaCoversEveryLeaf(t *testing.T) {
	t.Parallel()
	s := schema()
	if len(s.leaves) != len(s.byEnv) || len(s.leaves) != len(s.byKey) {
		t.Fatalf("%d leaves, %d env names, %d keys: names collide", len(s.leaves), len(s.byEnv), len(s.byKey))
	}
	for _, l := range s.leaves {
		want := EnvPrefix + strings.ToUpper(strings.ReplaceAll(l.key, ".", "_"))
		if l.env != want {
			t.Errorf("%s maps to %s, want %s", l.key, l.env, want)
		}
	}
}

func TestSchemaFilePairs(t *testing.T) {
	t.Parallel()
	var got []string
	for _, p := range schema().files {
		got = append(got, p.value.key)
		if !p.value.isSecret() {
			t.Errorf("%s has a _file sibling but no secret tag", p.value.key)
		}
	}
	slices.Sort(got)
	want := []string{
		"database.password", "database.url", "redis.password", "redis.url", "security.basic_auth.password",
		"security.bootstrap_admin.password", "security.jwt.previous_secrets", "security.jwt.secret",
		"security.webhook_encryption_key",
	}
	if !slices.Equal(got, want) {
		t.Errorf("file pairs = %v, want %v", got, want)
	}
}

// TestEveryEnvVarApplies sets each variable to a value unlike the default and
// checks that exactly its field changed.
func TestEveryEnvVarApplies(t *testing.T) {
	t.Parallel()
	for _, l := range schema().leaves {
		var raw string
		var want any
		switch l.typ {
		case durationType:
			raw, want = "7m3s", 7*time.Minute+3*time.Second
		case stringsType:
			raw, want = "a,b", []string{"a", "b"}
		default:
			switch l.typ.Kind() {
			case reflect.String:
				raw, want = "v-"+l.env, "v-"+l.env
			case reflect.Int:
				raw, want = "4242", 4242
			case reflect.Bool:
				b := l.field(Default()).Bool()
				raw, want = map[bool]string{true: "false", false: "true"}[b], !b
			}
		}
		cfg := Default()
		if errs := applyEnv(cfg, []string{l.env + "=" + raw}); len(errs) > 0 {
			t.Errorf("%s: %v", l.env, errs)
			continue
		}
		got := l.field(cfg).Interface()
		if d, ok := got.(time.Duration); ok {
			got = d
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: field = %#v, want %#v", l.env, got, want)
		}
		l.field(cfg).Set(l.field(Default()))
		if !reflect.DeepEqual(cfg, Default()) {
			t.Errorf("%s changed another field", l.env)
		}
	}
}

func TestSuggest(t *testing.T) {
	t.Parallel()
	cands := []string{"secret", "secret_file", "enabled"}
	for in, want := range map[string]string{"secrte": "secret", "enabeld": "enabled", "zzzzzz": "", "secret_fil": "secret_file"} {
		if got := suggest(in, cands); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}
