package webhook

import (
	"encoding/hex"
	"errors"
	"strings"
)

// The hmac scheme's headers (contract §8).
const (
	HeaderTimestamp = "X-M9m-Timestamp"
	HeaderSignature = "X-M9m-Signature"
)

// signaturePrefix names the only algorithm accepted; there is deliberately
// no negotiation, so nobody can downgrade a webhook to a weaker MAC.
const signaturePrefix = "sha256="

// maxTimestampDigits bounds X-M9M-Timestamp: unix seconds fit in 12 digits
// until the year 33658, and the bound keeps arithmetic far from overflow.
const maxTimestampDigits = 12

var (
	errBadSignature = errors.New("webhook: malformed signature header")
	errBadTimestamp = errors.New("webhook: malformed timestamp header")
)

// ParseSignatureHeader parses "sha256=<64 hex digits>" (either case of hex)
// into the 32-byte MAC. Anything else, surrounding white space included, is
// an error; the value is untrusted input.
func ParseSignatureHeader(v string) ([]byte, error) {
	h, ok := strings.CutPrefix(v, signaturePrefix)
	if !ok || len(h) != 64 {
		return nil, errBadSignature
	}
	mac, err := hex.DecodeString(h)
	if err != nil {
		return nil, errBadSignature
	}
	return mac, nil
}

// ParseTimestamp parses X-M9M-Timestamp: unix seconds as 1 to 12 ASCII
// digits, without sign, white space or leading zeros, so that each instant
// has exactly one spelling.
func ParseTimestamp(v string) (int64, error) {
	if len(v) < 1 || len(v) > maxTimestampDigits || (len(v) > 1 && v[0] == '0') {
		return 0, errBadTimestamp
	}
	var n int64
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, errBadTimestamp
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}
