package sqlite

import (
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	msqlite "modernc.org/sqlite"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/internal/storecodec"
)

// Tags.

var (
	qTags      = readQuery(`SELECT key, value FROM tags WHERE resource_arn = ? ORDER BY key`)
	qPutTag    = writeQuery(`INSERT INTO tags (resource_arn, key, value) VALUES (?, ?, ?) ON CONFLICT (resource_arn, key) DO UPDATE SET value = excluded.value`)
	qDeleteTag = writeQuery(`DELETE FROM tags WHERE resource_arn = ? AND key = ?`)
)

func scanTag(s scanner) (carillon.Tag, error) {
	var t carillon.Tag
	err := s.Scan(&t.Key, &t.Value)
	return t, err
}

func (t *tx) Tags(resourceARN string) ([]carillon.Tag, error) {
	return list(t, fmt.Sprintf("tags of %q", resourceARN), qTags, scanTag, resourceARN)
}

// PutTags upserts one row per tag: a resource has at most 50 tags, so one
// prepared statement run a few times beats building a statement per call.
func (t *tx) PutTags(resourceARN string, tags []carillon.Tag) error {
	what := fmt.Sprintf("put tags of %q", resourceARN)
	if err := t.writable(what); err != nil {
		return err
	}
	for _, tag := range tags {
		if _, err := t.exec(qPutTag, resourceARN, tag.Key, tag.Value); err != nil {
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
		if _, err := t.exec(qDeleteTag, resourceARN, k); err != nil {
			return fail(err, what)
		}
	}
	return nil
}

// Idempotency.

var (
	qIdempotent    = readQuery(`SELECT result FROM idempotency WHERE key = ?`)
	qPutIdempotent = writeQuery(`INSERT INTO idempotency (key, result, created) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING`)
	// The oldest first: the table is in the order the records were
	// stored (0016), so the oldest are its first rows. Of the first limit
	// rows, those stored before the time: a record stored after a clock
	// stepped back may wait for the ones stored before it. Every id is
	// positive (SQLite hands out rowids from 1): the range is all of them.
	qDeleteIdempotentBefore = writeQuery(`DELETE FROM idempotency
		WHERE id IN (SELECT id FROM idempotency WHERE id > 0 ORDER BY id LIMIT ?2) AND created < ?1`)
)

// idempotencyKey is the key of the record of (scope, token): the SHA-256
// of the scope's length, the scope and the token, so that no two pairs
// share their bytes. Migration 0016 says why a hash rather than the pair.
func idempotencyKey(scope, token string) []byte {
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	h.Write(n[:binary.PutUvarint(n[:], uint64(len(scope)))])
	h.Write([]byte(scope))
	h.Write([]byte(token))
	return h.Sum(make([]byte, 0, sha256.Size))
}

// The key for migration 0016, which rekeys the records written before it.
func init() {
	msqlite.MustRegisterDeterministicScalarFunction("carillon_idempotency_key", 2,
		func(_ *msqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			scope, ok1 := args[0].(string)
			token, ok2 := args[1].(string)
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("carillon_idempotency_key: want two strings, have %T and %T", args[0], args[1])
			}
			return idempotencyKey(scope, token), nil
		})
}

func (t *tx) Idempotent(scope, token string) (string, bool, error) {
	var result string
	err := t.queryRow(qIdempotent, idempotencyKey(scope, token)).Scan(&result)
	switch {
	case err == nil:
		return result, true, nil
	case errors.Is(err, sql.ErrNoRows):
		return "", false, nil
	default:
		return "", false, fail(err, fmt.Sprintf("idempotency token %q in %q", token, scope))
	}
}

// PutIdempotent keeps the first result: a retry that raced the first
// request must not overwrite what the first one answered.
func (t *tx) PutIdempotent(scope, token, result string) error {
	return t.write(fmt.Sprintf("put idempotency token %q in %q", token, scope), qPutIdempotent,
		idempotencyKey(scope, token), result, storecodec.Millis(t.now))
}

// ClaimIdempotent inserts the result, and reads the stored one only when
// the insert found it there: a token's first use costs one statement.
func (t *tx) ClaimIdempotent(scope, token, result string) (string, bool, error) {
	// Formatted only for an error (mutateLazy says why).
	what := func() string { return fmt.Sprintf("claim idempotency token %q in %q", token, scope) }
	if t.readOnly {
		return "", false, t.writable(what())
	}
	res, err := t.exec(qPutIdempotent, idempotencyKey(scope, token), result, storecodec.Millis(t.now))
	if err != nil {
		return "", false, fail(err, what())
	}
	n, err := res.RowsAffected()
	if err != nil {
		return "", false, fail(err, what())
	}
	if n == 1 {
		return "", false, nil
	}
	prev, found, err := t.Idempotent(scope, token)
	if err == nil && !found {
		err = fmt.Errorf("sqlite: %s: the insert found a result the read did not", what())
	}
	return prev, found, err
}

