package bench

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"

	"github.com/carillonhq/carillon/carillontest"
	"github.com/carillonhq/carillon/server"
)

// BenchmarkJobsExpireChannel is one run of the background jobs
// (Server.RunJobs) that expires a channel of 100,000 messages: the
// messages go 250 per transaction (jobs.DefaultMessageBatch), then the
// channel. Each op's channel is created through the SDK with
// ExpirationSettings of one day, filled through the store API (untimed,
// as in BenchmarkListChannelMessages), and made due by moving the
// server's clock a day on. ns/op is the run; msgs/s is 100,000 over it.
//
//   - api=idle: nothing else happens meanwhile.
//   - api=busy: one client calls SendChannelMessage and
//     ListChannelMessages (the newest 50) alternately, one call at a
//     time, on another channel of the same server, for as long as the run
//     lasts. Before each op (untimed) the same client makes the same calls
//     for 250 rounds without a run: the baseline. It reports the p50 and
//     p99 of both calls during the run (send-p50-us … list-p99-us), their
//     p99s over the baseline's (send-p99-x, list-p99-x), and the slowest
//     call of either during the run (max-ms).
func BenchmarkJobsExpireChannel(b *testing.B) {
	const messages = 100_000
	for _, api := range []string{"idle", "busy"} {
		b.Run("api="+api, func(b *testing.B) {
			j := newJobsBench(b)
			var base, during apiLatencies
			var deleted time.Duration
			for b.Loop() {
				b.StopTimer()
				doomed := j.expiringChannel(b, messages)
				if api == "busy" {
					base.add(j.callFor(b, 250, nil))
				}
				j.clock.shift(25 * time.Hour)
				stop := make(chan struct{})
				var load sync.WaitGroup
				var got apiLatencies
				if api == "busy" {
					load.Go(func() { got = j.callFor(b, 0, stop) })
				}
				b.StartTimer()
				t0 := time.Now()
				r, err := j.c.srv.Server.RunJobs(context.Background())
				deleted += time.Since(t0)
				b.StopTimer()
				close(stop)
				load.Wait()
				if err != nil {
					b.Fatal(err)
				}
				if r.Channels != 1 || r.ChannelMessages != messages || r.Pending {
					b.Fatalf("RunJobs expired %d channels and %d messages (pending %v), want 1 and %d", r.Channels, r.ChannelMessages, r.Pending, messages)
				}
				if _, err := j.msg.DescribeChannel(context.Background(), &chimesdkmessaging.DescribeChannelInput{
					ChannelArn: aws.String(doomed), ChimeBearer: aws.String(j.c.members[0]),
				}); err == nil {
					b.Fatal("the expired channel is still there")
				}
				during.add(got)
				b.StartTimer()
			}
			b.ReportMetric(float64(messages*b.N)/deleted.Seconds(), "msgs/s")
			if api == "idle" {
				return
			}
			b.ReportMetric(micros(percentile(during.send, 50)), "send-p50-us")
			b.ReportMetric(micros(percentile(during.send, 99)), "send-p99-us")
			b.ReportMetric(micros(percentile(during.list, 50)), "list-p50-us")
			b.ReportMetric(micros(percentile(during.list, 99)), "list-p99-us")
			b.ReportMetric(float64(percentile(during.send, 99))/float64(percentile(base.send, 99)), "send-p99-x")
			b.ReportMetric(float64(percentile(during.list, 99))/float64(percentile(base.list, 99)), "list-p99-x")
			b.ReportMetric(float64(max(percentile(during.send, 100), percentile(during.list, 100)))/float64(time.Millisecond), "max-ms")
			b.Logf("during %d runs: %d sends p50 %v p99 %v max %v, %d lists p50 %v p99 %v max %v",
				b.N, len(during.send), percentile(during.send, 50), percentile(during.send, 99), percentile(during.send, 100),
				len(during.list), percentile(during.list, 50), percentile(during.list, 99), percentile(during.list, 100))
			b.Logf("baseline: %d sends p50 %v p99 %v max %v, %d lists p50 %v p99 %v max %v",
				len(base.send), percentile(base.send, 50), percentile(base.send, 99), percentile(base.send, 100),
				len(base.list), percentile(base.list, 50), percentile(base.list, 99), percentile(base.list, 100))
		})
	}
}

