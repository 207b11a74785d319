package port

import "context"

// PasswordHasher hashes and verifies passwords. Implementations bound the
// number of concurrent hashes, so a login flood queues instead of exhausting
// memory; a caller that waits too long gets domain.ErrUnavailable.
type PasswordHasher interface {
	// Hash returns an encoded (PHC) hash of password.
	Hash(ctx context.Context, password string) (string, error)
	// Verify reports whether password matches encoded, in constant time, and
	// whether encoded uses outdated parameters and should be re-hashed.
	Verify(ctx context.Context, password, encoded string) (ok, needsRehash bool, err error)
	// VerifyDummy costs what Verify costs and matches nothing; login calls it
	// for unknown usernames so timing does not reveal which usernames exist.
	// It errs only as Verify would (saturated hasher, cancelled ctx), so an
	// overloaded server answers known and unknown usernames alike.
	VerifyDummy(ctx context.Context, password string) error
}
