package sqlite

import (
	"fmt"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/internal/storecodec"
)

// Streaming configurations and export cursors.

var (
	qDeleteStreamingConfigs = writeQuery(`DELETE FROM streaming_configurations WHERE app_instance_arn = ?`)
	qInsertStreamingConfig  = writeQuery(`INSERT INTO streaming_configurations (app_instance_arn, data_type, resource_arn, since) VALUES (?, ?, ?, ?)`)
	qInsertStreamCursor     = writeQuery(`INSERT INTO stream_cursors (app_instance_arn, resource_arn, seq) VALUES (?, ?, ?)
	ON CONFLICT (app_instance_arn, resource_arn) DO NOTHING`)
	qDeleteUnusedStreamCursors = writeQuery(`DELETE FROM stream_cursors WHERE app_instance_arn = ?1
	AND resource_arn NOT IN (SELECT resource_arn FROM streaming_configurations WHERE app_instance_arn = ?1)`)
	qDeleteStreamCursors = writeQuery(`DELETE FROM stream_cursors WHERE app_instance_arn = ?`)
	qStreamingConfigs    = readQuery(`SELECT app_instance_arn, data_type, resource_arn, since FROM streaming_configurations WHERE app_instance_arn = ? ORDER BY data_type`)
	// The whole tables, small ones (a row or two per AppInstance that
	// streams): the range on the key, which every ARN is in, reads them
	// in key order without a sort.
	qAllStreamingConfigs = readQuery(`SELECT app_instance_arn, data_type, resource_arn, since FROM streaming_configurations
	WHERE app_instance_arn > '' ORDER BY app_instance_arn, data_type`)
	qStreamCursors = readQuery(`SELECT app_instance_arn, resource_arn, seq FROM stream_cursors
	WHERE app_instance_arn > '' ORDER BY app_instance_arn, resource_arn`)
	qAdvanceStreamCursor = writeQuery(`UPDATE stream_cursors SET seq = MAX(seq, ?3) WHERE app_instance_arn = ?1 AND resource_arn = ?2`)
)

func scanStreamingConfig(s scanner) (carillon.StreamingConfiguration, error) {
	var c carillon.StreamingConfiguration
	err := s.Scan(&c.AppInstanceARN, &c.DataType, &c.ResourceARN, &c.Since)
	return c, err
}

func scanStreamCursor(s scanner) (carillon.StreamCursor, error) {
	var c carillon.StreamCursor
	err := s.Scan(&c.AppInstanceARN, &c.ResourceARN, &c.Seq)
	return c, err
}

func (t *tx) PutStreamingConfigurations(appInstanceARN string, cs []carillon.StreamingConfiguration) error {
	what := fmt.Sprintf("put streaming configurations of %q", appInstanceARN)
	if err := t.writable(what); err != nil {
		return err
	}
	if _, err := t.GetAppInstance(appInstanceARN); err != nil {
		return err
	}
	if err := t.write(what, qDeleteStreamingConfigs, appInstanceARN); err != nil {
		return err
	}
	// A stream that had no cursor gets one at the lowest Since of its
	// configurations; an existing cursor stays where it is.
	streams, since := storecodec.StreamCursorStarts(cs)
	for _, c := range cs {
		if err := t.write(what, qInsertStreamingConfig, appInstanceARN, c.DataType, c.ResourceARN, c.Since); err != nil {
			return err
		}
	}
	for _, r := range streams {
		if err := t.write(what, qInsertStreamCursor, appInstanceARN, r, since[r]); err != nil {
			return err
		}
	}
	return t.write(what, qDeleteUnusedStreamCursors, appInstanceARN)
}

func (t *tx) StreamingConfigurations(appInstanceARN string) ([]carillon.StreamingConfiguration, error) {
	return list(t, fmt.Sprintf("streaming configurations of %q", appInstanceARN), qStreamingConfigs, scanStreamingConfig, appInstanceARN)
}

func (t *tx) DeleteStreamingConfigurations(appInstanceARN string) error {
	what := fmt.Sprintf("delete streaming configurations of %q", appInstanceARN)
	if err := t.write(what, qDeleteStreamingConfigs, appInstanceARN); err != nil {
		return err
	}
	return t.write(what, qDeleteStreamCursors, appInstanceARN)
}

func (t *tx) AllStreamingConfigurations() ([]carillon.StreamingConfiguration, error) {
	return list(t, "streaming configurations", qAllStreamingConfigs, scanStreamingConfig)
}

func (t *tx) StreamCursors() ([]carillon.StreamCursor, error) {
	return list(t, "stream cursors", qStreamCursors, scanStreamCursor)
}

func (t *tx) AdvanceStreamCursor(appInstanceARN, resourceARN string, seq int64) error {
	// SQLite counts the row as changed even when seq stays as it was, so
	// only a missing cursor is ErrNotFound.
	return t.mutate(fmt.Sprintf("advance the stream cursor of %q to %q", appInstanceARN, resourceARN),
		qAdvanceStreamCursor, appInstanceARN, resourceARN, seq)
}
