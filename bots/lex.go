package bots

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/carillonhq/carillon/internal/awsconf"
	"github.com/carillonhq/carillon/messaging"
)

// lexClient calls Lex V2's RecognizeText:
//
//	POST /bots/{botId}/botAliases/{botAliasId}/botLocales/{localeId}/sessions/{sessionId}/text
//	{"text": …, "requestAttributes": {…}}
//
// signed with SigV4 for the service "lex" in the bot alias's region.
type lexClient struct {
	opts Options

	mu  sync.Mutex
	cfg *aws.Config // loaded on first use
}

// lexMaxText is the longest text RecognizeText takes, in characters.
const lexMaxText = 1024

// Codes of the error answers Carillon makes itself, as HTTP statuses: a
// text Lex would refuse, a bot alias ARN that names no Lex bot, and a
// Lex that could not be reached.
const (
	codeBadRequest  = http.StatusBadRequest
	codeBadAlias    = http.StatusNotFound
	codeUnreachable = http.StatusServiceUnavailable
)

func (l *lexClient) config(ctx context.Context) (aws.Config, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cfg == nil {
		cfg, err := awsconf.Load(ctx, l.opts.AWSConfig)
		if err != nil {
			return aws.Config{}, fmt.Errorf("AWS configuration for Lex: %w", err)
		}
		l.cfg = &cfg
	}
	return *l.cfg, nil
}

// recognize sends the invocation's text to its bot's Lex bot and returns
// the answer, or an error answer whose code is Lex's HTTP status.
func (l *lexClient) recognize(ctx context.Context, inv *messaging.BotInvocation) *messaging.BotAnswer {
	if inv.Text == "" || utf8.RuneCountInString(inv.Text) > lexMaxText {
		return failed(codeBadRequest)
	}
	body := map[string]any{
		"text":              inv.Text,
		"requestAttributes": map[string]string{"CHIME.channel.arn": inv.Channel, "CHIME.sender.arn": inv.Sender},
	}
	return l.call(ctx, inv, "/text", body, nil, func(_ http.Header, raw []byte) *messaging.BotAnswer {
		var r lexResponse
		if err := json.Unmarshal(raw, &r); err != nil {
			return failed(http.StatusBadGateway)
		}
		return answerOf(&r)
	})
}

// welcome has the bot's Lex bot run its WelcomeIntent (PutSession, the
// dialog delegated to that intent) and returns the messages it answers,
// which PutSession puts in the x-amz-lex-messages header (base64 of JSON,
// gzipped or not).
func (l *lexClient) welcome(ctx context.Context, inv *messaging.BotInvocation) *messaging.BotAnswer {
	body := map[string]any{
		"sessionState": map[string]any{
			"dialogAction": map[string]string{"type": "Delegate"},
			"intent":       map[string]string{"name": inv.Lex.WelcomeIntent},
		},
		"requestAttributes": map[string]string{"CHIME.channel.arn": inv.Channel},
	}
	header := http.Header{"Responsecontenttype": {"text/plain; charset=utf-8"}}
	return l.call(ctx, inv, "", body, header, func(h http.Header, _ []byte) *messaging.BotAnswer {
		var r lexResponse
		if v := h.Get("X-Amz-Lex-Messages"); v != "" && decodeLexHeader(v, &r.Messages) != nil {
			return failed(http.StatusBadGateway)
		}
		if v := h.Get("X-Amz-Lex-Session-State"); v != "" && decodeLexHeader(v, &r.SessionState) != nil {
			return failed(http.StatusBadGateway)
		}
		return answerOf(&r)
	})
}

// decodeLexHeader decodes a Lex response header: base64 of a JSON value,
// gzipped first or not.
func decodeLexHeader(v string, into any) error {
	raw, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return err
	}
	if len(raw) > 2 && raw[0] == 0x1f && raw[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return err
		}
		if raw, err = io.ReadAll(io.LimitReader(zr, 1<<20)); err != nil {
			return err
		}
	}
	return json.Unmarshal(raw, into)
}

func failed(code int) *messaging.BotAnswer { return &messaging.BotAnswer{ErrorCode: code} }