func (t *tx) DeleteIdempotentBefore(before time.Time, limit int) (int, error) {
	what := fmt.Sprintf("delete idempotency results before %v", before)
	if err := t.writable(what); err != nil {
		return 0, err
	}
	res, err := t.exec(qDeleteIdempotentBefore, storecodec.Millis(before), limit)
	if err != nil {
		return 0, fail(err, what)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fail(err, what)
	}
	return int(n), nil
}

// Access keys.

const accessKeyCols = `id, secret, bearer, expires, created, session_id`

var (
	qCreateAccessKey = writeQuery(`INSERT INTO access_keys (` + accessKeyCols + `) VALUES (?, ?, ?, ?, ?, ?)`)
	qGetAccessKey    = readQuery(`SELECT ` + accessKeyCols + ` FROM access_keys WHERE id = ?`)
	qDeleteAccessKey = writeQuery(`DELETE FROM access_keys WHERE id = ?`)
	qListAccessKeys  = readQuery(`SELECT ` + accessKeyCols + ` FROM access_keys WHERE bearer = ? ORDER BY id`)
	qAllAccessKeys   = readQuery(`SELECT ` + accessKeyCols + ` FROM access_keys WHERE id > ? ORDER BY id LIMIT ?`)
)

func scanAccessKey(s scanner) (carillon.AccessKey, error) {
	var k carillon.AccessKey
	err := s.Scan(&k.ID, &k.Secret, &k.Bearer, storecodec.Time(&k.Expires), storecodec.Time(&k.Created), &k.SessionID)
	return k, err
}

func (t *tx) CreateAccessKey(k *carillon.AccessKey) error {
	return t.write(fmt.Sprintf("create access key %q", k.ID), qCreateAccessKey,
		k.ID, k.Secret, k.Bearer, storecodec.Millis(k.Expires), storecodec.Millis(k.Created), k.SessionID)
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
	return list(t, "access keys", qAllAccessKeys, scanAccessKey, p.After, limit(p.Limit))
}

// Outbox.

const eventCols = `seq, at, type, channel, to_members, recipients, member, member_change, message_type, reason, payload, data`

var (
	// qAppendEvent takes the next value of the event_seq counter, which
	// the outbox_seq trigger (migration 0015) moves on to it.
	qAppendEvent = writeQuery(`INSERT INTO outbox (seq, at, type, channel, to_members, recipients, member, member_change, message_type, reason, payload, data)
	VALUES ((SELECT value + 1 FROM counters WHERE name = 'event_seq'), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	qEvents              = readQuery(`SELECT ` + eventCols + ` FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?`)
	qDeleteEventsThrough = writeQuery(`DELETE FROM outbox WHERE seq <= ?`)
)

func scanEvent(s scanner) (carillon.Event, error) {
	var r storecodec.EventRow
	if err := s.Scan(r.Dest()...); err != nil {
		return carillon.Event{}, err
	}
	return r.Event()
}

// AppendEvent inserts e and sets its Seq, the next value of the event_seq
// counter (the row's rowid), and its At, the transaction's time.
func (t *tx) AppendEvent(e *carillon.Event) error {
	const what = "append event"
	if err := t.writable(what); err != nil {
		return err
	}
	recipients, payload, data, err := storecodec.EventColumns(e)
	if err != nil {
		return fail(err, what)
	}
	res, err := t.exec(qAppendEvent, storecodec.Millis(t.now), e.Type, e.Channel, e.ToMembers, recipients, e.Member, e.MemberChange,
		e.MessageType, e.Reason, payload, data)
	if err != nil {
		return fail(err, what)
	}
	seq, err := res.LastInsertId()
	if err != nil {
		return fail(err, what)
	}
	e.Seq, e.At = seq, t.now
	t.events = append(t.events, keep(e))
	return nil
}

// Events returns up to limit events after seq after; limit <= 0 means all.
// A View that has read nothing yet takes them from the memory of recent
// events when it holds them (recent.go): the relay's read of what was
// just committed costs no query.
func (t *tx) Events(after int64, n int) ([]carillon.Event, error) {
	if t.readOnly && !t.read && n > 0 {
		if events, ok := t.db.recent.get(after, n); ok {
			return events, nil
		}
	}
	return list(t, "events", qEvents, scanEvent, after, limit(n))
}

func (t *tx) DeleteEventsThrough(seq int64) error {
	if err := t.write("delete events", qDeleteEventsThrough, seq); err != nil {
		return err
	}
	t.trim = max(t.trim, seq)
	return nil
}
