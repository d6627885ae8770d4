package hub

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/carillonhq/carillon"
)

func TestEncodeFramePayloadIsAJSONString(t *testing.T) {
	payloads := []string{
		`{"Content":"hello"}`,
		`{"Content":"quote \" backslash \\ slash / tab \t newline \n"}`,
		`{"Content":"<script>alert('x')</script> & more"}`,
		"{\"Content\":\"control \u0001\u001f del \u007f\"}",
		`{"Content":"héllo wörld ✓ 😀 中文"}`,
		"{\"Content\":\"line separators \u2028 \u2029\"}",
		"raw control bytes \x00 \x08 \x0c \r",
		"",
	}
	for _, p := range payloads {
		b := encodeFrame("CREATE_CHANNEL_MESSAGE", "STANDARD", "", []byte(p))
		if !json.Valid(b) {
			t.Errorf("frame for %q is not valid JSON: %s", p, b)
			continue
		}
		var f struct {
			Headers map[string]string
			Payload *string
		}
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatal(err)
		}
		if f.Payload == nil || *f.Payload != p {
			t.Errorf("payload %q came back as %v", p, f.Payload)
		}
		if f.Headers[headerEventType] != "CREATE_CHANNEL_MESSAGE" || f.Headers[headerMessageType] != "STANDARD" || len(f.Headers) != 2 {
			t.Errorf("headers %v", f.Headers)
		}
		// JavaScript source may not hold raw line separators; frames
		// escape them.
		if strings.ContainsAny(string(b), "\u2028\u2029") {
			t.Errorf("frame holds a raw line separator: %q", b)
		}
	}
}

func TestEncodeFrameInvalidUTF8(t *testing.T) {
	b := encodeFrame("X", "SYSTEM", "", []byte("a\xffb\xc3"))
	var f struct{ Payload string }
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if f.Payload != "a\ufffdb\ufffd" || !utf8.ValidString(f.Payload) {
		t.Errorf("payload %q", f.Payload)
	}
}

func TestEncodeFrameHeaders(t *testing.T) {
	// SESSION_ESTABLISHED has no payload: the member is left out.
	b := encodeFrame(eventSessionEstablished, "SYSTEM", "", nil)
	if string(b) != `{"Headers":{"x-amz-chime-event-type":"SESSION_ESTABLISHED","x-amz-chime-message-type":"SYSTEM"}}` {
		t.Errorf("SESSION_ESTABLISHED frame %s", b)
	}
	// An empty payload is still a payload.
	if b := encodeFrame("X", "SYSTEM", "", []byte{}); !strings.Contains(string(b), `"Payload":""`) {
		t.Errorf("empty payload frame %s", b)
	}
	// The event reason header appears when set.
	e := carillon.Event{Type: "DELETE_CHANNEL_MEMBERSHIP", Reason: "subchannel_DELETED", Payload: []byte(`{}`)}
	var f struct{ Headers map[string]string }
	if err := json.Unmarshal(framePayload(t, eventFrame(&e)), &f); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{headerEventType: "DELETE_CHANNEL_MEMBERSHIP", headerMessageType: "SYSTEM", headerEventReason: "subchannel_DELETED"}
	if len(f.Headers) != len(want) {
		t.Errorf("headers %v, want %v", f.Headers, want)
	}
	for k, v := range want {
		if f.Headers[k] != v {
			t.Errorf("header %s = %q, want %q", k, f.Headers[k], v)
		}
	}
	// A channel message keeps its type.
	e = carillon.Event{Type: "CREATE_CHANNEL_MESSAGE", MessageType: "CONTROL", Payload: []byte(`{}`)}
	if err := json.Unmarshal(framePayload(t, eventFrame(&e)), &f); err != nil || f.Headers[headerMessageType] != "CONTROL" {
		t.Errorf("message type %v %v", f.Headers, err)
	}
}

func BenchmarkEncodeFrame(b *testing.B) {
	p := []byte(`{"ChannelArn":"arn:aws:chime:us-east-1:000000000000:app-instance/x/channel/y","MessageId":"m","Content":"` +
		strings.Repeat("hello \"world\" ", 200) + `","Type":"STANDARD"}`)
	b.ReportAllocs()
	for b.Loop() {
		wireFrame("CREATE_CHANNEL_MESSAGE", "STANDARD", "", p)
	}
}
