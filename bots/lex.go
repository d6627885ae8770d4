package bots

import (
	"bytes"
	"context"
	"crypto/sha256"
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
	failed := func(code int) *messaging.BotAnswer { return &messaging.BotAnswer{ErrorCode: code} }
	if inv.Text == "" || utf8.RuneCountInString(inv.Text) > lexMaxText {
		return failed(codeBadRequest)
	}
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
		"/botLocales/" + url.PathEscape(inv.Lex.LocaleID) + "/sessions/" + url.PathEscape(inv.SessionID) + "/text"
	body, err := json.Marshal(map[string]any{
		"text":              inv.Text,
		"requestAttributes": map[string]string{"CHIME.channel.arn": inv.Channel, "CHIME.sender.arn": inv.Sender},
	})
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
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return failed(codeBadAlias)
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(body)
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
	return answerOf(raw)
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

// answerOf turns a RecognizeText response into an answer; one that does
// not parse is Lex failing (502).
func answerOf(raw []byte) *messaging.BotAnswer {
	var r lexResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		return &messaging.BotAnswer{ErrorCode: http.StatusBadGateway}
	}
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
		return &messaging.BotAnswer{ErrorCode: http.StatusBadGateway}
	}
	return &messaging.BotAnswer{Messages: content, IntentName: r.SessionState.Intent.Name, IntentState: r.SessionState.Intent.State}
}
