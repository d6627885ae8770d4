// Package logbuf holds the server's log lines in memory for a moment and
// writes them in bulk, so that a request's access line does not cost a
// write(2) of its own: one write per request was 6% of the server's CPU
// under a closed loop of SendChannelMessage (docs/performance.md, "Log
// lines written in bulk").
//
// Lines reach the underlying writer within FlushInterval, or at once when
// the buffer holds MaxBuffered bytes, when a record at slog.LevelWarn or
// above is logged (Handler), and when Flush is called (at startup lines
// that other programs wait for, and at exit). What a crash of the process
// itself (not a panic the server recovers and logs) can lose is the lines
// of the last interval. slog and the standard library have no buffered
// writer that flushes on a timer, hence this small one.
package logbuf

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Defaults of New.
const (
	DefaultFlushInterval = 100 * time.Millisecond
	MaxBuffered          = 64 << 10
)

// Writer buffers what is written to it, whole lines as slog writes them,
// and passes it on in bulk. Its methods are safe for concurrent use.
type Writer struct {
	out      io.Writer
	interval time.Duration

	mu    sync.Mutex
	buf   []byte
	timer *time.Timer // armed while buf holds something
	err   error       // the last write error, reported by the next Write
}

// New returns a Writer passing lines on to out within interval; with an
// interval of 0 or less, every Write goes straight to out.
func New(out io.Writer, interval time.Duration) *Writer {
	return &Writer{out: out, interval: interval}
}

// Write holds p to be written with the lines around it. It returns the
// error of an earlier bulk write, if one failed, once.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.interval <= 0 {
		return w.out.Write(p)
	}
	w.buf = append(w.buf, p...)
	if len(w.buf) >= MaxBuffered {
		w.flushLocked()
	} else if w.timer == nil {
		w.timer = time.AfterFunc(w.interval, w.Flush)
	}
	err := w.err
	w.err = nil
	return len(p), err
}

// Flush writes what is held.
func (w *Writer) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.flushLocked()
}

func (w *Writer) flushLocked() {
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
	if len(w.buf) == 0 {
		return
	}
	if _, err := w.out.Write(w.buf); err != nil {
		w.err = err
	}
	if cap(w.buf) > 4*MaxBuffered {
		w.buf = nil // a burst of long lines: let the array go
	} else {
		w.buf = w.buf[:0]
	}
}

// Handler wraps a slog.Handler writing to a Writer, and flushes the
// Writer after every record at slog.LevelWarn or above: a warning or an
// error is on its way out when Handle returns.
type Handler struct {
	next slog.Handler
	w    *Writer
}

// NewHandler wraps next, which writes to w.
func NewHandler(next slog.Handler, w *Writer) *Handler { return &Handler{next: next, w: w} }

// Enabled reports whether the wrapped handler handles records at l.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

// Handle passes r on, then flushes for a warning or an error.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	err := h.next.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		h.w.Flush()
	}
	return err
}

// WithAttrs returns a Handler wrapping next's.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &Handler{next: h.next.WithAttrs(attrs), w: h.w}
}

// WithGroup returns a Handler wrapping next's.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name), w: h.w}
}