// jobsBench is a server on a clock the benchmark moves, with a channel of
// two members (c.channel) that the busy client uses, and a client that
// signs with the server's clock.
type jobsBench struct {
	c     *benchChannel
	clock *shiftClock
	msg   *chimesdkmessaging.Client
	seq   int
}

func newJobsBench(b *testing.B) *jobsBench {
	b.Helper()
	clock := &shiftClock{}
	// The jobs run when the benchmark calls RunJobs, not on their own.
	c := newBenchChannel(b, 2, carillontest.WithClock(clock), func(cfg *server.Config) { cfg.Jobs.Interval = time.Hour })
	msg := chimesdkmessaging.NewFromConfig(c.srv.Config, func(o *chimesdkmessaging.Options) {
		o.HTTPSignerV4 = clockSigner{clock}
	})
	return &jobsBench{c: c, clock: clock, msg: msg}
}

// expiringChannel creates a channel that expires a day after its
// creation and fills it with n messages through the store API.
func (j *jobsBench) expiringChannel(b *testing.B, n int) string {
	b.Helper()
	j.seq++
	out, err := j.msg.CreateChannel(context.Background(), &chimesdkmessaging.CreateChannelInput{
		AppInstanceArn: aws.String(j.c.app), Name: aws.String(fmt.Sprintf("expiring %d", j.seq)),
		ChimeBearer: aws.String(j.c.members[0]), MemberArns: j.c.members[1:],
		ExpirationSettings: &types.ExpirationSettings{
			ExpirationDays: aws.Int32(1), ExpirationCriterion: types.ExpirationCriterionCreatedTimestamp,
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	ch := aws.ToString(out.ChannelArn)
	fillChannel(b, &benchChannel{srv: j.c.srv, channel: ch, members: j.c.members}, n)
	return ch
}

// apiLatencies are the round trips of the busy client's calls.
type apiLatencies struct{ send, list []time.Duration }

func (l *apiLatencies) add(o apiLatencies) {
	l.send = append(l.send, o.send...)
	l.list = append(l.list, o.list...)
}

// callFor calls SendChannelMessage then ListChannelMessages on c.channel,
// rounds times, or until stop is closed when rounds is 0.
func (j *jobsBench) callFor(b *testing.B, rounds int, stop <-chan struct{}) apiLatencies {
	ctx := context.Background()
	send := &chimesdkmessaging.SendChannelMessageInput{
		ChannelArn: aws.String(j.c.channel), ChimeBearer: aws.String(j.c.members[0]),
		Content: aws.String("busy"), Type: types.ChannelMessageTypeStandard,
		Persistence: types.ChannelMessagePersistenceTypePersistent,
	}
	list := &chimesdkmessaging.ListChannelMessagesInput{
		ChannelArn: aws.String(j.c.channel), ChimeBearer: aws.String(j.c.members[1]),
		MaxResults: aws.Int32(50), SortOrder: types.SortOrderDescending,
	}
	var l apiLatencies
	for i := 0; rounds == 0 || i < rounds; i++ {
		if stop != nil {
			select {
			case <-stop:
				return l
			default:
			}
		}
		t0 := time.Now()
		send.ClientRequestToken = nil // a new message, not a replay (see BenchmarkSendChannelMessage)
		if _, err := j.msg.SendChannelMessage(ctx, send); err != nil {
			b.Error(err)
			return l
		}
		t1 := time.Now()
		if _, err := j.msg.ListChannelMessages(ctx, list); err != nil {
			b.Error(err)
			return l
		}
		l.send = append(l.send, t1.Sub(t0))
		l.list = append(l.list, time.Since(t1))
	}
	return l
}

// shiftClock is the wall clock moved on by however much shift says.
type shiftClock struct{ offset atomic.Int64 }

func (c *shiftClock) Now() time.Time {
	return time.Now().UTC().Add(time.Duration(c.offset.Load()))
}

func (c *shiftClock) shift(d time.Duration) { c.offset.Add(int64(d)) }

// clockSigner signs requests at the server's time, which the benchmark
// moves: the server accepts signatures within 15 minutes of its clock.
type clockSigner struct{ clock *shiftClock }

func (s clockSigner) SignHTTP(ctx context.Context, c aws.Credentials, r *http.Request, payloadHash, service, region string, _ time.Time, optFns ...func(*v4.SignerOptions)) error {
	return v4.NewSigner().SignHTTP(ctx, c, r, payloadHash, service, region, s.clock.Now(), optFns...)
}