// call POSTs body to the session of the invocation's bot (suffix after
// /sessions/{sessionId}), signed, and hands the answer to parse; a
// failure is an error answer.
func (l *lexClient) call(ctx context.Context, inv *messaging.BotInvocation, suffix string, body any, header http.Header,
	parse func(http.Header, []byte) *messaging.BotAnswer) *messaging.BotAnswer {
	alias, err := arn.Parse(inv.Lex.LexBotAliasARN)
	botID, aliasID, ok := strings.Cut(strings.TrimPrefix(alias.Resource, "bot-alias/"), "/")
	if err != nil || alias.Service != "lex" || !strings.HasPrefix(alias.Resource, "bot-alias/") || !ok || botID == "" || aliasID == "" {
		return failed(codeBadAlias)
	}
	base := l.opts.LexEndpoint
	if base == LexEndpointAWS {
		base = "https://runtime-v2-lex." + alias.Region + ".amazonaws.com"
	}
	u := strings.TrimSuffix(base, "/") + "/bots/" + url.PathEscape(botID) + "/botAliases/" + url.PathEscape(aliasID) +
		"/botLocales/" + url.PathEscape(inv.Lex.LocaleID) + "/sessions/" + url.PathEscape(inv.SessionID) + suffix
	payload, err := json.Marshal(body)
	if err != nil {
		return failed(codeBadRequest)
	}
	cfg, err := l.config(ctx)
	if err != nil {
		return failed(codeUnreachable)
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return failed(codeUnreachable)
	}
	ctx, cancel := context.WithTimeout(ctx, l.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(payload))
	if err != nil {
		return failed(codeBadAlias)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(payload)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "lex", alias.Region, time.Now()); err != nil {
		return failed(codeUnreachable)
	}
	resp, err := l.opts.HTTPClient.Do(req)
	if err != nil {
		return failed(codeUnreachable)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return failed(codeUnreachable)
	}
	if resp.StatusCode/100 != 2 {
		return failed(resp.StatusCode)
	}
	return parse(resp.Header, raw)
}

// The parts of a RecognizeText response that an answer carries.
type lexResponse struct {
	Messages []struct {
		Content           *string `json:"content"`
		ContentType       string  `json:"contentType"`
		ImageResponseCard *struct {
			Title    string  `json:"title"`
			Subtitle *string `json:"subtitle"`
			ImageURL *string `json:"imageUrl"`
			Buttons  []struct {
				Text  string `json:"text"`
				Value string `json:"value"`
			} `json:"buttons"`
		} `json:"imageResponseCard"`
	} `json:"messages"`
	SessionState struct {
		Intent struct {
			Name  string `json:"name"`
			State string `json:"state"`
		} `json:"intent"`
	} `json:"sessionState"`
}

// The answer's Content, with the PascalCase keys of AWS's example
// (DG "process-response").
type answerContent struct {
	Messages []answerMessage `json:"Messages"`
}

type answerMessage struct {
	Content           *string     `json:"Content,omitempty"`
	ContentType       string      `json:"ContentType"`
	ImageResponseCard *answerCard `json:"ImageResponseCard,omitempty"`
}

type answerCard struct {
	Title    string         `json:"Title"`
	Subtitle *string        `json:"Subtitle,omitempty"`
	ImageURL *string        `json:"ImageUrl,omitempty"`
	Buttons  []answerButton `json:"Buttons,omitempty"`
}

type answerButton struct {
	Text  string `json:"Text"`
	Value string `json:"Value"`
}

// answerOf turns Lex's messages and session state into an answer.
func answerOf(r *lexResponse) *messaging.BotAnswer {
	c := answerContent{Messages: []answerMessage{}}
	for _, m := range r.Messages {
		am := answerMessage{Content: m.Content, ContentType: m.ContentType}
		if card := m.ImageResponseCard; card != nil {
			am.ImageResponseCard = &answerCard{Title: card.Title, Subtitle: card.Subtitle, ImageURL: card.ImageURL}
			for _, b := range card.Buttons {
				am.ImageResponseCard.Buttons = append(am.ImageResponseCard.Buttons, answerButton(b))
			}
		}
		c.Messages = append(c.Messages, am)
	}
	content, err := json.Marshal(c)
	if err != nil {
		return failed(http.StatusBadGateway)
	}
	return &messaging.BotAnswer{Messages: content, IntentName: r.SessionState.Intent.Name, IntentState: r.SessionState.Intent.State}
}
