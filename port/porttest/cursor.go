package porttest

import "encoding/base64"

// unstorableCursors are well-formed list cursors whose id no store could
// hold (a NUL, as \u0000 in the cursor's JSON or as a raw byte): every
// store refuses them as malformed (INVALID_REQUEST on "cursor"), never with
// a database error (Postgres 22021 was a 500).
var unstorableCursors = []string{
	base64.RawURLEncoding.EncodeToString([]byte(`{"t":"2026-01-27T10:00:00Z","id":"\u0000"}`)),
	base64.RawURLEncoding.EncodeToString([]byte(`{"t":"2026-01-27T10:00:00Z","id":"abc\u0000def"}`)),
	base64.RawURLEncoding.EncodeToString([]byte("2026-01-27T10:00:00.000000Z|abc\x00def")),
}
