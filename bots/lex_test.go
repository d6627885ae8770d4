package bots

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/messaging"
)

// TestDecodeLexHeader: PutSession's headers are base64 of JSON, gzipped
// or not.
func TestDecodeLexHeader(t *testing.T) {
	const js = `[{"content":"hi","contentType":"PlainText"}]`
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	_, _ = zw.Write([]byte(js))
	_ = zw.Close()
	for name, v := range map[string]string{
		"plain":   base64.StdEncoding.EncodeToString([]byte(js)),
		"gzipped": base64.StdEncoding.EncodeToString(z.Bytes()),
	} {
		var r lexResponse
		if err := decodeLexHeader(v, &r.Messages); err != nil || len(r.Messages) != 1 || *r.Messages[0].Content != "hi" {
			t.Errorf("%s: %+v, %v", name, r.Messages, err)
		}
	}
	var r lexResponse
	if err := decodeLexHeader("not base64!", &r.Messages); err == nil {
		t.Error("a header that is not base64 decoded")
	}
}

// TestRecognizeFailures: what Carillon answers for itself, without
// reaching Lex.
func TestRecognizeFailures(t *testing.T) {
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AK", "SK", "")}
	l := &lexClient{opts: Options{LexEndpoint: "http://127.0.0.1:1", AWSConfig: &cfg}}
	l.opts.defaults()
	good := "arn:aws:lex:us-east-1:000000000000:bot-alias/BOT/ALIAS"
	for _, c := range []struct {
		name, alias, text string
		code              int
	}{
		{"empty text", good, "", codeBadRequest},
		{"text over 1,024 characters", good, strings.Repeat("é", lexMaxText+1), codeBadRequest},
		{"not a bot alias", "arn:aws:lex:us-east-1:000000000000:bot/BOT", "hi", codeBadAlias},
		{"not an ARN", "alias", "hi", codeBadAlias},
		{"Lex unreachable", good, "hi", codeUnreachable},
	} {
		inv := &messaging.BotInvocation{Lex: carillon.LexConfiguration{LexBotAliasARN: c.alias, LocaleID: "en_US"}, Text: c.text, SessionID: "s1"}
		if got := l.recognize(context.Background(), inv); got.ErrorCode != c.code {
			t.Errorf("%s: code %d, want %d", c.name, got.ErrorCode, c.code)
		}
	}
}
