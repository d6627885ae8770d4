package bench

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/carillontest"

	"github.com/carillonhq/carillon/internal/stats"
)

// benchChannel is a channel of a carillontest server, with its members.
type benchChannel struct {
	srv     *carillontest.Server
	msg     *chimesdkmessaging.Client
	app     string // the AppInstance's ARN
	channel string
	members []string // members[0] created the channel
}

// newBenchChannel starts a server (with opts) and creates an AppInstance
// with the given number of users, all members of one channel that the
// first one created. Everything goes through the SDK, as root acting as
// the users.
func newBenchChannel(b *testing.B, members int, opts ...carillontest.Option) *benchChannel {
	b.Helper()
	srv := carillontest.New(b, opts...)
	ctx := context.Background()
	id := chimesdkidentity.NewFromConfig(srv.Config)
	msg := chimesdkmessaging.NewFromConfig(srv.Config)
	ids := make([]string, members)
	for i := range ids {
		ids[i] = fmt.Sprintf("user-%d", i)
	}
	app, users := createApp(b, id, ids...)
	ch, err := msg.CreateChannel(ctx, &chimesdkmessaging.CreateChannelInput{
		AppInstanceArn: aws.String(app),
		Name:           aws.String("bench"),
		ChimeBearer:    aws.String(users[0]),
	})
	if err != nil {
		b.Fatal(err)
	}
	// The creator is a member already; the others join 100 at a time,
	// the most BatchCreateChannelMembership takes.
	for i := 1; i < len(users); i += 100 {
		batch := users[i:min(i+100, len(users))]
		out, err := msg.BatchCreateChannelMembership(ctx, &chimesdkmessaging.BatchCreateChannelMembershipInput{
			ChannelArn:  ch.ChannelArn,
			ChimeBearer: aws.String(users[0]),
			MemberArns:  batch,
		})
		if err != nil {
			b.Fatal(err)
		}
		if len(out.Errors) > 0 {
			b.Fatalf("BatchCreateChannelMembership: %s", aws.ToString(out.Errors[0].ErrorMessage))
		}
	}
	return &benchChannel{srv: srv, msg: msg, app: app, channel: aws.ToString(ch.ChannelArn), members: users}
}

