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

// TestPinpointAddresses: VoIP notifications go to APNs endpoints' VoIP
// tokens on the VoIP channels; everything else to the device token.
func TestPinpointAddresses(t *testing.T) {
	for _, c := range []struct {
		typ, endpoint, voipToken string
		token, channel           string
	}{
		{"DEFAULT", "APNS", "voip", "device", "APNS"},
		{"VOIP", "APNS", "voip", "voip", "APNS_VOIP"},
		{"VOIP", "APNS_SANDBOX", "voip", "voip", "APNS_VOIP_SANDBOX"},
		{"VOIP", "APNS", "", "device", "APNS"},
		{"VOIP", "GCM", "voip", "device", "GCM"},
	} {
		token, channel := addressOf(&Notification{Type: c.typ, EndpointType: c.endpoint, DeviceToken: "device", VoipDeviceToken: c.voipToken})
		if token != c.token || string(channel) != c.channel {
			t.Errorf("%s to %s (VoIP token %q): %s on %s, want %s on %s", c.typ, c.endpoint, c.voipToken, token, channel, c.token, c.channel)
		}
	}
	for arn, want := range map[string]bool{
		"arn:aws:mobiletargeting:us-east-1:000000000000:apps/abc":   true,
		"arn:aws:mobiletargeting:us-east-1:000000000000:apps/":      false,
		"arn:aws:mobiletargeting:us-east-1:000000000000:apps/abc/x": false,
		"arn:aws:sns:us-east-1:123456789012:app/APNS/carillon":      false,
		"arn:aws:mobiletargeting::000000000000:apps/abc":            false,
	} {
		if _, _, ok := pinpointApp(arn); ok != want {
			t.Errorf("pinpointApp(%q) ok = %v, want %v", arn, ok, want)
		}
	}
}
