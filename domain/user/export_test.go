package user

import "strings"

// CommonPasswords returns the embedded list's entries as written, so tests can
// check the file itself (duplicates, case, length).
func CommonPasswords() []string {
	var out []string
	for _, line := range strings.Split(commonPasswordsFile, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	return out
}