// BenchmarkSendChannelMessage is one SendChannelMessage through the Go
// SDK, by a member of a channel of 100 members: sign, send, verify, check
// the membership, store the message and its event in one transaction,
// answer; the hub then fans the event out (to no session here). Compare
// with BenchmarkCreateAppInstanceUser, the same round trip with a simpler
// write.
func BenchmarkSendChannelMessage(b *testing.B) {
	c := newBenchChannel(b, 100)
	ctx := context.Background()
	in := &chimesdkmessaging.SendChannelMessageInput{
		ChannelArn:  aws.String(c.channel),
		ChimeBearer: aws.String(c.members[0]),
		Content:     aws.String("Hello from the benchmark"),
		Type:        types.ChannelMessageTypeStandard,
		Persistence: types.ChannelMessagePersistenceTypePersistent,
	}
	b.ReportAllocs()
	for b.Loop() {
		// The SDK stores the ClientRequestToken it generates in the input
		// it is given: without this, every call after the first would
		// repeat the first, and be answered as an idempotent replay.
		in.ClientRequestToken = nil
		if _, err := c.msg.SendChannelMessage(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkListChannelMessages is one ListChannelMessages (the newest 50,
// newest first) through the Go SDK, in a channel of a thousand and of a
// million messages, each in a server of its own. The page is one seek and
// a walk of 51 index entries, so both cost the same. The second
// sub-benchmark reports two ratios to the first:
//
//   - x-of-1000: its ns/op over the median ns/op of the messages=1000
//     runs (with -count, they all run before the first messages=1000000).
//   - paired-x-of-1000: after its timed loop, it alternates 500 calls on
//     its channel with 500 on a new channel of a thousand messages, and
//     divides the medians of their latencies. Whatever else runs on the
//     machine slows both alike, so this is the steadier of the two.
//
// The million messages are inserted through the store's API
// (Store().Update, tx.CreateMessage), in transactions of 50,000: the rows
// are exactly those SendChannelMessage stores, without the round trips.
// That takes 15 to 20 seconds per run of the sub-benchmark.
func BenchmarkListChannelMessages(b *testing.B) {
	var base []float64 // ns/op of every messages=1000 run (-count)
	for _, n := range []int{1_000, 1_000_000} {
		b.Run(fmt.Sprintf("messages=%d", n), func(b *testing.B) {
			l := newListBench(b, n)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				l.list(b)
			}
			nsPerOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			if n == 1_000 {
				base = append(base, nsPerOp)
				return
			}
			if len(base) > 0 {
				b.ReportMetric(nsPerOp/median(base), "x-of-1000")
			}
			ref := newListBench(b, 1_000)
			var big, small []float64
			for range 500 {
				t0 := time.Now()
				l.list(b)
				t1 := time.Now()
				ref.list(b)
				big = append(big, float64(t1.Sub(t0)))
				small = append(small, float64(time.Since(t1)))
			}
			b.ReportMetric(median(big)/median(small), "paired-x-of-1000")
		})
	}
}

// listBench is a channel of n messages and the ListChannelMessages call
// that reads its newest page, as a member.
type listBench struct {
	c    *benchChannel
	in   *chimesdkmessaging.ListChannelMessagesInput
	want string // the newest message's content
}

func newListBench(b *testing.B, n int) *listBench {
	b.Helper()
	c := newBenchChannel(b, 2)
	start := time.Now()
	fillChannel(b, c, n)
	if n > 1_000 {
		b.Logf("inserted %d messages in %v", n, time.Since(start).Round(time.Millisecond))
	}
	return &listBench{c: c, want: fmt.Sprintf("message %d", n-1), in: &chimesdkmessaging.ListChannelMessagesInput{
		ChannelArn:  aws.String(c.channel),
		ChimeBearer: aws.String(c.members[1]),
		MaxResults:  aws.Int32(50),
		SortOrder:   types.SortOrderDescending,
	}}
}

// list reads the newest page and checks it.
func (l *listBench) list(b *testing.B) {
	out, err := l.c.msg.ListChannelMessages(context.Background(), l.in)
	if err != nil {
		b.Fatal(err)
	}
	if len(out.ChannelMessages) != 50 || aws.ToString(out.ChannelMessages[0].Content) != l.want || out.NextToken == nil {
		b.Fatalf("got %d messages, the first %q; want 50, the first %q, and a NextToken",
			len(out.ChannelMessages), aws.ToString(out.ChannelMessages[0].Content), l.want)
	}
}

// fillChannel adds n messages to the channel, sent by its first member,
// one millisecond apart and ending a minute ago, through the store API.
func fillChannel(b *testing.B, c *benchChannel, n int) {
	b.Helper()
	ctx := context.Background()
	store := c.srv.Server.Store()
	var sender *carillon.AppInstanceUser
	if err := store.View(ctx, func(tx carillon.Tx) error {
		var err error
		sender, err = tx.GetUser(c.members[0])
		return err
	}); err != nil {
		b.Fatal(err)
	}
	first := time.Now().Add(-time.Minute - time.Duration(n)*time.Millisecond).UTC()
	const batch = 50_000
	for lo := 0; lo < n; lo += batch {
		hi := min(lo+batch, n)
		if err := store.Update(ctx, func(tx carillon.Tx) error {
			for i := lo; i < hi; i++ {
				at := first.Add(time.Duration(i) * time.Millisecond)
				if err := tx.CreateMessage(&carillon.Message{
					ChannelARN:  c.channel,
					ID:          fmt.Sprintf("m%07d", i),
					Sender:      sender.ARN,
					SenderName:  sender.Name,
					Content:     fmt.Sprintf("message %d", i),
					Type:        "STANDARD",
					Persistence: "PERSISTENT",
					Status:      "SENT",
					Created:     at,
					Updated:     at,
				}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// percentile sorts v and returns its nearest-rank p-th percentile
// (stats.Percentile).
func percentile(v []time.Duration, p float64) time.Duration {
	slices.Sort(v)
	return stats.Percentile(v, p)
}

// micros is d in microseconds, for ReportMetric.
func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// median returns the median of v (v is reordered).
func median(v []float64) float64 {
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}
