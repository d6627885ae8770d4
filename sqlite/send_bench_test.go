package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/carillonhq/carillon"
)

// sendStore is a database with one channel whose members send messages
// through sendStandIn.
type sendStore struct {
	db      *DB
	channel string
	senders []string
	n       atomic.Int64 // messages sent, for their ids and tokens
}

// newSendStore opens a database (with opts) holding an AppInstance, a
// channel and senders members of it.
func newSendStore(b *testing.B, senders int, opts ...Options) *sendStore {
	db, err := Open(b.Context(), tempPath(b), carillon.SystemClock{}, opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	s := &sendStore{db: db, channel: testApp + "/channel/send"}
	err = db.Update(b.Context(), func(tx carillon.Tx) error {
		if err := tx.CreateAppInstance(&carillon.AppInstance{ARN: testApp}); err != nil {
			return err
		}
		if err := tx.CreateChannel(&carillon.Channel{ARN: s.channel, AppInstanceARN: testApp, Mode: "UNRESTRICTED", Privacy: "PUBLIC"}); err != nil {
			return err
		}
		for i := range senders {
			u := &carillon.AppInstanceUser{ARN: fmt.Sprintf("%s/user/sender-%d", testApp, i), AppInstanceARN: testApp, Name: "sender"}
			if err := tx.CreateUser(u); err != nil {
				return err
			}
			if err := tx.CreateMembership(&carillon.Membership{ChannelARN: s.channel, MemberARN: u.ARN, Type: "DEFAULT"}); err != nil {
				return err
			}
			s.senders = append(s.senders, u.ARN)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

var sendPayload = []byte(`{"ChannelArn":"arn:aws:chime:us-east-1:111122223333:app-instance/app/channel/send",` +
	`"Content":"Hello from the benchmark","MessageId":"0123456789abcdef","Type":"STANDARD","Persistence":"PERSISTENT",` +
	`"Sender":{"Arn":"arn:aws:chime:us-east-1:111122223333:app-instance/app/user/sender","Name":"sender"}}`)

// send stores one message as SendChannelMessage does, with a
// ClientRequestToken: the reads that authorize it (channel, sender,
// membership, ban), the idempotency lookup, then the message, the
// channel's last message time, the event and the idempotency record.
func (s *sendStore) send(ctx context.Context, sender string) error {
	i := s.n.Add(1)
	id := fmt.Sprintf("m%012d", i)
	token := fmt.Sprintf("token-%012d", i)
	scope := "SendChannelMessage|" + sender + "|" + s.channel
	return s.db.Update(ctx, func(tx carillon.Tx) error {
		ch, err := tx.GetChannel(s.channel)
		if err != nil {
			return err
		}
		if _, err := tx.GetUser(sender); err != nil {
			return err
		}
		if _, err := tx.GetMembership(s.channel, sender); err != nil {
			return err
		}
		if _, err := tx.GetBan(s.channel, sender); !errors.Is(err, carillon.ErrNotFound) {
			return fmt.Errorf("ban: %v", err)
		}
		if _, found, err := tx.Idempotent(scope, token); err != nil || found {
			return fmt.Errorf("idempotent: %v, %v", found, err)
		}
		now := tx.Now()
		m := &carillon.Message{ChannelARN: s.channel, ID: id, Sender: sender, SenderName: "sender",
			Content: "Hello from the benchmark", Type: "STANDARD", Persistence: "PERSISTENT", Status: "SENT",
			Created: now, Updated: now}
		if err := tx.CreateMessage(m); err != nil {
			return err
		}
		ch.LastMessageAt = now
		if err := tx.UpdateChannel(ch); err != nil {
			return err
		}
		if err := tx.AppendEvent(&carillon.Event{Type: "CREATE_CHANNEL_MESSAGE", Channel: s.channel, ToMembers: true,
			MessageType: "STANDARD", Payload: sendPayload}); err != nil {
			return err
		}
		return tx.PutIdempotent(scope, token, "fingerprint|"+id)
	})
}

// run sends b.N messages from conc goroutines, each its own sender, and
// reports messages/s and the process's CPU time per message (user and
// system): on a machine that other work shares, the CPU time is the
// steadier figure.
func (s *sendStore) run(b *testing.B, conc int) {
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	cpu0 := cpuTime(b)
	io0 := procIO()
	commits0 := s.commits()
	start := time.Now()
	for g := range conc {
		wg.Go(func() {
			sender := s.senders[g%len(s.senders)]
			for next.Add(1) <= int64(b.N) {
				if err := s.send(b.Context(), sender); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
	b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/msg")
	if io1 := procIO(); io0 != nil && io1 != nil {
		b.ReportMetric(float64(io1["syscw"]-io0["syscw"])/float64(b.N), "writes/msg")
		b.ReportMetric(float64(io1["wchar"]-io0["wchar"])/float64(b.N), "wbytes/msg")
	}
	if n := s.commits() - commits0; n > 0 {
		b.ReportMetric(float64(b.N)/float64(n), "msgs/commit")
	}
}

// procIO reads the process's I/O counters (Linux's /proc/self/io): how
// many write calls and bytes written do not depend on what else runs on
// the machine. nil where there are none.
func procIO() map[string]int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return nil
	}
	m := map[string]int64{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err == nil {
			m[k] = n
		}
	}
	return m
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSendStandIn sends messages as SendChannelMessage stores them,
// from 1, 4, 16 and 64 goroutines at once, with each Sync setting. It
// uses only Open and Update, so that it measures any version of the
// store alike.
func BenchmarkSendStandIn(b *testing.B) {
	for _, sync := range []Sync{SyncNormal, SyncFull} {
		for _, conc := range []int{1, 4, 16, 64} {
			b.Run(fmt.Sprintf("sync=%v/conc=%d", sync, conc), func(b *testing.B) {
				s := newSendStore(b, 64, Options{Sync: sync})
				s.run(b, conc)
			})
		}
	}
}
