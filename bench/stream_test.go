package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"

	"github.com/carillonhq/carillon/server"
	"github.com/carillonhq/carillon/stream"
)

// streamSinkARN is the ResourceArn the benchmarks map to their webhook.
const streamSinkARN = "arn:aws:sns:us-east-1:000000000000:carillon-bench"

// BenchmarkStreamExport is one SendChannelMessage through the Go SDK, one
// at a time as fast as one client sends, by a member of a channel of two:
//
//   - sink=none: the AppInstance has no streaming configuration: the
//     baseline.
//   - sink=webhook: its ChannelMessage data type is exported to a webhook
//     (an httptest server in this process that counts the records).
//
// Both report the percentiles of the send's round trip (p50-us,
// p99-us). sink=webhook also reports:
//
//   - records/s: the records the webhook received, from the first send
//     to the last record, over that time, and drain-ms, the time from
//     the last send's answer to the last record.
//   - x-of-none: its ns/op over the median ns/op of the sink=none runs
//     (with -count they all run first).
//   - paired-p50-x, paired-p99-x: after the timed loop, 20 blocks of 50
//     sends, alternately with the configuration put and deleted, and the
//     ratios of their percentiles (export on over export off), so that
//     whatever else runs on the machine weighs on both alike.
func BenchmarkStreamExport(b *testing.B) {
	var base []float64 // ns/op of the sink=none runs
	for _, sink := range []string{"none", "webhook"} {
		b.Run("sink="+sink, func(b *testing.B) {
			s := newStreamBench(b, stream.Options{})
			if sink == "webhook" {
				s.configure(b, true)
			}
			lat := make([]time.Duration, 0, 4096)
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for b.Loop() {
				lat = append(lat, s.send(b))
			}
			lastSend := time.Now()
			b.StopTimer()
			nsPerOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(micros(percentile(lat, 50)), "p50-us")
			b.ReportMetric(micros(percentile(lat, 99)), "p99-us")
			if sink == "none" {
				base = append(base, nsPerOp)
				return
			}
			_, last := s.sink.wait(b, s.seq, 30*time.Second)
			b.ReportMetric(float64(s.seq)/last.Sub(start).Seconds(), "records/s")
			b.ReportMetric(float64(last.Sub(lastSend))/float64(time.Millisecond), "drain-ms")
			if len(base) > 0 {
				b.ReportMetric(nsPerOp/median(base), "x-of-none")
			}
			var on, off []time.Duration
			for round := range 20 {
				export := round%2 == 0
				s.configure(b, export)
				for range 50 {
					d := s.send(b)
					if export {
						on = append(on, d)
					} else {
						off = append(off, d)
					}
				}
			}
			b.ReportMetric(float64(percentile(on, 50))/float64(percentile(off, 50)), "paired-p50-x")
			b.ReportMetric(float64(percentile(on, 99))/float64(percentile(off, 99)), "paired-p99-x")
			b.Logf("%d records in %v, the last %v after the last send; paired: export on p50 %v p99 %v, off p50 %v p99 %v",
				s.seq, last.Sub(start).Round(time.Millisecond), last.Sub(lastSend).Round(time.Microsecond),
				percentile(on, 50), percentile(on, 99), percentile(off, 50), percentile(off, 99))
		})
	}
}

// BenchmarkStreamRecovery is the webhook coming back after an outage,
// with a backlog of 10,000 records. Each op, untimed: the webhook answers
// 503, 10,000 messages are sent (by 4 clients at once) and the export
// fails on them; then, timed: the webhook answers again and the op ends
// when it has received all 10,000. The export's backoff is 100 ms
// doubling to 1 s here (the defaults are 250 ms and 30 s), so the export
// resumes within a second. It reports resume-ms (from the webhook's
// return to its first record) and drain-records/s (records over the time
// from the first record to the last), the rate the export works through
// a backlog.
func BenchmarkStreamRecovery(b *testing.B) {
	const backlog = 10_000
	s := newStreamBench(b, stream.Options{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second})
	s.configure(b, true)
	var resume, drain []float64
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		s.sink.down.Store(true)
		from := s.seq
		s.sendConcurrently(b, backlog, 4)
		// The export has tried the backlog and failed at least once.
		failures := s.sink.refused.Load()
		for s.sink.refused.Load() == failures {
			time.Sleep(10 * time.Millisecond)
		}
		s.sink.reset()
		b.StartTimer()
		up := time.Now()
		s.sink.down.Store(false)
		first, last := s.sink.waitRange(b, from+1, s.seq, time.Minute)
		b.StopTimer()
		resume = append(resume, float64(first.Sub(up))/float64(time.Millisecond))
		drain = append(drain, backlog/last.Sub(first).Seconds())
		b.StartTimer()
	}
	b.ReportMetric(median(resume), "resume-ms")
	b.ReportMetric(median(drain), "drain-records/s")
}

// streamBench is a server with a webhook sink, and a channel of two
// members whose first sends.
type streamBench struct {
	c    *benchChannel
	sink *recordSink
	seq  int // messages sent, numbered from 1 in their content
}

