package carillontest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/carillonhq/carillon/bots"
	"github.com/carillonhq/carillon/server"
)

// LexBot stands in for the Amazon Lex V2 bots of a test server's
// AppInstanceBots: each message that invokes a bot gets the answer of
// the function given, as one PlainText message with the intent "Answer"
// Fulfilled; a bot's WelcomeIntent gets "welcome: <intent>".
//
//	lex := carillontest.NewLexBot(t, func(text string) string { return "you said " + text })
//	srv := carillontest.New(t, lex.Option())
type LexBot struct {
	url    string
	answer func(text string) string
}

// NewLexBot starts the fake Lex; it stops when the test ends.
func NewLexBot(t testing.TB, answer func(text string) string) *LexBot {
	l := &LexBot{answer: answer}
	srv := httptest.NewServer(http.HandlerFunc(l.serve))
	t.Cleanup(srv.Close)
	l.url = srv.URL
	return l
}

func (l *LexBot) serve(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Text         string `json:"text"`
		SessionState struct {
			Intent struct{ Name string } `json:"intent"`
		} `json:"sessionState"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	type message struct {
		Content     string `json:"content"`
		ContentType string `json:"contentType"`
	}
	type state struct {
		Intent struct {
			Name  string `json:"name"`
			State string `json:"state"`
		} `json:"intent"`
	}
	var st state
	st.Intent.State = "Fulfilled"
	w.Header().Set("Content-Type", "application/json")
	if !strings.HasSuffix(r.URL.Path, "/text") { // PutSession: a welcome
		st.Intent.Name = body.SessionState.Intent.Name
		msgs, _ := json.Marshal([]message{{Content: "welcome: " + st.Intent.Name, ContentType: "PlainText"}})
		sess, _ := json.Marshal(st)
		w.Header().Set("X-Amz-Lex-Messages", base64.StdEncoding.EncodeToString(msgs))
		w.Header().Set("X-Amz-Lex-Session-State", base64.StdEncoding.EncodeToString(sess))
		return
	}
	st.Intent.Name = "Answer"
	_ = json.NewEncoder(w).Encode(map[string]any{
		"messages":     []message{{Content: l.answer(body.Text), ContentType: "PlainText"}},
		"sessionState": st,
	})
}

// Option points the server's AppInstanceBots at the fake Lex.
func (l *LexBot) Option() Option {
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDCARILLONTEST", "test", "")}
	return func(c *server.Config) { c.Bots = bots.Options{LexEndpoint: l.url, AWSConfig: &cfg} }
}
