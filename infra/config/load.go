package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load builds the configuration: Default, then the YAML file at path (none
// when path is ""), then the M9M_* variables of environ (os.Environ-style
// "NAME=value" entries), then the *_file secrets, then Validate.
//
// Every problem is reported at once, each naming its key: those of the file,
// the environment and the secret files, and those of Validate. A key whose
// value could not be read is not reported a second time by Validate.
func Load(path string, environ []string) (*Config, error) {
	return LoadFor(path, environ)
}

// LoadFor is Load for a command that needs only some sections: Validate's
// rules are applied only to keys under one of sections (dotted prefixes
// such as "database" or "security.password_hash"); none means every key.
// Problems reading the file, the environment or a secret file are reported
// whatever the section: they are mistakes in what the operator wrote.
func LoadFor(path string, environ []string, sections ...string) (*Config, error) {
	cfg := Default()
	var errs []error
	if path != "" {
		data, err := os.ReadFile(path) //nolint:gosec // the operator chooses the config file
		if err != nil {
			return nil, fmt.Errorf("read config file: %w", err)
		}
		yerrs, err := decodeYAML(data, cfg)
		if err != nil {
			return nil, fmt.Errorf("config file %s: %w", path, err)
		}
		errs = append(errs, yerrs...)
	}
	errs = append(errs, applyEnv(cfg, environ)...)
	errs = append(errs, resolveFiles(cfg)...)
	unread := map[string]bool{}
	for _, fe := range FieldErrors(errors.Join(errs...)) {
		k := baseKey(fe.Key)
		unread[k] = true
		unread[strings.TrimSuffix(k, fileSuffix)] = true
	}
	for _, fe := range FieldErrors(cfg.Validate()) {
		if k := baseKey(fe.Key); !unread[k] && inSections(k, sections) {
			errs = append(errs, fe)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return cfg, nil
}

// baseKey drops a list index: server.trusted_proxies[2] → server.trusted_proxies.
func baseKey(key string) string {
	k, _, _ := strings.Cut(key, "[")
	return k
}

// inSections reports whether key lies under one of sections (all when none).
func inSections(key string, sections []string) bool {
	if len(sections) == 0 {
		return true
	}
	for _, s := range sections {
		if key == s || strings.HasPrefix(key, s+".") {
			return true
		}
	}
	return false
}

// LoadFromOS is Load with the process environment.
func LoadFromOS(path string) (*Config, error) {
	return Load(path, os.Environ())
}

// decodeYAML decodes data onto cfg, keeping the current value of every key
// the document does not set (or sets to null). It returns one error per bad
// key, or a single error when data is not YAML at all.
//
// The document is walked as a yaml.Node tree against Config's yaml tags
// rather than decoded with yaml.Decoder.KnownFields(true): the result is
// equally strict, but every problem is reported at once and names its full
// dotted key, which yaml.v3's own type errors do not.
func decodeYAML(data []byte, cfg *Config) ([]error, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil // an empty file sets nothing
		}
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		return nil, errors.New("invalid YAML: the file holds more than one document")
	case !errors.Is(err, io.EOF):
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	d := &nodeDecoder{}
	d.value(doc.Content[0], reflect.ValueOf(cfg).Elem(), nil)
	return d.errs, nil
}

// nodeDecoder walks a yaml.Node tree onto a struct, collecting problems.
type nodeDecoder struct {
	errs []error
}

func (d *nodeDecoder) fail(path []string, n *yaml.Node, problem string) {
	key := strings.Join(path, ".")
	if key == "" {
		key = "(root)"
	}
	d.errs = append(d.errs, fieldErr(key, fmt.Sprintf("%s (line %d)", problem, n.Line)))
}

// deref follows aliases; the parser guarantees an alias points to an
// anchored node, and the schema's fixed depth bounds the walk even if an
// anchor refers to its own parent.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 8; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func (d *nodeDecoder) value(n *yaml.Node, v reflect.Value, path []string) {
	n = deref(n)
	if isNull(n) {
		return // null keeps the default, as if the key were absent
	}
	if v.Kind() == reflect.Struct {
		d.structure(n, v, path)
		return
	}
	l := schema().byKey[strings.Join(path, ".")]
	if v.Type() == stringsType {
		d.list(n, v, path)
		return
	}
	if n.Kind != yaml.ScalarNode {
		d.fail(path, n, "expected a single value, got "+kindName(n))
		return
	}
	switch v.Type() {
	case durationType:
		if tag := n.ShortTag(); tag != "!!str" && tag != "!!int" && tag != "!!float" {
			d.fail(path, n, "expected a duration such as 15s, got "+tag)
			return
		}
		if problem := setFromString(l, v, n.Value); problem != "" {
			d.fail(path, n, problem)
		}
	default:
		switch v.Kind() {
		case reflect.String:
			v.SetString(n.Value)
		case reflect.Int:
			// yaml.v3 would truncate 80.5 to 80; only an integer is accepted.
			var i int
			if n.ShortTag() != "!!int" || n.Decode(&i) != nil {
				d.fail(path, n, "expected an integer, got "+show(l, n.Value))
				return
			}
			v.SetInt(int64(i))
		case reflect.Bool:
			var b bool
			if err := n.Decode(&b); err != nil {
				d.fail(path, n, "expected true or false, got "+show(l, n.Value))
				return
			}
			v.SetBool(b)
		}
	}
}

func (d *nodeDecoder) structure(n *yaml.Node, v reflect.Value, path []string) {
	if n.Kind != yaml.MappingNode {
		d.fail(path, n, "expected a mapping of keys, got "+kindName(n))
		return
	}
	t := v.Type()
	fields := make(map[string]int, t.NumField())
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		name := yamlName(t.Field(i))
		fields[name] = i
		names = append(names, name)
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := deref(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.fail(path, k, "keys must be plain strings, got "+kindName(k))
			continue
		}
		p := append(append([]string(nil), path...), k.Value)
		if k.ShortTag() == "!!merge" {
			d.fail(p, k, "merge keys are not supported; write the keys out")
			continue
		}
		idx, ok := fields[k.Value]
		if !ok {
			problem := "unknown key"
			if s := suggest(k.Value, names); s != "" {
				problem += fmt.Sprintf(" (did you mean %q?)", s)
			}
			d.fail(p, k, problem)
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.fail(p, k, fmt.Sprintf("duplicate key, first set on line %d", first))
			continue
		}
		seen[k.Value] = k.Line
		d.value(val, v.Field(idx), p)
	}
}

func (d *nodeDecoder) list(n *yaml.Node, v reflect.Value, path []string) {
	if n.Kind != yaml.SequenceNode {
		d.fail(path, n, "expected a list, got "+kindName(n))
		return
	}
	out := make([]string, 0, len(n.Content))
	ok := true
	for i, item := range n.Content {
		item = deref(item)
		if item.Kind != yaml.ScalarNode || isNull(item) {
			p := append(append([]string(nil), path[:len(path)-1]...), fmt.Sprintf("%s[%d]", path[len(path)-1], i))
			d.fail(p, item, "expected a string, got "+kindName(item))
			ok = false
			continue
		}
		out = append(out, item.Value)
	}
	if ok {
		v.Set(reflect.ValueOf(out))
	}
}

// kindName describes a node for an error message without quoting its value.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		if isNull(n) {
			return "null"
		}
		return "a " + n.ShortTag() + " value"
	default:
		return "a YAML node"
	}
}
