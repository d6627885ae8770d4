package bench

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"

	"github.com/carillonhq/carillon/carillontest"
	"github.com/carillonhq/carillon/server"
)

// noStoreCache turns the store cache off (package storecache).
var noStoreCache carillontest.Option = func(c *server.Config) { c.StoreCacheSize = -1 }

// cacheReads reads the store cache's counters from the server's /metrics:
// reads by result ("hit", "miss", "bypass", "snapshot"), for one kind of
// row or, with kind "", for all.
func cacheReads(b *testing.B, c *benchChannel, kind string) map[string]float64 {
	b.Helper()
	resp, err := http.Get(c.srv.Endpoint + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		labels, value, ok := strings.Cut(strings.TrimPrefix(line, "carillon_store_cache_reads_total{"), "} ")
		if !ok || labels == line {
			continue
		}
		if kind != "" && !strings.Contains(labels, `kind="`+kind+`"`) {
			continue
		}
		_, result, _ := strings.Cut(labels, `result="`)
		v, _ := strconv.ParseFloat(value, 64)
		out[strings.TrimSuffix(result, `"`)] += v
	}
	return out
}

// reportCache reports, per operation since before, the reads of
// authorization rows that reached the store and the share served from
// memory, overall and for the channel row.
func reportCache(b *testing.B, c *benchChannel, before, beforeChannel map[string]float64, ops int) {
	after, afterChannel := cacheReads(b, c, ""), cacheReads(b, c, "channel")
	delta := func(a, b map[string]float64, r string) float64 { return a[r] - b[r] }
	store := delta(after, before, "miss") + delta(after, before, "bypass") + delta(after, before, "snapshot")
	all := store + delta(after, before, "hit")
	if all == 0 || ops == 0 {
		return
	}
	b.ReportMetric(store/float64(ops), "authz-store-reads/op")
	b.ReportMetric(100*delta(after, before, "hit")/all, "hit-%")
	ch := delta(afterChannel, beforeChannel, "hit") + delta(afterChannel, beforeChannel, "miss") +
		delta(afterChannel, beforeChannel, "bypass") + delta(afterChannel, beforeChannel, "snapshot")
	if ch > 0 {
		b.ReportMetric(100*delta(afterChannel, beforeChannel, "hit")/ch, "channel-hit-%")
	}
}

// storeCacheOp is one hot operation of a channel, run as its second
// member (the first sent the messages it reads).
type storeCacheOp struct {
	name  string
	setup func(b *testing.B, c *benchChannel) func(b *testing.B)
}

var storeCacheOps = []storeCacheOp{
	{"SendChannelMessage", func(b *testing.B, c *benchChannel) func(b *testing.B) {
		in := &chimesdkmessaging.SendChannelMessageInput{
			ChannelArn:  aws.String(c.channel),
			ChimeBearer: aws.String(c.members[1]),
			Content:     aws.String("Hello from the benchmark"),
			Type:        types.ChannelMessageTypeStandard,
			Persistence: types.ChannelMessagePersistenceTypePersistent,
		}
		return func(b *testing.B) {
			in.ClientRequestToken = nil // a new token each time (BenchmarkSendChannelMessage)
			if _, err := c.msg.SendChannelMessage(context.Background(), in); err != nil {
				b.Fatal(err)
			}
		}
	}},
	{"ListChannelMessages", func(b *testing.B, c *benchChannel) func(b *testing.B) {
		fillChannel(b, c, 100)
		in := &chimesdkmessaging.ListChannelMessagesInput{
			ChannelArn: aws.String(c.channel), ChimeBearer: aws.String(c.members[1]),
			MaxResults: aws.Int32(50), SortOrder: types.SortOrderDescending,
		}
		return func(b *testing.B) {
			out, err := c.msg.ListChannelMessages(context.Background(), in)
			if err != nil || len(out.ChannelMessages) != 50 {
				b.Fatalf("ListChannelMessages: %v", err)
			}
		}
	}},
	{"GetChannelMessage", func(b *testing.B, c *benchChannel) func(b *testing.B) {
		fillChannel(b, c, 1)
		in := &chimesdkmessaging.GetChannelMessageInput{
			ChannelArn: aws.String(c.channel), ChimeBearer: aws.String(c.members[1]), MessageId: aws.String("m0000000"),
		}
		return func(b *testing.B) {
			if _, err := c.msg.GetChannelMessage(context.Background(), in); err != nil {
				b.Fatal(err)
			}
		}
	}},
}

