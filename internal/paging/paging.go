// Package paging turns the keyset pages of the store into the opaque
// NextToken and MaxResults of the APIs.
package paging

import (
	"context"
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

// List runs one page of a List operation in a read-only transaction of
// store: the request's NextToken and MaxResults become a store page of one
// row more than asked (Request); read reads it, after whatever check of
// the parent the list belongs to that the operation makes (its error is
// the operation's); the rows are cut to the page (Trim), key giving a
// row's keyset key, and each kept row becomes its output shape. It
// returns the shapes, never nil, and the NextToken of the next page, nil
// after the last.
func List[Row, Shape any](ctx context.Context, store carillon.Store, token *string, maxResults *int32,
	read func(tx carillon.Tx, p carillon.Page) ([]Row, error), key func(*Row) string, shape func(*Row) Shape) ([]Shape, *string, error) {
	page, limit, err := Request(token, maxResults)
	if err != nil {
		return nil, nil, err
	}
	var rows []Row
	err = store.View(ctx, func(tx carillon.Tx) error {
		var err error
		rows, err = read(tx, page)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	rows, next := Trim(rows, limit, key)
	out := make([]Shape, len(rows))
	for i := range rows {
		out[i] = shape(&rows[i])
	}
	return out, next, nil
}
