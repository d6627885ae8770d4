package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"
	"github.com/gorilla/websocket"

	"github.com/carillonhq/carillon/carillontest"
	"github.com/carillonhq/carillon/flows"
)

// BenchmarkFlowDelivery is the time from SendChannelMessage to the
// CREATE_CHANNEL_MESSAGE frame on another member's messaging session, one
// message at a time, in a channel of two members:
//
//   - processor=none: a channel without a flow, the baseline.
//   - processor=sync: a channel whose flow has one HTTP processor (an
//     httptest server in this process) that answers with the callback
//     itself (200 and the ChannelFlowCallback body).
//   - processor=async: the same processor answers 202 and then calls
//     ChannelFlowCallback through the SDK, as a Lambda function would.
//
// ns/op is the mean; p50-us and p99-us are percentiles of the timed
// loop's messages. The flow sub-benchmarks then send 500 pairs of
// messages, one through the flow's channel and one through a channel of
// the same server without a flow, alternately, and report the ratios of
// their percentiles (paired-p50-x, paired-p99-x): whatever else runs on
// the machine slows both alike. B/op and allocs/op count the whole
// process: client, server, processor and the session's reader.
func BenchmarkFlowDelivery(b *testing.B) {
	for _, proc := range []string{"none", "sync", "async"} {
		b.Run("processor="+proc, func(b *testing.B) {
			f := newFlowBench(b)
			ch := f.flowed[proc]
			if proc == "none" {
				ch = f.c.channel
			}
			lat := make([]time.Duration, 0, 1024)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				lat = append(lat, f.deliver(b, ch))
			}
			b.StopTimer()
			b.ReportMetric(micros(percentile(lat, 50)), "p50-us")
			b.ReportMetric(micros(percentile(lat, 99)), "p99-us")
			if proc == "none" {
				return
			}
			var flowed, plain []time.Duration
			for range 500 {
				flowed = append(flowed, f.deliver(b, ch))
				plain = append(plain, f.deliver(b, f.c.channel))
			}
			fp50, fp99 := percentile(flowed, 50), percentile(flowed, 99)
			pp50, pp99 := percentile(plain, 50), percentile(plain, 99)
			b.ReportMetric(float64(fp50)/float64(pp50), "paired-p50-x")
			b.ReportMetric(float64(fp99)/float64(pp99), "paired-p99-x")
			b.Logf("500 pairs: flow p50 %v p99 %v; no flow p50 %v p99 %v", fp50, fp99, pp50, pp99)
			if err := f.procErr.Load(); err != nil {
				b.Fatal(*err)
			}
		})
	}
}

// flowBench is a server whose flows send the processors "sync" and
// "async" to an httptest server, a channel without a flow (c.channel)
// and one channel per processor whose flow has only that processor, all
// of the same two members: c.members[0] sends, c.members[1] receives on
// a messaging session.
type flowBench struct {
	c       *benchChannel
	flowed  map[string]string // processor name → channel ARN
	session *benchSession
	seq     int
	// procErr is the first error of an asynchronous callback.
	procErr atomic.Pointer[error]
}

const flowLambdaPrefix = "arn:aws:lambda:us-east-1:123456789012:function:bench-"

