package postgres

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/storetest"
)

// BenchmarkEventWriters measures what the outbox lock costs: concurrent
// transactions that each store a message (in channels of their own, so
// that nothing else makes them conflict) and append its event, with Seq
// allocated under the outbox lock ("ordered"), from a plain sequence
// ("sequence": what the lock prevents, Seq not in commit order), and with
// no event at all ("no-event"). The lock serializes the transactions from
// their first AppendEvent to their commit; the ratio ordered/sequence is
// its price.
//
//	go test ./postgres -run '^$' -bench EventWriters -count 3
func BenchmarkEventWriters(b *testing.B) {
	for _, writers := range []int{1, 4, 16} {
		for _, mode := range []string{"ordered", "sequence", "no-event"} {
			b.Run(fmt.Sprintf("writers=%d/%s", writers, mode), func(b *testing.B) {
				benchEventWriters(b, writers, mode)
			})
		}
	}
}

func benchEventWriters(b *testing.B, writers int, mode string) {
	ctx := b.Context()
	db := openTest(b, testDatabase(b), storetest.NewFakeClock(storetest.Start))
	defer db.Close()
	if mode == "sequence" {
		if _, err := db.w.Exec(ctx, "CREATE SEQUENCE bench_seq"); err != nil {
			b.Fatal(err)
		}
		db.unordered = "bench_seq"
	}
	const app = "arn:aws:chime:us-east-1:111122223333:app-instance/bench"
	if err := db.Update(ctx, func(tx carillon.Tx) error {
		if err := tx.CreateAppInstance(&carillon.AppInstance{ARN: app}); err != nil {
			return err
		}
		for i := range writers {
			if err := tx.CreateChannel(&carillon.Channel{ARN: fmt.Sprintf("%s/channel/c%d", app, i), AppInstanceARN: app,
				Mode: "UNRESTRICTED", Privacy: "PUBLIC"}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	var next, worker atomic.Int64
	retries := db.Retries()
	b.SetParallelism((writers + 1) / 2) // GOMAXPROCS is 2 here
	if writers == 1 {
		b.SetParallelism(1)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ch := fmt.Sprintf("%s/channel/c%d", app, worker.Add(1)%int64(writers))
		for pb.Next() {
			id := fmt.Sprintf("m%d", next.Add(1))
			err := db.Update(ctx, func(tx carillon.Tx) error {
				m := &carillon.Message{ChannelARN: ch, ID: id, Content: "hello", Type: "STANDARD",
					Persistence: "PERSISTENT", Status: "SENT", Sender: app + "/user/u", Created: tx.Now()}
				if err := tx.CreateMessage(m); err != nil {
					return err
				}
				if mode == "no-event" {
					return nil
				}
				return tx.AppendEvent(&carillon.Event{Type: "CREATE_CHANNEL_MESSAGE", Channel: ch, ToMembers: true,
					MessageType: "STANDARD", Payload: []byte(`{"Content":"hello"}`)})
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(db.Retries()-retries)/float64(b.N), "retries/op")
}
