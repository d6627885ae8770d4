package sqlite

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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
	"github.com/carillonhq/carillon/messaging"
)

// sendStore is a database with one channel whose members send messages
// through sendStandIn.
type sendStore struct {
	db      *DB
	path    string
	channel string
	senders []string
	n       atomic.Int64 // messages sent
}

// sendApp is the AppInstance of the send benchmarks, whose ARN has the
// shape and length of a real one (a UUID where the tests say "app"): the
// keys of memberships, messages and idempotency records are made of ARNs.
const sendApp = "arn:aws:chime:us-east-1:111122223333:app-instance/8f2a6a4e-2f7c-4a51-9d4e-3c1b7e0a9d21"

// newSendStore opens a database (with opts) holding an AppInstance, a
// channel and senders members of it.
func newSendStore(b *testing.B, senders int, opts ...Options) *sendStore {
	path := tempPath(b)
	db, err := Open(b.Context(), path, carillon.SystemClock{}, opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	s := &sendStore{db: db, path: path, channel: sendApp + "/channel/5c0e9f7a-3d2b-4e61-8a9f-0b7c6d5e4f3a"}
	err = db.Update(b.Context(), func(tx carillon.Tx) error {
		if err := tx.CreateAppInstance(&carillon.AppInstance{ARN: sendApp}); err != nil {
			return err
		}
		if err := tx.CreateChannel(&carillon.Channel{ARN: s.channel, AppInstanceARN: sendApp, Mode: "UNRESTRICTED", Privacy: "PUBLIC"}); err != nil {
			return err
		}
		for i := range senders {
			u := &carillon.AppInstanceUser{ARN: fmt.Sprintf("%s/user/sender-%d", sendApp, i), AppInstanceARN: sendApp, Name: "sender"}
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

// sendData stands for the typed form of the event (messaging's EventData
// of the message), which the outbox row keeps beside the payload.
var sendData = []byte(`{"v":1,"message":{"id":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",` +
	`"channel":"arn:aws:chime:us-east-1:111122223333:app-instance/app/channel/send","content":"Hello from the benchmark",` +
	`"type":"STANDARD","persistence":"PERSISTENT","status":"SENT","sender":"arn:aws:chime:us-east-1:111122223333:app-instance/app/user/sender"}}`)

// send stores one message as SendChannelMessage does, with a
// ClientRequestToken: the reads that authorize it (channel, sender,
// membership, ban), the message, the channel's last message time, the
// event, and the idempotency record claimed in one statement (idem.Claim).
// The message id grows with time and the token is a random UUID, as
// messaging and the SDKs make them.
func (s *sendStore) send(ctx context.Context, sender string) error {
	s.n.Add(1)
	id := messaging.NewMessageID()
	token := uuid4()
	scope := "SendChannelMessage|" + sender + "|" + s.channel
	return s.db.Update(ctx, func(tx carillon.Tx) error {
		if _, err := tx.GetChannel(s.channel); err != nil {
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
		now := tx.Now()
		m := &carillon.Message{ChannelARN: s.channel, ID: id, Sender: sender, SenderName: "sender",
			Content: "Hello from the benchmark", Type: "STANDARD", Persistence: "PERSISTENT", Status: "SENT",
			Created: now, Updated: now}
		if err := tx.CreateMessage(m); err != nil {
			return err
		}
		if err := tx.SetChannelLastMessageAt(s.channel, now); err != nil {
			return err
		}
		if err := tx.AppendEvent(&carillon.Event{Type: "CREATE_CHANNEL_MESSAGE", Channel: s.channel, ToMembers: true,
			MessageType: "STANDARD", Payload: sendPayload, Data: sendData}); err != nil {
			return err
		}
		if _, found, err := tx.ClaimIdempotent(scope, token, "0123456789abcdef0123456789abcdef|"+id); err != nil || found {
			return fmt.Errorf("idempotent: %v, %v", found, err)
		}
		return nil
	})
}

// uuid4 is a random UUID (version 4), the ClientRequestToken the SDKs
// send when the caller gives none.
func uuid4() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
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
