package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"

	"github.com/carillonhq/carillon/carillontest"
)

// BenchmarkHandler is the server's side of the hot operations alone:
// requests signed by the Go SDK beforehand (untimed) are served by the
// server's http.Handler in the benchmark's goroutine, without a client, a
// connection or net/http's parsing of the request. What it times is what
// Carillon itself does with a request: route, verify the signature, bind,
// validate, authorize, run the operation in the store, encode the answer,
// log the request line (to a JSON handler at level INFO, as `carillon
// serve` logs, writing to io.Discard) and count it in the metrics; and,
// since allocations are counted for the whole process, what the outbox
// relay and the bus's subscribers do with a send's event afterwards.
//
//   - SendChannelMessage: a new message each call (a new
//     ClientRequestToken), by a member of a channel of 100 members.
//   - SendChannelMessage/senders=16: the same from 16 goroutines at once,
//     each request by one of the 100 members in turn: concurrent sends,
//     which the store commits in groups.
//   - GetChannelMessage: one of the channel's messages, as a member.
//   - ListChannelMessages: the newest 50 of a channel of 1,000 messages,
//     as a member.
//   - CreateAppInstanceUser: a new user each call.
func BenchmarkHandler(b *testing.B) {
	b.Run("SendChannelMessage", func(b *testing.B) {
		h := newHandlerBench(b, 100)
		h.run(b, 1, func(i int) {
			h.call(func(ctx context.Context) error {
				_, err := h.c.msg.SendChannelMessage(ctx, &chimesdkmessaging.SendChannelMessageInput{
					ChannelArn:  aws.String(h.c.channel),
					ChimeBearer: aws.String(h.c.members[1]),
					Content:     aws.String("Hello from the benchmark"),
					Type:        types.ChannelMessageTypeStandard,
					Persistence: types.ChannelMessagePersistenceTypePersistent,
				})
				return err
			})
		}, http.StatusCreated)
	})
	b.Run("SendChannelMessage/senders=16", func(b *testing.B) {
		h := newHandlerBench(b, 100)
		h.run(b, 16, func(i int) {
			h.call(func(ctx context.Context) error {
				_, err := h.c.msg.SendChannelMessage(ctx, &chimesdkmessaging.SendChannelMessageInput{
					ChannelArn:  aws.String(h.c.channel),
					ChimeBearer: aws.String(h.c.members[i%len(h.c.members)]),
					Content:     aws.String("Hello from the benchmark"),
					Type:        types.ChannelMessageTypeStandard,
					Persistence: types.ChannelMessagePersistenceTypePersistent,
				})
				return err
			})
		}, http.StatusCreated)
	})
	b.Run("GetChannelMessage", func(b *testing.B) {
		h := newHandlerBench(b, 2)
		fillChannel(b, h.c, 1_000)
		h.run(b, 1, func(i int) {
			h.call(func(ctx context.Context) error {
				_, err := h.c.msg.GetChannelMessage(ctx, &chimesdkmessaging.GetChannelMessageInput{
					ChannelArn:  aws.String(h.c.channel),
					ChimeBearer: aws.String(h.c.members[1]),
					MessageId:   aws.String(fmt.Sprintf("m%07d", i%1_000)),
				})
				return err
			})
		}, http.StatusOK)
	})
	b.Run("ListChannelMessages", func(b *testing.B) {
		h := newHandlerBench(b, 2)
		fillChannel(b, h.c, 1_000)
		h.run(b, 1, func(int) {
			h.call(func(ctx context.Context) error {
				_, err := h.c.msg.ListChannelMessages(ctx, &chimesdkmessaging.ListChannelMessagesInput{
					ChannelArn:  aws.String(h.c.channel),
					ChimeBearer: aws.String(h.c.members[1]),
					MaxResults:  aws.Int32(50),
					SortOrder:   types.SortOrderDescending,
				})
				return err
			})
		}, http.StatusOK)
	})
	b.Run("CreateAppInstanceUser", func(b *testing.B) {
		h := newHandlerBench(b, 1)
		id := chimesdkidentity.NewFromConfig(h.config)
		h.run(b, 1, func(i int) {
			h.call(func(ctx context.Context) error {
				_, err := id.CreateAppInstanceUser(ctx, &chimesdkidentity.CreateAppInstanceUserInput{
					AppInstanceArn:    aws.String(h.c.app),
					AppInstanceUserId: aws.String(fmt.Sprintf("handler-user-%d", i)),
					Name:              aws.String("Bench User"),
				})
				return err
			})
		}, http.StatusCreated)
	})
}

