// Package logcap bounds the size of log lines. Requests put values the
// client chose in the log (a path, a userArn, a sessionId, the canonical
// request of a failed signature): without a bound, a 900 KB path becomes
// a 900 KB log line, and a flood of them fills the disk. Handler cuts
// every string attribute and the message at a byte limit, with a marker
// that says how much was cut.
//
// slog has no option for this (its ReplaceAttr belongs to each built-in
// handler, and is not applied by handlers it does not own), hence a
// wrapping handler.
package logcap

import (
	"context"
	"log/slog"
	"strconv"
	"unicode/utf8"
)

// Defaults of New.
const (
	// DefaultMax bounds each string of a record below the Error level:
	// room for the canonical request and string to sign of a signature
	// mismatch, which is what the longest legitimate attribute holds.
	DefaultMax = 4 << 10
	// DefaultMaxError bounds each string of an Error record, whose cause
	// may carry a stack trace the server made.
	DefaultMaxError = 64 << 10
)

// Handler wraps a slog.Handler and cuts long strings before it sees them.
type Handler struct {
	next          slog.Handler
	max, maxError int
}

// New wraps next with the default limits.
func New(next slog.Handler) *Handler {
	return &Handler{next: next, max: DefaultMax, maxError: DefaultMaxError}
}

// NewWithLimits wraps next: strings longer than max bytes (maxError for
// records at slog.LevelError and above) are cut.
func NewWithLimits(next slog.Handler, max, maxError int) *Handler {
	return &Handler{next: next, max: max, maxError: maxError}
}

func (h *Handler) limit(l slog.Level) int {
	if l >= slog.LevelError {
		return h.maxError
	}
	return h.max
}

// Enabled reports whether the wrapped handler handles records at l.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

// Handle passes r on, rebuilt with cut strings only when one is too long.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	limit := h.limit(r.Level)
	long := len(r.Message) > limit
	if !long {
		r.Attrs(func(a slog.Attr) bool {
			long = tooLong(a.Value, limit)
			return !long
		})
	}
	if !long {
		return h.next.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, Clip(r.Message, limit), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(clipAttr(a, limit))
		return true
	})
	return h.next.Handle(ctx, out)
}

// WithAttrs cuts the attributes with the lower limit: they appear on
// records of every level.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	cut := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		cut[i] = clipAttr(a, h.max)
	}
	return &Handler{next: h.next.WithAttrs(cut), max: h.max, maxError: h.maxError}
}

// WithGroup opens a group on the wrapped handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(Clip(name, h.max)), max: h.max, maxError: h.maxError}
}

// tooLong reports whether v holds a string (its own, or the text of an
// error or other value) longer than limit.
func tooLong(v slog.Value, limit int) bool {
	v = v.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return len(v.String()) > limit
	case slog.KindAny:
		return len(v.String()) > limit
	case slog.KindGroup:
		for _, a := range v.Group() {
			if tooLong(a.Value, limit) {
				return true
			}
		}
	}
	return false
}

func clipAttr(a slog.Attr, limit int) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString, slog.KindAny:
		if s := v.String(); len(s) > limit {
			return slog.String(Clip(a.Key, limit), Clip(s, limit))
		}
	case slog.KindGroup:
		g := v.Group()
		out := make([]slog.Attr, len(g))
		for i, m := range g {
			out[i] = clipAttr(m, limit)
		}
		return slog.Attr{Key: Clip(a.Key, limit), Value: slog.GroupValue(out...)}
	}
	return slog.Attr{Key: Clip(a.Key, limit), Value: v}
}

// Clip returns s cut to at most limit bytes, at a UTF-8 character
// boundary when s is valid UTF-8, followed by a marker with the number of
// bytes cut; s itself when it is short enough.
func Clip(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	n := max(limit, 0)
	// Back up to the start of a character, at most a character's length.
	for i := 0; i < utf8.UTFMax && n > 0 && !utf8.RuneStart(s[n]); i++ {
		n--
	}
	return s[:n] + "…[" + strconv.Itoa(len(s)-n) + " bytes cut]"
}
