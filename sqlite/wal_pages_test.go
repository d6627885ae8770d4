package sqlite

import (
	"encoding/binary"
	"io"
	"os"
	"sort"
	"sync"
	"testing"
)

// walFrames reads the frames SQLite appends to a database's WAL file
// (the format is in SQLite's "Database File Format", section "The
// Write-Ahead Log"): a 32-byte header, then frames of a 24-byte header
// and one page. A frame belongs to the WAL's current generation when its
// salts are the header's; a checkpointed WAL starts over from the first
// frame with new salts, so frames past the current generation's end are
// older ones.
type walFrames struct {
	path     string
	salt     [8]byte
	pageSize int64
	next     int64 // offset of the next frame to read
}

// walFrame is one frame: the page it holds and, for the last frame of a
// commit, the size of the database after it (0 otherwise).
type walFrame struct {
	page   uint32
	commit uint32
}

// read returns the frames appended since the last call. A WAL that
// started over is read from its first frame.
func (w *walFrames) read(tb testing.TB) []walFrame {
	f, err := os.Open(w.path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var hdr [32]byte
	if _, err := io.ReadFull(f, hdr[:]); err != nil {
		tb.Fatal(err)
	}
	if w.pageSize == 0 || [8]byte(hdr[16:24]) != w.salt {
		w.salt = [8]byte(hdr[16:24])
		w.pageSize = int64(binary.BigEndian.Uint32(hdr[8:12]))
		w.next = 32
	}
	var frames []walFrame
	var fh [24]byte
	for {
		if _, err := f.ReadAt(fh[:], w.next); err != nil {
			break
		}
		if [8]byte(fh[8:16]) != w.salt {
			break
		}
		frames = append(frames, walFrame{page: binary.BigEndian.Uint32(fh[0:4]), commit: binary.BigEndian.Uint32(fh[4:8])})
		w.next += 24 + w.pageSize
	}
	return frames
}

// pageOwners names the table or index each page of the database belongs
// to (the dbstat virtual table), as the readers see it.
func pageOwners(tb testing.TB, db *DB) map[uint32]string {
	rows, err := db.r.QueryContext(tb.Context(), `SELECT name, pageno FROM dbstat`)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	owners := map[uint32]string{}
	for rows.Next() {
		var name string
		var page uint32
		if err := rows.Scan(&name, &page); err != nil {
			tb.Fatal(err)
		}
		owners[page] = name
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return owners
}

// BenchmarkLoneSendPages sends messages one at a time (the open loop's
// case: every message its own commit) and reports the WAL frames each
// commit writes, in all and by the table or index their page belongs to:
// what a lone send dirties. The per-table figures are frames per send,
// named "pages:<table or index>"; pages the database has no owner for
// (freed since, or the database header's page 1 when it grows) are
// "pages:other".
func BenchmarkLoneSendPages(b *testing.B) { sendPages(b, 1) }

// BenchmarkBatchSendPages is BenchmarkLoneSendPages with 16 senders at
// once, whose sends share a commit (the closed loop's case): the pages a
// batch dirties, by table, per message sent.
func BenchmarkBatchSendPages(b *testing.B) { sendPages(b, 16) }

// sendPages sends b.N rounds of conc messages, each round from conc
// goroutines at once, and reports what the commits wrote to the WAL.
func sendPages(b *testing.B, conc int) {
	s := newSendStore(b, 16)
	w := &walFrames{path: s.path + "-wal"}
	round := func(i int) {
		var wg sync.WaitGroup
		for g := range conc {
			wg.Go(func() {
				if err := s.send(b.Context(), s.senders[(i*conc+g)%len(s.senders)]); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
	}
	// Warm up: the tables' first pages, then the WAL's current end.
	for i := range 200 / conc {
		round(i)
	}
	w.read(b)
	var frames []walFrame
	b.ResetTimer()
	for i := range b.N {
		round(i)
		frames = append(frames, w.read(b)...)
	}
	b.StopTimer()
	owners := pageOwners(b, s.db)
	commits := 0
	by := map[string]int{}
	for _, f := range frames {
		if f.commit != 0 {
			commits++
		}
		name, ok := owners[f.page]
		if !ok {
			name = "other"
		}
		by[name]++
	}
	if commits == 0 {
		b.Fatal("no commit frame read from the WAL")
	}
	sent := float64(b.N * conc)
	b.ReportMetric(float64(len(frames))/float64(commits), "frames/commit")
	b.ReportMetric(sent/float64(commits), "msgs/commit")
	b.ReportMetric(float64(len(frames))/sent, "frames/msg")
	names := make([]string, 0, len(by))
	for n := range by {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		b.ReportMetric(float64(by[n])/sent, "pages:"+n)
	}
}