func newStreamBench(b *testing.B, opts stream.Options) *streamBench {
	b.Helper()
	sink := newRecordSink(b)
	opts.Sinks = map[string]string{streamSinkARN: sink.srv.URL}
	c := newBenchChannel(b, 2, func(cfg *server.Config) { cfg.Stream = opts })
	return &streamBench{c: c, sink: sink}
}

// configure puts the AppInstance's streaming configuration (ChannelMessage
// to the webhook) or deletes it.
func (s *streamBench) configure(b *testing.B, on bool) {
	b.Helper()
	ctx := context.Background()
	var err error
	if on {
		_, err = s.c.msg.PutMessagingStreamingConfigurations(ctx, &chimesdkmessaging.PutMessagingStreamingConfigurationsInput{
			AppInstanceArn: aws.String(s.c.app),
			StreamingConfigurations: []types.StreamingConfiguration{{
				DataType: types.MessagingDataTypeChannelMessage, ResourceArn: aws.String(streamSinkARN),
			}},
		})
	} else {
		_, err = s.c.msg.DeleteMessagingStreamingConfigurations(ctx, &chimesdkmessaging.DeleteMessagingStreamingConfigurationsInput{
			AppInstanceArn: aws.String(s.c.app),
		})
	}
	if err != nil {
		b.Fatal(err)
	}
}

func (s *streamBench) input(n int) *chimesdkmessaging.SendChannelMessageInput {
	return &chimesdkmessaging.SendChannelMessageInput{
		ChannelArn:  aws.String(s.c.channel),
		ChimeBearer: aws.String(s.c.members[0]),
		Content:     aws.String(fmt.Sprintf("stream bench %d.", n)),
		Type:        types.ChannelMessageTypeStandard,
		Persistence: types.ChannelMessagePersistenceTypePersistent,
	}
}

// send sends the next message and returns its round trip.
func (s *streamBench) send(b *testing.B) time.Duration {
	s.seq++
	in := s.input(s.seq)
	start := time.Now()
	if _, err := s.c.msg.SendChannelMessage(context.Background(), in); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// sendConcurrently sends the next n messages from workers clients at once.
func (s *streamBench) sendConcurrently(b *testing.B, n, workers int) {
	from := s.seq + 1
	s.seq += n
	var next atomic.Int64
	next.Store(int64(from))
	var wg sync.WaitGroup
	var failed atomic.Pointer[error]
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i > s.seq || failed.Load() != nil {
					return
				}
				if _, err := s.c.msg.SendChannelMessage(context.Background(), s.input(i)); err != nil {
					failed.CompareAndSwap(nil, &err)
				}
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
}

// recordSink is a webhook that acknowledges records (or answers 503 while
// down) and notes which messages of the benchmark it received, and when.
type recordSink struct {
	srv     *httptest.Server
	down    atomic.Bool
	refused atomic.Int64 // requests answered 503

	mu          sync.Mutex
	seen        map[int]bool // message numbers received
	first, last time.Time    // arrival of the first and the last new record
}

func newRecordSink(b *testing.B) *recordSink {
	s := &recordSink{seen: map[int]bool{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	b.Cleanup(s.srv.Close)
	return s
}

const streamContentMarker = `"Content":"stream bench `

func (s *recordSink) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	if s.down.Load() {
		s.refused.Add(1)
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	var records []struct{ EventType, Payload string }
	if err := json.Unmarshal(body, &records); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rec := range records {
		i := strings.Index(rec.Payload, streamContentMarker)
		if rec.EventType != "CREATE_CHANNEL_MESSAGE" || i < 0 {
			continue
		}
		num, _, _ := strings.Cut(rec.Payload[i+len(streamContentMarker):], ".")
		n, err := strconv.Atoi(num)
		if err != nil || s.seen[n] {
			continue
		}
		s.seen[n] = true
		if s.first.IsZero() {
			s.first = now
		}
		s.last = now
	}
	w.WriteHeader(http.StatusNoContent)
}

// reset forgets the arrival times (not the messages seen).
func (s *recordSink) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.first, s.last = time.Time{}, time.Time{}
}

// wait waits until messages 1 to n have all arrived.
func (s *recordSink) wait(b *testing.B, n int, timeout time.Duration) (first, last time.Time) {
	return s.waitRange(b, 1, n, timeout)
}

// waitRange waits until messages from to through have all arrived, and
// returns the arrival of the first and last new record since reset.
func (s *recordSink) waitRange(b *testing.B, from, through int, timeout time.Duration) (first, last time.Time) {
	b.Helper()
	deadline := time.Now().Add(timeout)
	next := from
	for {
		s.mu.Lock()
		for next <= through && s.seen[next] {
			next++
		}
		first, last = s.first, s.last
		s.mu.Unlock()
		if next > through {
			return first, last
		}
		if time.Now().After(deadline) {
			b.Fatalf("the webhook has not received message %d of %d..%d after %v", next, from, through, timeout)
		}
		time.Sleep(time.Millisecond)
	}
}
