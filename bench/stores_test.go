package bench

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"

	"github.com/carillonhq/carillon/carillontest"
	"github.com/carillonhq/carillon/internal/pgtest"
)

// The engines BenchmarkStoreSend and BenchmarkStoreDelivery compare, each
// a server of its own: SQLite in its data directory, and PostgreSQL (a
// throwaway server, internal/pgtest) on the same machine.
var benchStores = []string{"sqlite", "postgres"}

func storeOption(b *testing.B, store string) []carillontest.Option {
	if store == "postgres" {
		return []carillontest.Option{carillontest.WithDatabase(pgtest.Database(b))}
	}
	return nil // SQLite, unless CARILLON_TEST_STORE says otherwise
}

// BenchmarkStoreSend is SendChannelMessage throughput on one node, from 8
// senders at once, members of one channel of 10, each message stored with
// its event and fanned out to one open messaging session. ns/op is the
// time per message across all senders; sends/s its inverse.
//
//	go test ./bench -run '^$' -bench 'Store(Send|Delivery)' -count 3
func BenchmarkStoreSend(b *testing.B) {
	for _, store := range benchStores {
		b.Run(store, func(b *testing.B) {
			c := newBenchChannel(b, 10, storeOption(b, store)...)
			session := openBenchSession(b, c.srv, c.members[1])
			go func() { // keep reading, so that the session never backs up
				for f := range session.frames {
					if f.err != nil {
						return
					}
				}
			}()
			var sender atomic.Int64
			b.SetParallelism(4) // 8 senders on 2 cores
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				me := c.members[sender.Add(1)%int64(len(c.members))]
				in := &chimesdkmessaging.SendChannelMessageInput{
					ChannelArn:  aws.String(c.channel),
					ChimeBearer: aws.String(me),
					Content:     aws.String("Hello from the benchmark"),
					Type:        types.ChannelMessageTypeStandard,
					Persistence: types.ChannelMessagePersistenceTypePersistent,
				}
				for pb.Next() {
					in.ClientRequestToken = nil
					if _, err := c.msg.SendChannelMessage(context.Background(), in); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "sends/s")
		})
	}
}

// BenchmarkStoreDelivery is the delivery latency on one node: from before
// SendChannelMessage to the arrival of its CREATE_CHANNEL_MESSAGE on
// another member's messaging session, one message at a time.
func BenchmarkStoreDelivery(b *testing.B) {
	for _, store := range benchStores {
		b.Run(store, func(b *testing.B) {
			c := newBenchChannel(b, 10, storeOption(b, store)...)
			f := &flowBench{c: c, session: openBenchSession(b, c.srv, c.members[1])}
			var lat []time.Duration
			b.ResetTimer()
			for b.Loop() {
				lat = append(lat, f.deliver(b, c.channel))
			}
			slices.Sort(lat)
			b.ReportMetric(micros(percentile(lat, 50)), "p50-µs")
			b.ReportMetric(micros(percentile(lat, 99)), "p99-µs")
		})
	}
}
