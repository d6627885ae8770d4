package api

import (
	"slices"
	"unicode/utf8"
)

// The generated shapes encode themselves (AppendJSON) with the helpers
// below instead of going through encoding/json's reflection: a response,
// an idempotency fingerprint and an event payload are encoded on every
// request. The output is byte for byte what encoding/json writes for the
// same value, which the generated packages' tests check on every shape:
// strings escaped as its encoder escapes them (SetEscapeHTML decides
// whether <, > and & are), map keys sorted, timestamps through
// Timestamp's MarshalJSON.

// JSONAppender is implemented by every generated structure shape.
type JSONAppender interface {
	// AppendJSON appends the shape's JSON form to b: what encoding/json's
	// Encoder writes for it, without the final newline, with
	// SetEscapeHTML(escapeHTML).
	AppendJSON(b []byte, escapeHTML bool) []byte
}

const hexDigits = "0123456789abcdef"

// jsonSafe holds, for each ASCII byte, 1 when encoding/json writes it as it
// is, 2 when it does so only without HTML escaping (<, >, &), and 0 when it
// escapes it.
var jsonSafe = func() (t [utf8.RuneSelf]uint8) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = 1
	}
	t['"'], t['\\'] = 0, 0
	t['<'], t['>'], t['&'] = 2, 2, 2
	return t
}()

// AppendJSONString appends s as a JSON string.
func AppendJSONString(b []byte, s string, escapeHTML bool) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if safe := jsonSafe[c]; safe == 1 || (safe == 2 && !escapeHTML) {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			// Invalid UTF-8 becomes U+FFFD, as encoding/json writes it.
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			// JavaScript's line terminators, escaped by encoding/json
			// whatever SetEscapeHTML says.
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// AppendJSONKey appends the separator a member needs (a comma unless it is
// the first of its object, which began at offset start of b) and the
// member's name, which must need no escaping.
func AppendJSONKey(b []byte, start int, name string) []byte {
	if len(b) > start {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, name...)
	return append(b, '"', ':')
}

// AppendJSONBool appends true or false.
func AppendJSONBool(b []byte, v bool) []byte {
	if v {
		return append(b, "true"...)
	}
	return append(b, "false"...)
}

// SortedKeys returns the keys of m in the order encoding/json writes them.
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
