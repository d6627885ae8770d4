// Command flow-processor is an example channel flow processor for
// Carillon: an HTTP endpoint that receives the event of each message sent
// to a channel with a flow, replaces a word in it, and answers with the
// callback at once (Carillon's synchronous answer). It verifies the
// X-Carillon-Signature of every request, and depends on the standard
// library only.
//
//	go run ./examples/flow-processor -listen 127.0.0.1:9000 -secret s3cret -from darn -to 'd*rn'
//	carillon serve --processor profanity=http://127.0.0.1:9000/ --processor-secret s3cret
//
// Then create a channel flow whose processor's Lambda ARN names the
// function "profanity" (arn:aws:lambda:us-east-1:123456789012:function:profanity)
// and associate it with a channel; docs/channel-flows.md walks through it.
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:9000", "address to listen on")
	secret := flag.String("secret", os.Getenv("PROCESSOR_SECRET"), "the secret Carillon signs with (--processor-secret); $PROCESSOR_SECRET")
	from := flag.String("from", "darn", "the word to replace")
	to := flag.String("to", "d*rn", "what to replace it with")
	flag.Parse()
	if *secret == "" {
		log.Fatal("set -secret (or $PROCESSOR_SECRET) to the secret Carillon signs with")
	}
	srv := &http.Server{Addr: *listen, Handler: newProcessor(*secret, *from, *to), ReadHeaderTimeout: 10 * time.Second}
	log.Printf("flow processor on http://%s: replacing %q with %q", *listen, *from, *to)
	log.Fatal(srv.ListenAndServe())
}

// event is the processor event: the same JSON AWS gives a processor's
// Lambda function.
type event struct {
	EventType      string `json:"EventType"` // CHANNEL_MESSAGE_EVENT
	CallbackID     string `json:"CallbackId"`
	ChannelMessage struct {
		MessageID   string `json:"MessageId"`
		ChannelArn  string `json:"ChannelArn"`
		Content     string `json:"Content"`
		Metadata    string `json:"Metadata"`
		Persistence string `json:"Persistence"`
		Type        string `json:"Type"`
		Sender      struct {
			Arn  string `json:"Arn"`
			Name string `json:"Name"`
		} `json:"Sender"`
	} `json:"ChannelMessage"`
}

// callback is the body of a ChannelFlowCallback request, which is also
// the synchronous answer Carillon accepts.
type callback struct {
	CallbackID     string `json:"CallbackId"`
	DeleteResource bool   `json:"DeleteResource,omitempty"`
	ChannelMessage struct {
		MessageID string `json:"MessageId"`
		Content   string `json:"Content,omitempty"`
	} `json:"ChannelMessage"`
}

// newProcessor returns the handler: verify, decode, rewrite, answer.
func newProcessor(secret, from, to string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "cannot read the body", http.StatusBadRequest)
			return
		}
		// Verify before trusting anything in the body.
		if err := verify(secret, r.Header.Get("X-Carillon-Signature"), body, time.Now()); err != nil {
			log.Printf("refused a request: %v", err)
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		var ev event
		if err := json.Unmarshal(body, &ev); err != nil || ev.EventType != "CHANNEL_MESSAGE_EVENT" {
			http.Error(w, "not a channel message event", http.StatusBadRequest)
			return
		}
		var cb callback
		cb.CallbackID = ev.CallbackID
		cb.ChannelMessage.MessageID = ev.ChannelMessage.MessageID
		// Leaving Content out passes the message on unchanged; setting
		// DeleteResource would deny it.
		if strings.Contains(ev.ChannelMessage.Content, from) {
			cb.ChannelMessage.Content = strings.ReplaceAll(ev.ChannelMessage.Content, from, to)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(cb)
	})
}

// tolerance is how far the signature's timestamp may be from our clock.
const tolerance = 5 * time.Minute

// verify checks X-Carillon-Signature: t=<unix seconds>,v1=<hex HMAC>:
// one v1 value must be HMAC-SHA256(secret, "<t>.<raw body>"), compared in
// constant time, and t must be within tolerance of now so that a
// recorded request cannot be replayed later.
func verify(secret, header string, body []byte, now time.Time) error {
	var ts string
	var sigs []string
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return errors.New("no X-Carillon-Signature header, or a malformed one")
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	ok := false
	for _, s := range sigs {
		if got, err := hex.DecodeString(s); err == nil && hmac.Equal(got, want) {
			ok = true
		}
	}
	if !ok {
		return errors.New("the signature does not match")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return errors.New("the signature's timestamp is too old or in the future")
	}
	return nil
}
