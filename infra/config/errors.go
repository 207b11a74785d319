package config

// FieldError is one problem with one configuration key. Load and Validate
// return several of them joined with errors.Join; each prints as
// "<dotted.key>: <problem>". Problem never contains a secret value.
type FieldError struct {
	// Key is the dotted key path ("security.jwt.secret", "server.trusted_proxies[2]"),
	// or the name of an unknown M9M_* environment variable.
	Key string
	// Problem says what is wrong and, where it helps, what is expected.
	Problem string
}

// Error implements error.
func (e *FieldError) Error() string { return e.Key + ": " + e.Problem }

// FieldErrors returns every FieldError in err's tree (as built by Load or
// Validate), in order, so callers can report them one per line or inspect
// the keys.
func FieldErrors(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		switch u := e.(type) { //nolint:errorlint // walks the tree itself, unwrapping each level
		case *FieldError:
			out = append(out, u)
		case interface{ Unwrap() []error }:
			for _, c := range u.Unwrap() {
				walk(c)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// fieldErr builds a *FieldError as an error.
func fieldErr(key, problem string) error {
	return &FieldError{Key: key, Problem: problem}
}
