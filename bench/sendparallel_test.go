package bench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"
)

// BenchmarkSendChannelMessageParallel is BenchmarkSendChannelMessage from
// 1, 4, 16 and 64 senders at once, each a member of the channel of 100
// sending through its own goroutine: concurrent sends are what the store
// commits in groups. It reports messages/s and the process's CPU time per
// message (client and server together; on a shared machine the steadier
// figure), and the write calls per message (the store's, and the HTTP
// connections' both ways), which do not depend on the machine's load.
func BenchmarkSendChannelMessageParallel(b *testing.B) {
	for _, conc := range []int{1, 4, 16, 64} {
		b.Run(fmt.Sprintf("senders=%d", conc), func(b *testing.B) {
			c := newBenchChannel(b, 100)
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := processCPU(b)
			io0 := processWrites()
			start := time.Now()
			for g := range conc {
				wg.Go(func() {
					in := &chimesdkmessaging.SendChannelMessageInput{
						ChannelArn:  aws.String(c.channel),
						ChimeBearer: aws.String(c.members[g%len(c.members)]),
						Content:     aws.String("Hello from the benchmark"),
						Type:        types.ChannelMessageTypeStandard,
						Persistence: types.ChannelMessagePersistenceTypePersistent,
					}
					for next.Add(1) <= int64(b.N) {
						// A new ClientRequestToken each time (the SDK
						// stores the one it generates in the input).
						in.ClientRequestToken = nil
						if _, err := c.msg.SendChannelMessage(context.Background(), in); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
			b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/msg")
			if io1 := processWrites(); io0 >= 0 && io1 >= 0 {
				b.ReportMetric(float64(io1-io0)/float64(b.N), "writes/msg")
			}
		})
	}
}

// processCPU is the CPU time the process has used, user and system.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// processWrites is how many write calls the process has made (Linux's
// /proc/self/io), -1 where it cannot tell.
func processWrites() int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "syscw: "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return -1
			}
			return n
		}
	}
	return -1
}