// BenchmarkStoreCache is each hot operation through the Go SDK against a
// server with the store cache (cache=on) and one without (cache=off), in a
// channel of 100 members. cache=on reports, besides ns/op and allocs/op:
//
//   - paired-x-of-off: after its timed loop, it alternates 300 calls to
//     its server with 300 to a server without the cache, and divides the
//     medians of their latencies: the steadier comparison on a busy
//     machine.
//   - authz-store-reads/op: the reads of authorization rows (bearer,
//     admin role, channel, moderator role, membership, ban) that still
//     reach the store, of six per request without the cache.
//   - hit-%, channel-hit-%: the share of those reads served from memory.
//
// parallel=16 runs 16 clients at once, all in one channel (the channel
// row is rewritten by every send, so its reads mostly find a write in
// flight) or each in its own (channels=16).
func BenchmarkStoreCache(b *testing.B) {
	for _, op := range storeCacheOps {
		for _, on := range []bool{false, true} {
			b.Run(fmt.Sprintf("op=%s/cache=%s", op.name, onOff(on)), func(b *testing.B) {
				var opts []carillontest.Option
				if !on {
					opts = append(opts, noStoreCache)
				}
				c := newBenchChannel(b, 100, opts...)
				call := op.setup(b, c)
				for range 10 { // warm: the first calls fill the cache
					call(b)
				}
				var before, beforeChannel map[string]float64
				if on {
					before, beforeChannel = cacheReads(b, c, ""), cacheReads(b, c, "channel")
				}
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					call(b)
				}
				b.StopTimer()
				if !on {
					return
				}
				reportCache(b, c, before, beforeChannel, b.N)
				off := newBenchChannel(b, 100, noStoreCache)
				callOff := op.setup(b, off)
				var withCache, without []float64
				for range 300 {
					t0 := time.Now()
					call(b)
					t1 := time.Now()
					callOff(b)
					withCache = append(withCache, float64(t1.Sub(t0)))
					without = append(without, float64(time.Since(t1)))
				}
				b.ReportMetric(median(withCache)/median(without), "paired-x-of-off")
			})
		}
	}
	for _, channels := range []int{1, 16} {
		for _, on := range []bool{false, true} {
			b.Run(fmt.Sprintf("op=SendChannelMessage/parallel=16/channels=%d/cache=%s", channels, onOff(on)), func(b *testing.B) {
				var opts []carillontest.Option
				if !on {
					opts = append(opts, noStoreCache)
				}
				c := newBenchChannel(b, 100, opts...)
				targets := []string{c.channel}
				for i := 1; i < channels; i++ {
					ch, err := c.msg.CreateChannel(context.Background(), &chimesdkmessaging.CreateChannelInput{
						AppInstanceArn: aws.String(c.app), Name: aws.String("bench"), ChimeBearer: aws.String(c.members[0]),
					})
					if err != nil {
						b.Fatal(err)
					}
					targets = append(targets, aws.ToString(ch.ChannelArn))
				}
				var before, beforeChannel map[string]float64
				if on {
					before, beforeChannel = cacheReads(b, c, ""), cacheReads(b, c, "channel")
				}
				var next atomic.Int64
				b.SetParallelism(max(1, 16/runtime.GOMAXPROCS(0)))
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					ch := targets[int(next.Add(1))%len(targets)]
					in := &chimesdkmessaging.SendChannelMessageInput{
						ChannelArn: aws.String(ch), ChimeBearer: aws.String(c.members[0]),
						Content: aws.String("Hello"), Type: types.ChannelMessageTypeStandard,
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
				b.StopTimer()
				if on {
					reportCache(b, c, before, beforeChannel, b.N)
				}
			})
		}
	}
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}
