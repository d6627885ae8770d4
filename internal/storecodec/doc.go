// Package storecodec is how the two engines of carillon.Store (packages
// sqlite and postgres) encode carillon's types into the columns of their
// tables and decode them back: one piece of code for what both store the
// same way, so that a row written by either reads back alike and a change
// of an encoding is made, and reviewed, once.
//
// What belongs here:
//
//   - times as milliseconds since the epoch, NULL for the zero time
//     (Millis, Time);
//   - the JSON columns, each with JSON names of its own so that renaming a
//     Go field cannot change what is stored: a flow's processors, a held
//     message, a bot's Lex configuration, a message's attributes and push
//     notification, an event's recipients, a session position's pending
//     events and audiences;
//   - nullable column groups (a channel's elastic configuration, an
//     expiration, a membership's preferences) and the rows that hold them:
//     the scan destinations of a row's columns, in the order the engines'
//     column lists name them, and the value they make;
//   - what an engine computes from its arguments before it runs a
//     statement the same way on both (the (created, seq) bounds of
//     ListMessages, the cursors a set of streaming configurations needs).
//   - the reading of an engine's schema, a directory of numbered .sql
//     files applied in the order of their names (Migrations); the files,
//     and how they are applied, are each engine's.
//
// What stays in each engine: the SQL text, column lists included, and its
// placeholders; the driver's types (a *sql.Row or a pgx.Row, sql.Result or
// a command tag); transactions, retries and errors; and the encodings
// only one engine has. PostgreSQL keeps free text in bytea columns, which
// the APIs need (they allow NUL, which text cannot hold), so it converts
// free text to and from []byte; the rows here take that conversion as a
// Text function, which SQLite's TEXT columns do not need.
//
// The destinations here implement database/sql's Scanner, which both
// drivers call with the values of database/sql (int64, string, []byte,
// bool or nil). The formats are the ones existing databases hold: the
// fixtures of both engines (TestFixture in packages sqlite and postgres)
// and this package's tests keep them byte for byte.
package storecodec
