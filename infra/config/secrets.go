package config

import (
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
)

// maxSecretFileBytes bounds a secret file, so a mistaken path such as
// /dev/zero cannot exhaust memory.
const maxSecretFileBytes = 64 << 10

// resolveFiles reads every non-empty "x_file" key into its sibling "x"
// (Docker and Kubernetes secrets are mounted as files). The trailing newline
// that editors and `echo` add is removed.
//
// Setting both is an error, unless x still holds its default value (the
// database and redis URLs have one, and a file must be able to replace it).
func resolveFiles(cfg *Config) []error {
	def := Default()
	var errs []error
	for _, p := range schema().files {
		path := p.file.field(cfg).String()
		if path == "" {
			continue
		}
		if p.value.typ == stringsType {
			errs = append(errs, resolveListFile(cfg, p, path)...)
			continue
		}
		cur := p.value.field(cfg).String()
		if cur != "" && cur != p.value.field(def).String() {
			errs = append(errs, fieldErr(p.value.key,
				fmt.Sprintf("set either %s or %s, not both", p.value.key, p.file.key)))
			continue
		}
		content, err := readSecretFile(path)
		if err != nil {
			errs = append(errs, fieldErr(p.file.key, err.Error()))
			continue
		}
		p.value.field(cfg).Set(reflect.ValueOf(content))
	}
	return errs
}

// resolveListFile reads a list key's file (security.jwt.previous_secrets_file):
// one item per line; blank lines and lines starting with # are skipped, and
// blanks around an item are removed.
func resolveListFile(cfg *Config, p filePair, path string) []error {
	if p.value.field(cfg).Len() > 0 {
		return []error{fieldErr(p.value.key, fmt.Sprintf("set either %s or %s, not both", p.value.key, p.file.key))}
	}
	content, err := readSecretFile(path)
	if err != nil {
		return []error{fieldErr(p.file.key, err.Error())}
	}
	items := []string{}
	for line := range strings.SplitSeq(content, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			items = append(items, line)
		}
	}
	p.value.field(cfg).Set(reflect.ValueOf(items))
	return nil
}

// readSecretFile returns the content of path without trailing CR/LF.
func readSecretFile(path string) (string, error) {
	f, err := os.Open(path) //nolint:gosec // the operator chooses the secret file
	if err != nil {
		return "", fmt.Errorf("cannot read secret file: %w", err)
	}
	defer func() { _ = f.Close() }()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFileBytes+1))
	if err != nil {
		return "", fmt.Errorf("cannot read secret file: %w", err)
	}
	if len(b) > maxSecretFileBytes {
		return "", fmt.Errorf("secret file %s is larger than %d bytes", path, maxSecretFileBytes)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}
