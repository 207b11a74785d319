package config

import (
	"net/url"
	"reflect"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Redaction is what Redacted puts in place of a secret.
const Redaction = "REDACTED"

// dsnPassword matches the password of a key=value DSN (host=... password=...).
var dsnPassword = regexp.MustCompile(`(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// Redacted returns a deep copy of c in which every secret is replaced by
// Redaction: JWT secrets (current and previous), passwords, the webhook
// encryption key, and the password inside database and redis URLs (the rest
// of the URL stays readable). File paths are kept; they are not secrets.
func (c *Config) Redacted() *Config {
	out := *c
	for _, l := range schema().leaves {
		f := l.field(&out)
		switch {
		case l.typ == stringsType:
			items := slicesClone(f.Interface().([]string))
			if l.isSecret() {
				for i := range items {
					items[i] = Redaction
				}
			}
			f.Set(reflect.ValueOf(items))
		case l.secret == "dsn":
			f.SetString(redactDSN(f.String()))
		case l.isSecret() && f.String() != "":
			f.SetString(Redaction)
		}
	}
	return &out
}

// String renders the redacted configuration as YAML, safe to log.
func (c *Config) String() string {
	b, err := yaml.Marshal(c.Redacted())
	if err != nil {
		return "config: " + err.Error()
	}
	return string(b)
}

// redactDSN masks the password of a URL or key=value DSN. A URL that does
// not parse is masked whole, since where its password is cannot be known.
func redactDSN(s string) string {
	if s == "" {
		return ""
	}
	if !strings.Contains(s, "://") {
		return dsnPassword.ReplaceAllString(s, "${1}"+Redaction)
	}
	u, err := url.Parse(s)
	if err != nil {
		return Redaction
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), Redaction)
		}
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", Redaction)
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// slicesClone copies a list, keeping an empty list non-nil so that it
// renders as [] rather than null.
func slicesClone(s []string) []string {
	return append(make([]string, 0, len(s)), s...)
}
