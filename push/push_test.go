package push

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/messaging"
)

// TestDeliverQueue: Deliver takes only push events, never blocks, and
// counts those that find the queue full as dropped.
func TestDeliverQueue(t *testing.T) {
	reg := prometheus.NewRegistry()
	d := New(nil, Options{Queue: 2, Webhook: "http://127.0.0.1:1"}, nil, reg)
	d.Deliver([]carillon.Event{
		{Seq: 1, Type: messaging.EventCreateChannelMessage},
		{Seq: 2, Type: messaging.EventPushNotification},
		{Seq: 3, Type: messaging.EventPushNotification},
		{Seq: 4, Type: messaging.EventPushNotification},
		{Seq: 5, Type: messaging.EventPushNotification},
	})
	if n := d.queue.Len(); n != 2 {
		t.Errorf("%d events queued, want 2", n)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	dropped := -1.0
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if mf.GetName() == "carillon_push_notifications_total" && m.GetLabel()[0].GetValue() == outcomeDropped {
				dropped = m.GetCounter().GetValue()
			}
		}
	}
	if dropped != 2 {
		t.Errorf("dropped %v, want 2", dropped)
	}
}
