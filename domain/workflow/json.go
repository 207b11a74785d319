package workflow

import "unicode/utf8"

// Limits on the numbers a stored JSON document may contain. Postgres keeps
// jsonb numbers as numeric and prints them without exponent, so "1e300"
// (5 bytes) comes back as 301 digits; unchecked, one request could store a
// document that is hundreds of times larger when read back, and "1e200000"
// or a 200,000-digit literal is refused by Postgres outright. The limits
// keep every number storable and bound the growth of a whole document.
const (
	MaxNumberDigits   = 1000  // digits in one number's mantissa
	MaxNumberExponent = 1000  // |exponent| of one number
	MaxExponentBudget = 65536 // sum of |exponent| over a document
)

// CheckStorable explains why raw, which must already be valid JSON, cannot
// be stored as Postgres jsonb, or returns "" when it can. jsonb refuses
// what RFC 8259 allows: invalid UTF-8, the escape \u0000, unpaired UTF-16
// surrogate escapes, and numbers outside numeric's range. Checking here
// gives the client a 400 naming the problem instead of a 500 from the
// database, and makes every store behave the same. It runs in linear time
// without allocating.
func CheckStorable(raw []byte) string {
	if !utf8.Valid(raw) {
		return "must be valid UTF-8"
	}
	budget := MaxExponentBudget
	for i := 0; i < len(raw); {
		c := raw[i]
		var msg string
		switch {
		case c == '"':
			i, msg = scanString(raw, i+1)
		case c == '-' || isDigit(c):
			var exp int
			i, exp, msg = scanNumber(raw, i)
			budget -= exp
			if msg == "" && budget < 0 {
				msg = "contains too many numbers with large exponents; write them out in full"
			}
		default:
			i++
		}
		if msg != "" {
			return msg
		}
	}
	return ""
}

// scanString scans a string body starting after its opening quote and
// returns the index after the closing quote.
func scanString(raw []byte, i int) (int, string) {
	for i < len(raw) {
		switch raw[i] {
		case '"':
			return i + 1, ""
		case '\\':
			if i+1 < len(raw) && raw[i+1] == 'u' {
				next, msg := scanUnicodeEscape(raw, i)
				if msg != "" {
					return next, msg
				}
				i = next
				continue
			}
			i += 2
		default:
			i++
		}
	}
	return i, ""
}

// scanUnicodeEscape checks the \uXXXX escape at i (and the low surrogate
// that must follow a high one) and returns the index after it.
func scanUnicodeEscape(raw []byte, i int) (int, string) {
	u, ok := hex4(raw, i+2)
	if !ok {
		return i + 2, "contains an invalid \\u escape"
	}
	switch {
	case u == 0:
		return i + 6, "must not contain the escape \\u0000"
	case u >= 0xDC00 && u <= 0xDFFF:
		return i + 6, "contains an unpaired UTF-16 surrogate escape"
	case u >= 0xD800 && u <= 0xDBFF:
		if i+7 >= len(raw) || raw[i+6] != '\\' || raw[i+7] != 'u' {
			return i + 6, "contains an unpaired UTF-16 surrogate escape"
		}
		lo, ok := hex4(raw, i+8)
		if !ok || lo < 0xDC00 || lo > 0xDFFF {
			return i + 6, "contains an unpaired UTF-16 surrogate escape"
		}
		return i + 12, ""
	}
	return i + 6, ""
}

func hex4(raw []byte, i int) (rune, bool) {
	if i+4 > len(raw) {
		return 0, false
	}
	var v rune
	for _, c := range raw[i : i+4] {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		v = v<<4 | rune(d)
	}
	return v, true
}

// scanNumber scans a JSON number at i and returns the index after it and
// the magnitude of its exponent.
func scanNumber(raw []byte, i int) (next, exp int, msg string) {
	digits := 0
	if raw[i] == '-' {
		i++
	}
	for i < len(raw) && (isDigit(raw[i]) || raw[i] == '.') {
		if raw[i] != '.' {
			digits++
		}
		i++
	}
	if i < len(raw) && (raw[i] == 'e' || raw[i] == 'E') {
		i++
		if i < len(raw) && (raw[i] == '+' || raw[i] == '-') {
			i++
		}
		for i < len(raw) && isDigit(raw[i]) {
			if exp <= MaxNumberExponent {
				exp = exp*10 + int(raw[i]-'0')
			}
			i++
		}
	}
	if digits > MaxNumberDigits || exp > MaxNumberExponent {
		return i, exp, "contains a number that is too long or too large to store"
	}
	return i, exp, ""
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
