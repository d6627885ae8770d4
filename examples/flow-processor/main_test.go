package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"
	"github.com/google/uuid"

	"github.com/carillonhq/carillon/carillontest"
	"github.com/carillonhq/carillon/flows"
	"github.com/carillonhq/carillon/webhook"
)

// TestVerifyMatchesCarillon: the example's verification accepts what
// Carillon signs, and nothing else.
func TestVerifyMatchesCarillon(t *testing.T) {
	body := []byte(`{"EventType":"CHANNEL_MESSAGE_EVENT"}`)
	now := time.Now()
	h := webhook.Sign("s3cret", now, body)
	if err := verify("s3cret", h, body, now); err != nil {
		t.Errorf("valid signature refused: %v", err)
	}
	for name, c := range map[string]struct {
		secret, header string
		body           []byte
		at             time.Time
	}{
		"other secret": {"other", h, body, now},
		"other body":   {"s3cret", h, []byte(`{}`), now},
		"replayed":     {"s3cret", h, body, now.Add(10 * time.Minute)},
		"no header":    {"s3cret", "", body, now},
	} {
		if verify(c.secret, c.header, c.body, c.at) == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	rec := httptest.NewRecorder()
	newProcessor("s3cret", "a", "b").ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body)))
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("unsigned request: %d", rec.Code)
	}
}

// TestExampleProcessor runs the example behind a Carillon server: a
// message with the word comes out rewritten.
func TestExampleProcessor(t *testing.T) {
	proc := httptest.NewServer(newProcessor("s3cret", "darn", "d*rn"))
	defer proc.Close()
	srv := carillontest.New(t, carillontest.WithFlows(flows.Options{
		Processors: map[string]string{"profanity": proc.URL + "/"}, Secret: "s3cret",
	}))
	ctx := t.Context()
	id := chimesdkidentity.NewFromConfig(srv.Config)
	msg := chimesdkmessaging.NewFromConfig(srv.Config)
	app, err := id.CreateAppInstance(ctx, &chimesdkidentity.CreateAppInstanceInput{Name: aws.String("example")})
	if err != nil {
		t.Fatal(err)
	}
	user, err := id.CreateAppInstanceUser(ctx, &chimesdkidentity.CreateAppInstanceUserInput{
		AppInstanceArn: app.AppInstanceArn, AppInstanceUserId: aws.String("alice"), Name: aws.String("Alice"),
	})
	if err != nil {
		t.Fatal(err)
	}
	flow, err := msg.CreateChannelFlow(ctx, &chimesdkmessaging.CreateChannelFlowInput{
		AppInstanceArn: app.AppInstanceArn, Name: aws.String("profanity"), ClientRequestToken: aws.String(uuid.NewString()),
		Processors: []types.Processor{{
			Name: aws.String("profanity"), ExecutionOrder: aws.Int32(1), FallbackAction: types.FallbackActionAbort,
			Configuration: &types.ProcessorConfiguration{Lambda: &types.LambdaConfiguration{
				ResourceArn:    aws.String("arn:aws:lambda:us-east-1:123456789012:function:profanity"),
				InvocationType: types.InvocationTypeAsync,
			}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := msg.CreateChannel(ctx, &chimesdkmessaging.CreateChannelInput{AppInstanceArn: app.AppInstanceArn, Name: aws.String("c"), ChimeBearer: user.AppInstanceUserArn})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := msg.AssociateChannelFlow(ctx, &chimesdkmessaging.AssociateChannelFlowInput{
		ChannelArn: ch.ChannelArn, ChannelFlowArn: flow.ChannelFlowArn, ChimeBearer: user.AppInstanceUserArn,
	}); err != nil {
		t.Fatal(err)
	}
	sent, err := msg.SendChannelMessage(ctx, &chimesdkmessaging.SendChannelMessageInput{
		ChannelArn: ch.ChannelArn, ChimeBearer: user.AppInstanceUserArn, Content: aws.String("oh darn"),
		Type: types.ChannelMessageTypeStandard, Persistence: types.ChannelMessagePersistenceTypePersistent,
	})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		out, err := msg.GetChannelMessage(ctx, &chimesdkmessaging.GetChannelMessageInput{
			ChannelArn: ch.ChannelArn, MessageId: sent.MessageId, ChimeBearer: user.AppInstanceUserArn,
		})
		if err != nil {
			t.Fatal(err)
		}
		if out.ChannelMessage.Status.Value == types.ChannelMessageStatusSent {
			if got := aws.ToString(out.ChannelMessage.Content); got != "oh d*rn" {
				b, _ := json.Marshal(out.ChannelMessage)
				t.Fatalf("processed message %s", b)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the message is still %s", out.ChannelMessage.Status.Value)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestMain stops the PostgreSQL server the tests started when
// CARILLON_TEST_STORE=postgres.
func TestMain(m *testing.M) { os.Exit(carillontest.Main(m)) }