func newFlowBench(b *testing.B) *flowBench {
	b.Helper()
	f := &flowBench{flowed: map[string]string{}}
	var client atomic.Pointer[chimesdkmessaging.Client]
	procs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct {
			CallbackID     string `json:"CallbackId"`
			ChannelMessage struct {
				MessageID  string `json:"MessageId"`
				ChannelArn string
				Content    string
			}
		}
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		switch r.URL.Path {
		case "/sync":
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{
				"CallbackId":     ev.CallbackID,
				"ChannelMessage": map[string]any{"MessageId": ev.ChannelMessage.MessageID, "Content": ev.ChannelMessage.Content},
			})
		case "/async":
			w.WriteHeader(http.StatusAccepted)
			go func() {
				_, err := client.Load().ChannelFlowCallback(context.Background(), &chimesdkmessaging.ChannelFlowCallbackInput{
					CallbackId: aws.String(ev.CallbackID),
					ChannelArn: aws.String(ev.ChannelMessage.ChannelArn),
					ChannelMessage: &types.ChannelMessageCallback{
						MessageId: aws.String(ev.ChannelMessage.MessageID),
						Content:   aws.String(ev.ChannelMessage.Content),
					},
				})
				if err != nil {
					f.procErr.CompareAndSwap(nil, &err)
				}
			}()
		default:
			http.NotFound(w, r)
		}
	}))
	b.Cleanup(procs.Close)
	opts := flows.Options{Processors: map[string]string{}, Timeout: 5 * time.Second, Attempts: 1}
	for _, p := range []string{"sync", "async"} {
		opts.Processors["bench-"+p] = procs.URL + "/" + p
	}
	f.c = newBenchChannel(b, 2, carillontest.WithFlows(opts))
	client.Store(f.c.msg)
	ctx := context.Background()
	alice, bob := f.c.members[0], f.c.members[1]
	for _, p := range []string{"sync", "async"} {
		flow, err := f.c.msg.CreateChannelFlow(ctx, &chimesdkmessaging.CreateChannelFlowInput{
			AppInstanceArn: aws.String(f.c.app),
			Name:           aws.String(p),
			Processors: []types.Processor{{
				Name: aws.String(p), ExecutionOrder: aws.Int32(1), FallbackAction: types.FallbackActionAbort,
				Configuration: &types.ProcessorConfiguration{Lambda: &types.LambdaConfiguration{
					ResourceArn: aws.String(flowLambdaPrefix + p), InvocationType: types.InvocationTypeAsync,
				}},
			}},
			ClientRequestToken: aws.String("flow-" + p),
		})
		if err != nil {
			b.Fatal(err)
		}
		ch, err := f.c.msg.CreateChannel(ctx, &chimesdkmessaging.CreateChannelInput{
			AppInstanceArn: aws.String(f.c.app), Name: aws.String("flow " + p),
			ChimeBearer: aws.String(alice), MemberArns: []string{bob},
		})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.c.msg.AssociateChannelFlow(ctx, &chimesdkmessaging.AssociateChannelFlowInput{
			ChannelArn: ch.ChannelArn, ChannelFlowArn: flow.ChannelFlowArn, ChimeBearer: aws.String(alice),
		}); err != nil {
			b.Fatal(err)
		}
		f.flowed[p] = aws.ToString(ch.ChannelArn)
	}
	f.session = openBenchSession(b, f.c.srv, bob)
	// A first message through each channel opens the connections (to
	// the processors, and the callback client's) before the timing.
	for _, ch := range []string{f.c.channel, f.flowed["sync"], f.flowed["async"]} {
		f.deliver(b, ch)
	}
	return f
}

// deliver sends a STANDARD message to ch as c.members[0] and waits for
// its CREATE_CHANNEL_MESSAGE on c.members[1]'s session; it returns the
// time from before the send to the frame's arrival.
func (f *flowBench) deliver(b *testing.B, ch string) time.Duration {
	f.seq++
	content := fmt.Sprintf("flow bench %08d", f.seq)
	start := time.Now()
	out, err := f.c.msg.SendChannelMessage(context.Background(), &chimesdkmessaging.SendChannelMessageInput{
		ChannelArn:  aws.String(ch),
		ChimeBearer: aws.String(f.c.members[0]),
		Content:     aws.String(content),
		Type:        types.ChannelMessageTypeStandard,
		Persistence: types.ChannelMessagePersistenceTypePersistent,
	})
	if err != nil {
		b.Fatal(err)
	}
	if out.Status == nil || (ch == f.c.channel) != (out.Status.Value == types.ChannelMessageStatusSent) {
		b.Fatalf("SendChannelMessage answered status %+v", out.Status)
	}
	at := f.session.await(b, "CREATE_CHANNEL_MESSAGE", content)
	return at.Sub(start)
}

// benchSession is a messaging session whose frames a goroutine reads and
// timestamps as they arrive.
type benchSession struct {
	conn   *websocket.Conn
	frames chan benchFrame
}

type benchFrame struct {
	at   time.Time
	data string
	err  error
}

// openBenchSession connects user's messaging session (signed with the
// root key) and waits for SESSION_ESTABLISHED.
func openBenchSession(b *testing.B, srv *carillontest.Server, user string) *benchSession {
	b.Helper()
	u := srv.ConnectURL(b, srv.Config, user, fmt.Sprintf("bench-%d", time.Now().UnixNano()), nil)
	conn, _, err := srv.Dialer().Dial(u, nil)
	if err != nil {
		b.Fatal(err)
	}
	s := &benchSession{conn: conn, frames: make(chan benchFrame, 4096)}
	b.Cleanup(func() { conn.Close() })
	go func() {
		for {
			_, data, err := conn.ReadMessage()
			s.frames <- benchFrame{at: time.Now(), data: string(data), err: err}
			if err != nil {
				return
			}
		}
	}()
	s.await(b, "SESSION_ESTABLISHED", "")
	return s
}

// await returns the arrival time of the next frame of event type event
// that contains marker, skipping other frames.
func (s *benchSession) await(b *testing.B, event, marker string) time.Time {
	b.Helper()
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	for {
		select {
		case f := <-s.frames:
			if f.err != nil {
				b.Fatalf("messaging session: %v", f.err)
			}
			if strings.Contains(f.data, `"x-amz-chime-event-type":"`+event+`"`) && strings.Contains(f.data, marker) {
				return f.at
			}
		case <-timeout.C:
			b.Fatalf("no %s frame with %q within 30s", event, marker)
		}
	}
}
