package sqlite

import (
	"fmt"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// stmtJournalSpill is how large a transaction's sub-journal may grow in
// memory before SQLite moves it to a temporary file.
//
// The sub-journal keeps the original of every page a savepoint (or a
// statement) changes, so that ROLLBACK TO can restore it. SQLite empties
// it whenever the outermost savepoint is released, but only while it is
// still in memory: once spilled to a file it stays there, written with two
// system calls per page, until the transaction ends. One SendChannelMessage
// journals between 80 and 96 KiB, more than SQLite's default threshold of
// 64 KiB, so inside a batch the sub-journal spilled at once and every
// request paid for it (BenchmarkSendStandIn, 64 senders: 24 writes per
// message, against 5 with the journal in memory). temp_store=MEMORY would
// never spill, and so hold in memory the originals of every page however
// many a request changes: deleting a channel of 300,000 messages took 215
// MB more. The threshold is also the size of the journal's memory chunks,
// which SQLite writes to the file in one call each when it spills, and its
// Unix file layer writes at most 128 KiB - 1 bytes per call: a threshold
// of 128 KiB or more makes every spill fail with SQLITE_FULL
// (TestStmtJournalSpill). 127 KiB stays below that limit.
const stmtJournalSpill = 127 << 10

// stmtJournalSpillErr is the outcome of setting the threshold, at package
// initialization: SQLite accepts it only before its first connection
// opens. It is process-wide; the driver offers no setting of its own for
// it. A failure leaves SQLite's default, which costs speed, not
// correctness, so Open does not refuse to work; TestStmtJournalSpill
// checks that it succeeds.
var stmtJournalSpillErr = setStmtJournalSpill(stmtJournalSpill)

// setStmtJournalSpill calls sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL,
// n). The argument list is in memory from the C allocator, as the
// transpiled C code that reads it expects.
func setStmtJournalSpill(n int) error {
	tls := libc.NewTLS()
	defer tls.Close()
	va := libc.Xmalloc(tls, 8)
	if va == 0 {
		return fmt.Errorf("sqlite: statement journal spill: out of memory")
	}
	defer libc.Xfree(tls, va)
	if rc := sqlite3.Xsqlite3_config(tls, sqlite3.SQLITE_CONFIG_STMTJRNL_SPILL, libc.VaList(va, int64(n))); rc != sqlite3.SQLITE_OK {
		return fmt.Errorf("sqlite: sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL): result code %d", rc)
	}
	return nil
}
