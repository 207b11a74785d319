package httpapi

import (
	"slices"
	"sync"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// jsonAppender is a body that writes its own JSON: byte for byte what
// encoding/json writes for it (the tests compare the two), without
// reflection. Only the bodies of the hottest answers implement it.
type jsonAppender interface {
	appendJSON(dst []byte) []byte
}

// jsonSerializer is echo's JSON serializer with a fast path: a jsonAppender
// or a flat map[string]string (the /health answer) is encoded by hand into
// a pooled buffer; anything else, and every indented (?pretty) answer,
// goes to encoding/json as before. Output is identical either way,
// including encoding/json's HTML escaping and its trailing newline.
type jsonSerializer struct {
	echo.DefaultJSONSerializer
}

var jsonBuffers = sync.Pool{New: func() any {
	b := make([]byte, 0, 1024)
	return &b
}}

// maxPooledJSON keeps one huge answer from pinning its buffer in the pool.
const maxPooledJSON = 64 << 10

func (s jsonSerializer) Serialize(c echo.Context, i any, indent string) error {
	if indent != "" {
		return s.DefaultJSONSerializer.Serialize(c, i, indent)
	}
	bp := jsonBuffers.Get().(*[]byte)
	var b []byte
	switch v := i.(type) {
	case jsonAppender:
		b = v.appendJSON((*bp)[:0])
	case map[string]string:
		b = appendStringMap((*bp)[:0], v)
	default:
		jsonBuffers.Put(bp)
		return s.DefaultJSONSerializer.Serialize(c, i, indent)
	}
	b = append(b, '\n')
	_, err := c.Response().Write(b)
	if cap(b) <= maxPooledJSON {
		*bp = b[:0]
		jsonBuffers.Put(bp)
	}
	return err
}

// appendStringMap writes m as encoding/json does: keys sorted, a nil map as null.
func appendStringMap(dst []byte, m map[string]string) []byte {
	if m == nil {
		return append(dst, "null"...)
	}
	var stack [8]string
	keys := stack[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, k)
		dst = append(dst, ':')
		dst = appendJSONString(dst, m[k])
	}
	return append(dst, '}')
}

// appendJSONField writes ,"name": (no comma for the first field) and the
// string value.
func appendJSONField(dst []byte, first bool, name, value string) []byte {
	if !first {
		dst = append(dst, ',')
	}
	dst = appendJSONString(dst, name)
	dst = append(dst, ':')
	return appendJSONString(dst, value)
}

// appendStringSlice writes a slice of strings, nil as null.
func appendStringSlice[S ~string](dst []byte, s []S) []byte {
	if s == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i, v := range s {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, string(v))
	}
	return append(dst, ']')
}

const hexDigits = "0123456789abcdef"

// appendJSONString is encoding/json's string encoding with HTML escaping
// (its Encoder's default, which echo uses): <, >, & and control characters
// as \u00XX (\b \f \n \r \t short), " and \ escaped, invalid UTF-8 as
// \ufffd, U+2028 and U+2029 escaped.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
