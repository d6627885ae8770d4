package storecodec

import "fmt"

// Text is how an engine scans a column of free text into a string: the
// string itself for SQLite, a destination that takes bytea for
// PostgreSQL.
type Text func(*string) any

// NullInt scans a nullable integer column.
type NullInt struct {
	Int   int
	Valid bool // false for NULL
}

func (n *NullInt) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*n = NullInt{}
	case int64:
		*n = NullInt{int(v), true}
	default:
		return fmt.Errorf("integer column holds a %T", v)
	}
	return nil
}

// NullString scans a nullable text or bytea column.
type NullString struct {
	String string
	Valid  bool // false for NULL
}

func (n *NullString) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*n = NullString{}
	case string:
		*n = NullString{v, true}
	case []byte:
		*n = NullString{string(v), true}
	default:
		return fmt.Errorf("text column holds a %T", v)
	}
	return nil
}
