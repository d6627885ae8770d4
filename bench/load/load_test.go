package main

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	thousand := make([]time.Duration, 1000)
	for i := range thousand {
		thousand[i] = time.Duration(i+1) * time.Millisecond
	}
	for _, c := range []struct {
		values []time.Duration
		p      float64
		want   time.Duration
	}{
		{nil, 50, 0},
		{ms(7), 50, 7 * time.Millisecond},
		{ms(7), 99.9, 7 * time.Millisecond},
		{ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{ms(1, 2, 3, 4), 51, 3 * time.Millisecond},
		{ms(1, 2, 3, 4), 100, 4 * time.Millisecond},
		{ms(1, 2, 3, 4), 0.1, 1 * time.Millisecond},
		{thousand, 50, 500 * time.Millisecond},
		{thousand, 99, 990 * time.Millisecond},
		{thousand, 99.9, 999 * time.Millisecond},
		{thousand, 100, 1000 * time.Millisecond},
	} {
		if got := percentile(c.values, c.p); got != c.want {
			t.Errorf("percentile(%d values, %v) = %v, want %v", len(c.values), c.p, got, c.want)
		}
	}
}

func TestSentAt(t *testing.T) {
	frame := `{"Headers":{"x-amz-chime-event-type":"CREATE_CHANNEL_MESSAGE","x-amz-chime-message-type":"STANDARD"},` +
		`"Payload":"{\"ChannelArn\":\"arn:c\",\"Content\":\"load message 3\",\"Metadata\":\"` + sentMarker + `1700000000123456789\"}"}`
	at, ok := sentAt([]byte(frame))
	if !ok || at.UnixNano() != 1700000000123456789 {
		t.Fatalf("sentAt = %v, %v", at, ok)
	}
	for _, f := range []string{
		strings.Replace(frame, "CREATE_CHANNEL_MESSAGE", "UPDATE_CHANNEL_MESSAGE", 1),
		strings.Replace(frame, sentMarker, "other=", 1),
		strings.Replace(frame, "1700000000123456789", "", 1),
	} {
		if _, ok := sentAt([]byte(f)); ok {
			t.Errorf("sentAt(%s) found a send time", f)
		}
	}
}

func TestParseMetrics(t *testing.T) {
	m := parseMetrics(strings.NewReader("# HELP x\n# TYPE x gauge\nprocess_resident_memory_bytes 1.2345e+07\n" +
		"carillon_session_open 5\ncarillon_session_connects_total{result=\"established\"} 5\n"))
	if m["process_resident_memory_bytes"] != 12345000 || m["carillon_session_open"] != 5 || len(m) != 2 {
		t.Fatalf("parseMetrics = %v", m)
	}
}

// TestRunInProcess runs the tool as a user would, with a server in the
// process: 5 sessions, 2 seconds of messages.
func TestRunInProcess(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	res, err := Run(ctx, options{Sessions: 5, Rate: 20, Duration: 2 * time.Second, Drain: 10 * time.Second, Region: "us-east-1", Log: &out})
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	res.Print(&out)
	t.Log(out.String())
	if res.Opened != 5 || res.OpenFailed != 0 {
		t.Errorf("opened %d sessions, %d failed", res.Opened, res.OpenFailed)
	}
	if res.Sent < 30 || res.SendErrors != 0 {
		t.Errorf("sent %d messages with %d errors, want about 40 and none", res.Sent, res.SendErrors)
	}
	if res.Delivered != int64(res.Sent)*5 || res.Expected != res.Delivered {
		t.Errorf("delivered %d events, expected %d, want %d", res.Delivered, res.Expected, res.Sent*5)
	}
	if len(res.Latencies) != int(res.Delivered) || res.Latencies[0] <= 0 {
		t.Errorf("%d latencies for %d events", len(res.Latencies), res.Delivered)
	}
	if len(res.Closes) != 0 {
		t.Errorf("unexpected closes: %v", res.Closes)
	}
	for _, want := range []string{"events delivered:    ", "publish→deliver:     p50 ", "closed unexpectedly: 0"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

// TestRunIdle opens a few idle sessions and reads the memory figures.
func TestRunIdle(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	res, err := Run(ctx, options{Idle: 3, Duration: 100 * time.Millisecond, Region: "us-east-1", Log: &out})
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	res.Print(&out)
	t.Log(out.String())
	if res.Opened != 3 || res.After.SessionsOpen != 3 || res.Before.SessionsOpen != 0 {
		t.Errorf("opened %d sessions; the server counted %v before and %v after", res.Opened, res.Before.SessionsOpen, res.After.SessionsOpen)
	}
	if runtime.GOOS == "linux" && !strings.Contains(out.String(), "per idle session") {
		t.Errorf("report lacks the memory per session")
	}
}
