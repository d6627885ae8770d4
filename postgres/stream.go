package postgres

import (
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/internal/storecodec"
)

// Streaming configurations and export cursors.

const (
	qDeleteStreamingConfigs = `DELETE FROM streaming_configurations WHERE app_instance_arn = $1`
	qInsertStreamingConfig  = `INSERT INTO streaming_configurations (app_instance_arn, data_type, resource_arn, since) VALUES ($1, $2, $3, $4)
	ON CONFLICT DO NOTHING`
	qInsertStreamCursor = `INSERT INTO stream_cursors (app_instance_arn, resource_arn, seq) VALUES ($1, $2, $3)
	ON CONFLICT (app_instance_arn, resource_arn) DO NOTHING`
	qDeleteUnusedStreamCursors = `DELETE FROM stream_cursors WHERE app_instance_arn = $1
	AND resource_arn NOT IN (SELECT resource_arn FROM streaming_configurations WHERE app_instance_arn = $1)`
	qDeleteStreamCursors = `DELETE FROM stream_cursors WHERE app_instance_arn = $1`
	qStreamingConfigs    = `SELECT app_instance_arn, data_type, resource_arn, since FROM streaming_configurations WHERE app_instance_arn = $1 ORDER BY data_type`
	qAllStreamingConfigs = `SELECT app_instance_arn, data_type, resource_arn, since FROM streaming_configurations
	ORDER BY app_instance_arn, data_type`
	qStreamCursors = `SELECT app_instance_arn, resource_arn, seq FROM stream_cursors
	ORDER BY app_instance_arn, resource_arn`
	qAdvanceStreamCursor = `UPDATE stream_cursors SET seq = greatest(seq, $3) WHERE app_instance_arn = $1 AND resource_arn = $2`
)

func scanStreamingConfig(s pgx.Row) (carillon.StreamingConfiguration, error) {
	var c carillon.StreamingConfiguration
	err := s.Scan(&c.AppInstanceARN, &c.DataType, &c.ResourceARN, &c.Since)
	return c, err
}

func scanStreamCursor(s pgx.Row) (carillon.StreamCursor, error) {
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
		if err := t.insert(what, qInsertStreamingConfig, "", nil, appInstanceARN, c.DataType, c.ResourceARN, c.Since); err != nil {
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
	if err := t.touch("stream cursor", appInstanceARN, resourceARN); err != nil {
		return fail(err, "lock a row")
	}
	// PostgreSQL counts the row as updated even when seq stays as it was,
	// so only a missing cursor is ErrNotFound.
	return t.mutate(fmt.Sprintf("advance the stream cursor of %q to %q", appInstanceARN, resourceARN),
		qAdvanceStreamCursor, appInstanceARN, resourceARN, seq)
}
