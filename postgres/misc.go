package postgres

import (
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/internal/storecodec"
)

// Tags.

const (
	qTags      = `SELECT key, value FROM tags WHERE resource_arn = $1 ORDER BY key`
	qPutTag    = `INSERT INTO tags (resource_arn, key, value) VALUES ($1, $2, $3) ON CONFLICT (resource_arn, key) DO UPDATE SET value = excluded.value`
	qDeleteTag = `DELETE FROM tags WHERE resource_arn = $1 AND key = $2`
)

func scanTag(s pgx.Row) (carillon.Tag, error) {
	var t carillon.Tag
	err := s.Scan(bstr{&t.Key}, bstr{&t.Value})
	return t, err
}

func (t *tx) Tags(resourceARN string) ([]carillon.Tag, error) {
	return list(t, fmt.Sprintf("tags of %q", resourceARN), qTags, scanTag, resourceARN)
}

// PutTags upserts one row per tag: a resource has at most 50 tags.
func (t *tx) PutTags(resourceARN string, tags []carillon.Tag) error {
	what := fmt.Sprintf("put tags of %q", resourceARN)
	if err := t.writable(what); err != nil {
		return err
	}
	for _, tag := range tags {
		if _, err := t.exec(qPutTag, resourceARN, b(tag.Key), b(tag.Value)); err != nil {
			return fail(err, what)
		}
	}
	return nil
}

func (t *tx) DeleteTags(resourceARN string, keys []string) error {
	what := fmt.Sprintf("delete tags of %q", resourceARN)
	if err := t.writable(what); err != nil {
		return err
	}
	for _, k := range keys {
		if _, err := t.exec(qDeleteTag, resourceARN, b(k)); err != nil && !errors.Is(err, errNUL) {
			return fail(err, what)
		}
	}
	return nil
}

// Idempotency.

const (
	qIdempotent    = `SELECT result FROM idempotency WHERE scope = $1 AND token = $2`
	qPutIdempotent = `INSERT INTO idempotency (scope, token, result, created) VALUES ($1, $2, $3, $4) ON CONFLICT (scope, token) DO NOTHING`
	// The oldest first, by idempotency_by_created.
	qDeleteIdempotentBefore = `DELETE FROM idempotency WHERE (scope, token) IN
		(SELECT scope, token FROM idempotency WHERE created < $1 ORDER BY created LIMIT $2)`
)

func (t *tx) Idempotent(scope, token string) (string, bool, error) {
	var result string
	err := t.queryRow(qIdempotent, scope, token).Scan(&result)
	switch {
	case err == nil:
		return result, true, nil
	case errors.Is(err, pgx.ErrNoRows):
		return "", false, nil
	default:
		return "", false, fail(err, fmt.Sprintf("idempotency token %q in %q", token, scope))
	}
}

// PutIdempotent keeps the first result: a retry that raced the first
// request must not overwrite what the first one answered.
func (t *tx) PutIdempotent(scope, token, result string) error {
	return t.write(fmt.Sprintf("put idempotency token %q in %q", token, scope), qPutIdempotent,
		scope, token, result, ms(t.now))
}

// ClaimIdempotent inserts the result, and reads the stored one only when
// the insert found it there: a token's first use costs one statement.
func (t *tx) ClaimIdempotent(scope, token, result string) (string, bool, error) {
	what := fmt.Sprintf("claim idempotency token %q in %q", token, scope)
	if err := t.writable(what); err != nil {
		return "", false, err
	}
	tag, err := t.exec(qPutIdempotent, scope, token, result, ms(t.now))
	if err != nil {
		return "", false, fail(err, what)
	}
	if tag.RowsAffected() == 1 {
		return "", false, nil
	}
	prev, found, err := t.Idempotent(scope, token)
	if err == nil && !found {
		err = fmt.Errorf("postgres: %s: the insert found a result the read did not", what)
	}
	return prev, found, err
}

func (t *tx) DeleteIdempotentBefore(before time.Time, n int) (int, error) {
	what := fmt.Sprintf("delete idempotency results before %v", before)
	if err := t.writable(what); err != nil {
		return 0, err
	}
	var lim any = n
	if n < 0 {
		lim = nil
	}
	tag, err := t.exec(qDeleteIdempotentBefore, ms(before), lim)
	if err != nil {
		return 0, fail(err, what)
	}
	return int(tag.RowsAffected()), nil
}

// Access keys.

const accessKeyCols = `id, secret, bearer, expires, created, session_id`

const (
	qCreateAccessKey = `INSERT INTO access_keys (` + accessKeyCols + `) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`
	qGetAccessKey    = `SELECT ` + accessKeyCols + ` FROM access_keys WHERE id = $1`
	qDeleteAccessKey = `DELETE FROM access_keys WHERE id = $1`
	qListAccessKeys  = `SELECT ` + accessKeyCols + ` FROM access_keys WHERE bearer = $1 ORDER BY id`
	qAllAccessKeys   = `SELECT ` + accessKeyCols + ` FROM access_keys WHERE id > $1 ORDER BY id LIMIT $2`
)

func scanAccessKey(s pgx.Row) (carillon.AccessKey, error) {
	var k carillon.AccessKey
	err := s.Scan(&k.ID, &k.Secret, &k.Bearer, storecodec.Time(&k.Expires), storecodec.Time(&k.Created), &k.SessionID)
	return k, err
}

func (t *tx) CreateAccessKey(k *carillon.AccessKey) error {
	return t.insert(fmt.Sprintf("create access key %q", k.ID), qCreateAccessKey, "", nil,
		k.ID, k.Secret, k.Bearer, ms(k.Expires), ms(k.Created), k.SessionID)
}

func (t *tx) GetAccessKey(id string) (*carillon.AccessKey, error) {
	k, err := scanAccessKey(t.queryRow(qGetAccessKey, id))
	if err != nil {
		return nil, fail(err, fmt.Sprintf("access key %q", id))
	}
	return &k, nil
}

func (t *tx) DeleteAccessKey(id string) error {
	return t.mutate(fmt.Sprintf("delete access key %q", id), qDeleteAccessKey, id)
}

// ListAccessKeys returns the bearer's keys in id order.
func (t *tx) ListAccessKeys(bearer string) ([]carillon.AccessKey, error) {
	return list(t, fmt.Sprintf("access keys of %q", bearer), qListAccessKeys, scanAccessKey, bearer)
}

// ListAllAccessKeys pages by id through every key.
func (t *tx) ListAllAccessKeys(p carillon.Page) ([]carillon.AccessKey, error) {
	return list(t, "access keys", qAllAccessKeys, scanAccessKey, after(p.After), limit(p.Limit))
}
