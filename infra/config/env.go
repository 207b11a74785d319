package config

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// EnvPrefix starts the name of every environment override.
const EnvPrefix = "M9M_"

// fileSuffix marks a key whose value names a file holding the sibling key.
const fileSuffix = "_file"

// leaf is one settable key of Config, derived from the struct by reflection.
type leaf struct {
	key    string       // dotted path: security.jwt.secret
	env    string       // M9M_SECURITY_JWT_SECRET
	index  []int        // reflect field index path from Config
	typ    reflect.Type // string, int, bool, time.Duration or []string
	secret string       // value of the `secret` tag: "", "true" or "dsn"
}

// isSecret reports whether the leaf's value must never be shown.
func (l *leaf) isSecret() bool { return l.secret != "" }

// field returns the leaf's field inside cfg.
func (l *leaf) field(cfg *Config) reflect.Value {
	return reflect.ValueOf(cfg).Elem().FieldByIndex(l.index)
}

// filePair links a key to its "_file" sibling (security.jwt.secret and
// security.jwt.secret_file).
type filePair struct {
	value, file *leaf
}

// schemaTable is the reflection-derived description of Config.
type schemaTable struct {
	leaves []*leaf
	byEnv  map[string]*leaf
	byKey  map[string]*leaf
	files  []filePair
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	stringsType  = reflect.TypeFor[[]string]()
)

// schema is built once; it panics on a struct the loader cannot handle, which
// every test of this package would reveal.
var schema = sync.OnceValue(func() *schemaTable {
	s := &schemaTable{byEnv: map[string]*leaf{}, byKey: map[string]*leaf{}}
	s.walk(reflect.TypeFor[Config](), nil, nil)
	for _, l := range s.leaves {
		base, ok := strings.CutSuffix(l.key, fileSuffix)
		if !ok {
			continue
		}
		if v, ok := s.byKey[base]; ok {
			s.files = append(s.files, filePair{value: v, file: l})
		}
	}
	return s
})

func (s *schemaTable) walk(t reflect.Type, path []string, index []int) {
	for i := range t.NumField() {
		f := t.Field(i)
		name := yamlName(f)
		if name == "" {
			panic(fmt.Sprintf("config: field %s.%s has no yaml tag", t.Name(), f.Name))
		}
		p := append(slices.Clone(path), name)
		idx := append(slices.Clone(index), i)
		if f.Type.Kind() == reflect.Struct {
			s.walk(f.Type, p, idx)
			continue
		}
		switch f.Type {
		case reflect.TypeFor[string](), reflect.TypeFor[int](), reflect.TypeFor[bool](), durationType, stringsType:
		default:
			panic(fmt.Sprintf("config: field %s.%s has unsupported type %s", t.Name(), f.Name, f.Type))
		}
		l := &leaf{
			key:    strings.Join(p, "."),
			env:    EnvPrefix + strings.ToUpper(strings.Join(p, "_")),
			index:  idx,
			typ:    f.Type,
			secret: f.Tag.Get("secret"),
		}
		if prev, dup := s.byEnv[l.env]; dup {
			panic(fmt.Sprintf("config: keys %s and %s both map to %s", prev.key, l.key, l.env))
		}
		s.leaves = append(s.leaves, l)
		s.byEnv[l.env] = l
		s.byKey[l.key] = l
	}
}

// yamlName returns the key name of a struct field from its yaml tag.
func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" {
		return ""
	}
	return name
}

// EnvVars returns the name of every environment variable Load understands,
// sorted: one per leaf key, M9M_ + the key path in upper case joined by "_".
func EnvVars() []string {
	names := make([]string, 0, len(schema().leaves))
	for _, l := range schema().leaves {
		names = append(names, l.env)
	}
	slices.Sort(names)
	return names
}

// KeyForEnv returns the dotted key an environment variable overrides
// (M9M_SERVER_PORT → server.port), or false if name is not a known variable.
// Names match exactly, case included.
func KeyForEnv(name string) (string, bool) {
	l, ok := schema().byEnv[name]
	if !ok {
		return "", false
	}
	return l.key, true
}

// applyEnv sets every M9M_* variable of environ ("NAME=value" entries, the
// last one winning) on cfg and returns one error per unknown name or
// unparsable value.
func applyEnv(cfg *Config, environ []string) []error {
	vals := map[string]string{}
	for _, kv := range environ {
		name, val, ok := strings.Cut(kv, "=")
		if ok && strings.HasPrefix(name, EnvPrefix) {
			vals[name] = val
		}
	}
	names := make([]string, 0, len(vals))
	for name := range vals {
		names = append(names, name)
	}
	slices.Sort(names)

	var errs []error
	for _, name := range names {
		l, ok := schema().byEnv[name]
		if !ok && isServiceLink(name, vals[name]) {
			continue // Kubernetes' service links of a Service named m9m; see ServiceLinkVars
		}
		if !ok {
			problem := "unknown environment variable: no config key maps to it"
			if s := suggest(name, EnvVars()); s != "" {
				problem += fmt.Sprintf(" (did you mean %s?)", s)
			}
			errs = append(errs, fieldErr(name, problem))
			continue
		}
		if problem := setFromString(l, l.field(cfg), vals[name]); problem != "" {
			errs = append(errs, fieldErr(l.key, fmt.Sprintf("%s (from %s)", problem, name)))
		}
	}
	return errs
}

// setFromString parses raw into the leaf's field and returns a problem, or ""
// when it worked. Lists are comma-separated, with blanks around items
// ignored; an empty value is an empty list.
func setFromString(l *leaf, f reflect.Value, raw string) string {
	switch l.typ {
	case durationType:
		d, problem := parseDuration(raw, l)
		if problem != "" {
			return problem
		}
		f.SetInt(int64(d))
	case stringsType:
		f.Set(reflect.ValueOf(splitList(raw)))
	default:
		switch l.typ.Kind() {
		case reflect.String:
			f.SetString(raw)
		case reflect.Int:
			n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, strconv.IntSize)
			if err != nil {
				return "expected an integer, got " + show(l, raw)
			}
			f.SetInt(n)
		case reflect.Bool:
			b, err := strconv.ParseBool(strings.TrimSpace(raw))
			if err != nil {
				return "expected true or false, got " + show(l, raw)
			}
			f.SetBool(b)
		}
	}
	return ""
}

// parseDuration parses a Go duration; bare numbers are refused because their
// unit would be a guess.
func parseDuration(raw string, l *leaf) (time.Duration, string) {
	s := strings.TrimSpace(raw)
	if _, err := strconv.ParseFloat(s, 64); err == nil && s != "0" {
		return 0, "invalid duration " + show(l, raw) + ": a bare number has no unit; use Go syntax such as 15s, 1m30s or 720h"
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, "invalid duration " + show(l, raw) + ": use Go syntax such as 15s, 1m30s or 720h"
	}
	return d, ""
}

// splitList splits a comma-separated list, trimming blanks and dropping
// empty items.
func splitList(raw string) []string {
	out := []string{}
	for item := range strings.SplitSeq(raw, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// show quotes a value for an error message, unless the key holds a secret.
func show(l *leaf, v string) string {
	if l.isSecret() {
		return "a value that is not shown because the key holds a secret"
	}
	return strconv.Quote(v)
}

// suggest returns the candidate closest to name when it is close enough to be
// a likely typo, else "".
func suggest(name string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := levenshtein(strings.ToLower(name), strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// levenshtein is the edit distance between a and b.
func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
