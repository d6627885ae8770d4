// Package paging turns the keyset pages of the store into the opaque
// NextToken and MaxResults of the APIs.
package paging

import (
	"encoding/base64"
	"strings"

	"github.com/carillonhq/carillon"
)

// DefaultLimit is the page size when a request gives no MaxResults; it is
// the largest the models allow.
const DefaultLimit = 50

// tokenPrefix versions the token format so it can change without
// misreading tokens that clients hold across an upgrade.
const tokenPrefix = "c1."

// Encode returns the NextToken that resumes after key.
func Encode(key string) string {
	return tokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(key))
}

// Decode returns the key a NextToken resumes after; "" for no token.
func Decode(token *string) (string, error) {
	if token == nil || *token == "" {
		return "", nil
	}
	rest, ok := strings.CutPrefix(*token, tokenPrefix)
	if !ok {
		return "", invalid()
	}
	key, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil || len(key) == 0 {
		return "", invalid()
	}
	return string(key), nil
}

func invalid() error {
	return carillon.Errorf(carillon.BadRequest, "The NextToken is not valid")
}

// Limit is the page size a request asks for.
func Limit(maxResults *int32) int {
	if maxResults == nil || *maxResults <= 0 {
		return DefaultLimit
	}
	return int(*maxResults)
}

// Request builds the store page for a request: one row more than the
// client asked for, so the service knows whether another page follows.
func Request(token *string, maxResults *int32) (carillon.Page, int, error) {
	after, err := Decode(token)
	if err != nil {
		return carillon.Page{}, 0, err
	}
	limit := Limit(maxResults)
	return carillon.Page{After: after, Limit: limit + 1}, limit, nil
}

// Trim cuts rows to limit and returns the NextToken for what follows, or
// nil when rows were the last page. key gives a row's keyset key.
func Trim[T any](rows []T, limit int, key func(*T) string) ([]T, *string) {
	if len(rows) <= limit {
		return rows, nil
	}
	rows = rows[:limit]
	tok := Encode(key(&rows[limit-1]))
	return rows, &tok
}
