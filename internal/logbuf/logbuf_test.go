package logbuf

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the timer's goroutine.
type syncBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
	err    error
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	if s.err != nil {
		return 0, s.err
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}

func TestLinesAreHeldThenWrittenTogether(t *testing.T) {
	var out syncBuffer
	w := New(&out, time.Hour)
	w.Write([]byte("one\n"))
	w.Write([]byte("two\n"))
	if out.String() != "" {
		t.Fatalf("written before the interval: %q", out.String())
	}
	w.Flush()
	if out.String() != "one\ntwo\n" || out.count() != 1 {
		t.Fatalf("after Flush: %q in %d writes, want both lines in one", out.String(), out.count())
	}
	w.Flush()
	if out.count() != 1 {
		t.Fatal("an empty Flush wrote")
	}
}

func TestTheIntervalFlushes(t *testing.T) {
	var out syncBuffer
	w := New(&out, time.Millisecond)
	w.Write([]byte("line\n"))
	deadline := time.Now().Add(10 * time.Second)
	for out.String() != "line\n" {
		if time.Now().After(deadline) {
			t.Fatal("the line was never written")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestAFullBufferIsWrittenAtOnce(t *testing.T) {
	var out syncBuffer
	w := New(&out, time.Hour)
	line := strings.Repeat("x", 1023) + "\n"
	for range MaxBuffered / len(line) {
		w.Write([]byte(line))
	}
	if got := len(out.String()); got != MaxBuffered {
		t.Fatalf("%d bytes written once the buffer held %d, want all of them", got, MaxBuffered)
	}
}

func TestNoIntervalWritesThrough(t *testing.T) {
	var out syncBuffer
	w := New(&out, 0)
	w.Write([]byte("now\n"))
	if out.String() != "now\n" {
		t.Fatalf("got %q", out.String())
	}
}

func TestAWriteErrorIsReportedOnce(t *testing.T) {
	out := syncBuffer{err: errors.New("disk full")}
	w := New(&out, time.Hour)
	w.Write([]byte("lost\n"))
	w.Flush()
	if _, err := w.Write([]byte("next\n")); err == nil || err.Error() != "disk full" {
		t.Fatalf("the next Write returned %v, want the failed flush's error", err)
	}
	if _, err := w.Write([]byte("again\n")); err != nil {
		t.Fatalf("the error was reported twice: %v", err)
	}
}

func TestWarningsAndErrorsAreWrittenAtOnce(t *testing.T) {
	var out syncBuffer
	w := New(&out, time.Hour)
	log := slog.New(NewHandler(slog.NewTextHandler(w, nil), w)).With("node", "a").WithGroup("g")
	log.Info("request")
	if out.String() != "" {
		t.Fatalf("an info line was written at once: %q", out.String())
	}
	log.Warn("slow")
	got := out.String()
	if !strings.Contains(got, "msg=request") || !strings.Contains(got, "msg=slow") || !strings.Contains(got, "node=a") {
		t.Fatalf("after a warning: %q, want both lines", got)
	}
}