// handlerBench is a benchmark channel whose SDK clients, built on
// capture, sign requests without sending them.
type handlerBench struct {
	c       *benchChannel
	handler http.Handler
	config  aws.Config // the SDK configuration that captures
	capture *captureTransport
}

func newHandlerBench(b *testing.B, members int) *handlerBench {
	b.Helper()
	log := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	c := newBenchChannel(b, members, carillontest.WithLogger(log))
	capture := &captureTransport{}
	cfg := c.srv.Config.Copy()
	cfg.HTTPClient = &http.Client{Transport: capture}
	c.msg = chimesdkmessaging.NewFromConfig(cfg)
	return &handlerBench{c: c, handler: c.srv.Server.Handler(), config: cfg, capture: capture}
}

// call makes one SDK call whose request the capture keeps.
func (h *handlerBench) call(fn func(context.Context) error) {
	_ = fn(context.Background()) // the capture's answer is not the operation's
}

// run times b.N requests through the handler, signing them sign(i) in
// untimed rounds of up to 1,000, and checks each one's status. With conc
// above 1, conc goroutines serve each round's requests together. Besides
// the time, it reports the process's CPU time per request over the timed
// rounds (cpu-ns/op): on a machine shared with other work, it moves far
// less than the time between two runs.
func (h *handlerBench) run(b *testing.B, conc int, sign func(i int), status int) {
	b.ReportAllocs()
	b.ResetTimer()
	writers := make([]*discardWriter, conc)
	for i := range writers {
		writers[i] = &discardWriter{header: http.Header{}}
	}
	var cpu time.Duration
	for done := 0; done < b.N; {
		b.StopTimer()
		n := min(1_000, b.N-done)
		h.capture.reqs = h.capture.reqs[:0]
		for i := range n {
			sign(done + i)
		}
		reqs := h.capture.reqs
		if len(reqs) != n {
			b.Fatalf("captured %d requests, want %d", len(reqs), n)
		}
		cpu0 := processCPU(b)
		b.StartTimer()
		var next atomic.Int64
		var wg sync.WaitGroup
		for _, w := range writers {
			wg.Go(func() {
				for i := next.Add(1) - 1; i < int64(len(reqs)); i = next.Add(1) - 1 {
					clear(w.header)
					w.status, w.body = 0, w.body[:0]
					h.handler.ServeHTTP(w, reqs[i])
					if w.status != status {
						b.Errorf("status %d, want %d: %s", w.status, status, w.body)
						return
					}
				}
			})
		}
		wg.Wait()
		b.StopTimer()
		cpu += processCPU(b) - cpu0
		b.StartTimer()
		if b.Failed() {
			b.FailNow()
		}
		done += n
	}
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// captureTransport keeps the requests the SDK signs and answers each with
// an empty JSON object, which every output of these operations accepts.
type captureTransport struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (t *captureTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			return nil, err
		}
	}
	// As the server receives it: Host set, the body unread.
	in := r.Clone(context.Background())
	if in.Host == "" {
		in.Host = r.URL.Host
	}
	in.RequestURI = r.URL.RequestURI()
	in.Body = io.NopCloser(bytes.NewReader(body))
	in.GetBody = nil
	t.mu.Lock()
	t.reqs = append(t.reqs, in)
	t.mu.Unlock()
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader("{}")), Request: r}, nil
}

// discardWriter is an http.ResponseWriter that keeps the status and the
// body for the benchmark's check.
type discardWriter struct {
	header http.Header
	status int
	body   []byte
}

func (w *discardWriter) Header() http.Header { return w.header }

func (w *discardWriter) WriteHeader(status int) { w.status = status }

func (w *discardWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body = append(w.body, p...)
	return len(p), nil
}
