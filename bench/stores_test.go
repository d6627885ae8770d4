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
	"github.com/carillonhq/carillon/internal/natstest"
	"github.com/carillonhq/carillon/internal/pgtest"
	"github.com/carillonhq/carillon/server"
)

// The deployments BenchmarkStoreSend and BenchmarkStoreDelivery compare:
// one server on SQLite in its data directory, one on PostgreSQL (a
// throwaway server, internal/pgtest) on the same machine, and three
// servers on one PostgreSQL database and one NATS server (embedded in the
// benchmark's process), a cluster.
var benchStores = []string{"sqlite", "postgres", "postgres-3"}

// storeCluster starts the servers of store, creates the benchmark's
// channel of members through the first, and returns the channel and a
// client of each server (the first is c.msg).
func storeCluster(b *testing.B, store string, members int) (c *benchChannel, nodes []*benchNode) {
	b.Helper()
	var opts []carillontest.Option
	switch store {
	case "postgres":
		opts = append(opts, carillontest.WithDatabase(pgtest.Database(b)))
	case "postgres-3":
		ns := natstest.New(b)
		opts = append(opts, carillontest.WithDatabase(pgtest.Database(b)), carillontest.WithNATS(ns.URL()),
			carillontest.WithRoot(server.RootCredentials{AccessKeyID: server.NewAccessKeyID(), SecretAccessKey: server.NewSecret()}))
	}
	// SQLite, unless CARILLON_TEST_STORE says otherwise.
	c = newBenchChannel(b, members, opts...)
	nodes = []*benchNode{{srv: c.srv, msg: c.msg}}
	if store == "postgres-3" {
		for range 2 {
			srv := carillontest.New(b, opts...)
			nodes = append(nodes, &benchNode{srv: srv, msg: chimesdkmessaging.NewFromConfig(srv.Config)})
		}
	}
	return c, nodes
}

// benchNode is one server of a deployment under benchmark.
type benchNode struct {
	srv *carillontest.Server
	msg *chimesdkmessaging.Client
}

// BenchmarkStoreSend is SendChannelMessage throughput from 8 senders at
// once, members of one channel of 10, each message stored with its event
// and fanned out to one open messaging session. ns/op is the time per
// message across all senders; sends/s its inverse. With three servers the
// senders spread over them and the session is on the last.
//
//	go test ./bench -run '^$' -bench 'Store(Send|Delivery)' -count 3
func BenchmarkStoreSend(b *testing.B) {
	for _, store := range benchStores {
		b.Run(store, func(b *testing.B) {
			c, nodes := storeCluster(b, store, 10)
			session := openBenchSession(b, nodes[len(nodes)-1].srv, c.members[1])
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
				n := sender.Add(1)
				me := c.members[n%int64(len(c.members))]
				client := nodes[n%int64(len(nodes))].msg
				in := &chimesdkmessaging.SendChannelMessageInput{
					ChannelArn:  aws.String(c.channel),
					ChimeBearer: aws.String(me),
					Content:     aws.String("Hello from the benchmark"),
					Type:        types.ChannelMessageTypeStandard,
					Persistence: types.ChannelMessagePersistenceTypePersistent,
				}
				for pb.Next() {
					in.ClientRequestToken = nil
					if _, err := client.SendChannelMessage(context.Background(), in); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "sends/s")
		})
	}
}

// BenchmarkStoreDelivery is the delivery latency: from before
// SendChannelMessage to the arrival of its CREATE_CHANNEL_MESSAGE on
// another member's messaging session, one message at a time. With three
// servers the message is sent through the first and the session is on
// the last.
func BenchmarkStoreDelivery(b *testing.B) {
	for _, store := range benchStores {
		b.Run(store, func(b *testing.B) {
			c, nodes := storeCluster(b, store, 10)
			f := &flowBench{c: c, session: openBenchSession(b, nodes[len(nodes)-1].srv, c.members[1])}
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
