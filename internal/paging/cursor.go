package paging

import (
	"encoding/base64"
	"encoding/binary"
	"strings"
	"time"

	"github.com/carillonhq/carillon"
)

// cursorPrefix versions the token format of message positions.
const cursorPrefix = "m1."

// cursorLen is the decoded length of a cursor token: the order, the
// creation time in Unix milliseconds and the sequence number.
const cursorLen = 1 + 8 + 8

// EncodeCursor returns the NextToken that resumes a message list after c,
// for a list in the given order.
func EncodeCursor(c carillon.MessageCursor, descending bool) string {
	var b [cursorLen]byte
	b[0] = orderByte(descending)
	binary.BigEndian.PutUint64(b[1:9], uint64(c.Created.UnixMilli()))
	binary.BigEndian.PutUint64(b[9:], uint64(c.Seq))
	return cursorPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// DecodeCursor returns the position a NextToken resumes after; nil for no
// token. A token of a list in the other order is refused: it would skip
// or repeat messages.
func DecodeCursor(token *string, descending bool) (*carillon.MessageCursor, error) {
	if token == nil || *token == "" {
		return nil, nil
	}
	rest, ok := strings.CutPrefix(*token, cursorPrefix)
	if !ok {
		return nil, invalid()
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil || len(b) != cursorLen {
		return nil, invalid()
	}
	if b[0] != orderByte(descending) {
		return nil, invalid()
	}
	return &carillon.MessageCursor{
		Created: time.UnixMilli(int64(binary.BigEndian.Uint64(b[1:9]))).UTC(),
		Seq:     int64(binary.BigEndian.Uint64(b[9:])),
	}, nil
}

func orderByte(descending bool) byte {
	if descending {
		return 'D'
	}
	return 'A'
}
