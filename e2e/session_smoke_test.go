package e2e

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"

	"github.com/carillonhq/carillon/carillontest"
)

func TestSessionSmoke(t *testing.T) {
	srv := carillontest.New(t)
	ctx := t.Context()
	id := chimesdkidentity.NewFromConfig(srv.Config)
	msg := chimesdkmessaging.NewFromConfig(srv.Config)
	app, err := id.CreateAppInstance(ctx, &chimesdkidentity.CreateAppInstanceInput{Name: aws.String("s")})
	if err != nil {
		t.Fatal(err)
	}
	u, err := id.CreateAppInstanceUser(ctx, &chimesdkidentity.CreateAppInstanceUserInput{AppInstanceArn: app.AppInstanceArn, AppInstanceUserId: aws.String("alice"), Name: aws.String("Alice")})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := msg.CreateChannel(ctx, &chimesdkmessaging.CreateChannelInput{AppInstanceArn: app.AppInstanceArn, Name: aws.String("c"), ChimeBearer: u.AppInstanceUserArn})
	if err != nil {
		t.Fatal(err)
	}
	ep, err := msg.GetMessagingSessionEndpoint(ctx, &chimesdkmessaging.GetMessagingSessionEndpointInput{})
	if err != nil || aws.ToString(ep.Endpoint.Url) != srv.Server.TLSAddr() {
		t.Fatalf("endpoint %v %v", ep, err)
	}
	url := srv.ConnectURL(t, srv.UserConfig(t, *u.AppInstanceUserArn), *u.AppInstanceUserArn, "s1", nil)
	conn, _, err := srv.Dialer().Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	read := func() map[string]any {
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, b, err := conn.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		var f map[string]any
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatal(err)
		}
		return f
	}
	if f := read(); f["Headers"].(map[string]any)["x-amz-chime-event-type"] != "SESSION_ESTABLISHED" {
		t.Fatalf("first frame %v", f)
	}
	if _, err := msg.SendChannelMessage(ctx, &chimesdkmessaging.SendChannelMessageInput{ChannelArn: ch.ChannelArn, ChimeBearer: u.AppInstanceUserArn,
		Content: aws.String("hello"), Type: types.ChannelMessageTypeStandard, Persistence: types.ChannelMessagePersistenceTypePersistent}); err != nil {
		t.Fatal(err)
	}
	f := read()
	if f["Headers"].(map[string]any)["x-amz-chime-event-type"] != "CREATE_CHANNEL_MESSAGE" {
		t.Fatalf("frame %v", f)
	}
	var p map[string]any
	if err := json.Unmarshal([]byte(f["Payload"].(string)), &p); err != nil || p["Content"] != "hello" {
		t.Fatalf("payload %v %v", p, err)
	}
}
