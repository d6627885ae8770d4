package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	itypes "github.com/aws/aws-sdk-go-v2/service/chimesdkidentity/types"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"

	"github.com/carillonhq/carillon/push"
	"github.com/carillonhq/carillon/server"
)

// BenchmarkPushNotification is one SendChannelMessage with a
// PushNotification, by a member of a channel of 100 members who each
// registered one device, with the push webhook an httptest server in this
// process: each message makes one webhook request of 99 notifications.
// It reports notifications/s, those the webhook received from the first
// send to the last request over that time, and, after the timed loop,
// paired-x: the median of 500 sends with a PushNotification over that of
// 500 without, alternately, in the same channel.
func BenchmarkPushNotification(b *testing.B) {
	var received atomic.Int64
	var last atomic.Int64 // unix nanoseconds of the last request
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req push.Request
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			b.Error(err)
		}
		received.Add(int64(len(req.Notifications)))
		last.Store(time.Now().UnixNano())
	}))
	defer hook.Close()
	c := newBenchChannel(b, 100, func(cfg *server.Config) { cfg.Push = push.Options{Webhook: hook.URL} })
	ctx := context.Background()
	id := chimesdkidentity.NewFromConfig(c.srv.Config)
	for i, m := range c.members {
		if _, err := id.RegisterAppInstanceUserEndpoint(ctx, &chimesdkidentity.RegisterAppInstanceUserEndpointInput{
			AppInstanceUserArn: aws.String(m), Type: itypes.AppInstanceUserEndpointTypeGcm,
			ResourceArn:        aws.String("arn:aws:mobiletargeting:us-east-1:000000000000:apps/bench"),
			EndpointAttributes: &itypes.EndpointAttributes{DeviceToken: aws.String(fmt.Sprintf("token-%03d", i))},
		}); err != nil {
			b.Fatal(err)
		}
	}
	in := func(withPush bool) *chimesdkmessaging.SendChannelMessageInput {
		in := &chimesdkmessaging.SendChannelMessageInput{
			ChannelArn: aws.String(c.channel), ChimeBearer: aws.String(c.members[0]), Content: aws.String("Hello"),
			Type: types.ChannelMessageTypeStandard, Persistence: types.ChannelMessagePersistenceTypePersistent,
		}
		if withPush {
			in.PushNotification = &types.PushNotificationConfiguration{Title: aws.String("New message"), Body: aws.String("Hello"), Type: types.PushNotificationTypeDefault}
		}
		return in
	}
	send := func(in *chimesdkmessaging.SendChannelMessageInput) time.Duration {
		in.ClientRequestToken = nil // a new message, not a replay (see BenchmarkSendChannelMessage)
		start := time.Now()
		if _, err := c.msg.SendChannelMessage(ctx, in); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	pushed := in(true)
	start := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		send(pushed)
	}
	want := int64(b.N) * int64(len(c.members)-1)
	for deadline := time.Now().Add(30 * time.Second); received.Load() < want; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("the webhook received %d notifications, want %d", received.Load(), want)
		}
	}
	b.ReportMetric(float64(want)/time.Unix(0, last.Load()).Sub(start).Seconds(), "notifications/s")

	b.StopTimer()
	var on, off []float64
	plain := in(false)
	for range 500 {
		on = append(on, float64(send(pushed)))
		off = append(off, float64(send(plain)))
	}
	b.ReportMetric(median(on)/median(off), "paired-x")
}
