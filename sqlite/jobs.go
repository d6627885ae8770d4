package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/internal/storecodec"
)

// The queries of the background jobs. Each is a range of a partial index
// (0008_expiration.sql) or of messages_by_time, forced with INDEXED BY so
// that preparing fails, rather than a job reading a whole table, should
// the index ever stop serving it.
var (
	qExpiredChannels = readQuery(`SELECT arn FROM channels INDEXED BY channels_by_expiry
	WHERE expires_at IS NOT NULL AND expires_at <= ?1 ORDER BY expires_at, arn LIMIT ?2`)
	qExpiredUsers = readQuery(`SELECT arn FROM users INDEXED BY users_by_expiry
	WHERE expires_at IS NOT NULL AND expires_at <= ?1 ORDER BY expires_at, arn LIMIT ?2`)
	qAppInstancesWithRetention = readQuery(`SELECT arn, retention_channel_days, retention_initiated
	FROM app_instances INDEXED BY app_instances_with_retention
	WHERE retention_channel_days > 0 AND arn > ?1 ORDER BY arn LIMIT ?2`)
	// qDeleteMessagesBefore deletes the oldest messages of one sub-channel
	// created before ?3: a range of messages_by_time from its start,
	// deleted by rowid.
	qDeleteMessagesBefore = writeQuery(`DELETE FROM messages WHERE rowid IN (
	SELECT rowid FROM messages INDEXED BY messages_by_time
	WHERE channel_arn = ?1 AND sub_channel_id = ?2 AND created < ?3
	ORDER BY created, seq LIMIT ?4)`)
	// qNextSubChannel finds the sub-channel after ?2 that has messages:
	// one seek of messages_by_time, whatever the number of messages.
	qNextSubChannel = readQuery(`SELECT sub_channel_id FROM messages INDEXED BY messages_by_time
	WHERE channel_arn = ?1 AND sub_channel_id > ?2 ORDER BY sub_channel_id LIMIT 1`)
)

func scanARN(s scanner) (string, error) {
	var arn string
	err := s.Scan(&arn)
	return arn, err
}

func (t *tx) ExpiredChannels(now time.Time, n int) ([]string, error) {
	return list(t, "expired channels", qExpiredChannels, scanARN, now.UnixMilli(), limit(n))
}

func (t *tx) ExpiredUsers(now time.Time, n int) ([]string, error) {
	return list(t, "expired users", qExpiredUsers, scanARN, now.UnixMilli(), limit(n))
}

func (t *tx) AppInstancesWithRetention(p carillon.Page) ([]carillon.AppInstanceRetention, error) {
	return list(t, "app instances with retention", qAppInstancesWithRetention, func(s scanner) (carillon.AppInstanceRetention, error) {
		var r carillon.AppInstanceRetention
		err := s.Scan(&r.AppInstanceARN, &r.Settings.ChannelDays, storecodec.Time(&r.Settings.InitiatedAt))
		return r, err
	}, p.After, limit(p.Limit))
}

// DeleteMessagesBefore deletes sub-channel by sub-channel: the channel's
// own messages (sub-channel ""), then each sub-channel that has messages,
// found by a seek from the previous one, until n are deleted.
func (t *tx) DeleteMessagesBefore(channelARN string, before time.Time, n int) (int, error) {
	what := fmt.Sprintf("delete messages of %q before %v", channelARN, before)
	if err := t.writable(what); err != nil {
		return 0, err
	}
	// Stored times are whole milliseconds: created < before is created
	// < before rounded up to the millisecond.
	cutoff := int64(math.MaxInt64)
	if !before.IsZero() {
		cutoff = storecodec.CeilMillis(before)
	}
	deleted := 0
	sub := ""
	for {
		lim := -1
		if n > 0 {
			lim = n - deleted
		}
		res, err := t.exec(qDeleteMessagesBefore, channelARN, sub, cutoff, lim)
		if err != nil {
			return deleted, fail(err, what)
		}
		k, err := res.RowsAffected()
		if err != nil {
			return deleted, fail(err, what)
		}
		deleted += int(k)
		if n > 0 && deleted >= n {
			return deleted, nil
		}
		err = t.queryRow(qNextSubChannel, channelARN, sub).Scan(&sub)
		if errors.Is(err, sql.ErrNoRows) {
			return deleted, nil
		}
		if err != nil {
			return deleted, fail(err, what)
		}
	}
}
