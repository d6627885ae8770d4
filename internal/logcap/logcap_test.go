package logcap

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestHandlerCutsLongStrings(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(NewWithLimits(slog.NewTextHandler(&buf, nil), 64, 128))
	long := "/app-instances/" + strings.Repeat("a", 900_000)

	log.Info("request", "path", long, "status", 400, slog.Group("g", "inner", long))
	line := buf.String()
	if len(line) > 600 {
		t.Fatalf("log line of %d bytes: %.200s", len(line), line)
	}
	for _, want := range []string{"path=\"/app-instances/aaa", "bytes cut]", "status=400", "g.inner="} {
		if !strings.Contains(line, want) {
			t.Errorf("no %q in %s", want, line)
		}
	}

	buf.Reset()
	log.Error("failed", "cause", errors.New(strings.Repeat("e", 1000)))
	if n := strings.Count(buf.String(), "e"); n < 128 || n > 140 {
		t.Errorf("error cause cut to %d bytes, want the error limit 128: %s", n, buf.String())
	}

	buf.Reset()
	log.With("user", long).Info("connect refused")
	if len(buf.String()) > 300 {
		t.Errorf("WithAttrs not cut: %d bytes", len(buf.String()))
	}

	// Short records pass through untouched.
	buf.Reset()
	log.Info("request", "path", "/channels", "status", 200)
	if !strings.Contains(buf.String(), "path=/channels status=200") {
		t.Errorf("short record changed: %s", buf.String())
	}
}

func FuzzClip(f *testing.F) {
	f.Add("héllo wörld", 3)
	f.Add(strings.Repeat("€", 10), 4)
	f.Add("\xff\xfe\xfd\x80\x80", 2)
	f.Add("", 0)
	f.Fuzz(func(t *testing.T, s string, limit int) {
		if limit < 0 || limit > 1<<16 {
			return
		}
		out := Clip(s, limit)
		if len(s) <= limit {
			if out != s {
				t.Fatalf("Clip(%q, %d) = %q, want it unchanged", s, limit, out)
			}
			return
		}
		i := strings.LastIndex(out, "…[")
		if i < 0 || !strings.HasSuffix(out, " bytes cut]") {
			t.Fatalf("Clip(%q, %d) = %q: no marker", s, limit, out)
		}
		head := out[:i]
		if len(head) > limit || len(head) < limit-utf8.UTFMax || !strings.HasPrefix(s, head) {
			t.Fatalf("Clip(%q, %d) kept %q", s, limit, head)
		}
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("Clip(%q, %d) = %q: cut inside a character", s, limit, out)
		}
	})
}

// BenchmarkRequestLine logs a request's line, as restjson does, through
// the wrapper and directly: what the cap costs a line that needs no cut.
func BenchmarkRequestLine(b *testing.B) {
	for _, wrapped := range []bool{false, true} {
		b.Run(map[bool]string{false: "direct", true: "logcap"}[wrapped], func(b *testing.B) {
			var h slog.Handler = slog.NewJSONHandler(io.Discard, nil)
			if wrapped {
				h = New(h)
			}
			log := slog.New(h)
			b.ReportAllocs()
			for b.Loop() {
				log.LogAttrs(context.Background(), slog.LevelInfo, "request",
					slog.String("request_id", "0b7f8a1e-4c2d-4e5f-8a9b-0c1d2e3f4a5b"), slog.String("op", "SendChannelMessage"),
					slog.Int("status", 201), slog.Duration("latency", 1234567))
			}
		})
	}
}
