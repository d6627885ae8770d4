package carillontest_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	itypes "github.com/aws/aws-sdk-go-v2/service/chimesdkidentity/types"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	mtypes "github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"

	"github.com/carillonhq/carillon/carillontest"
)

// TestPushRecorder is the recorder as an application's test uses it: a
// message with a PushNotification to a channel whose other member has a
// device, and the notification that device would have got.
func TestPushRecorder(t *testing.T) {
	rec := carillontest.NewPushRecorder(t)
	srv := carillontest.New(t, rec.Option())
	ctx := t.Context()
	id := chimesdkidentity.NewFromConfig(srv.Config)
	msg := chimesdkmessaging.NewFromConfig(srv.Config)
	app, err := id.CreateAppInstance(ctx, &chimesdkidentity.CreateAppInstanceInput{Name: aws.String("app")})
	if err != nil {
		t.Fatal(err)
	}
	user := func(name string) string {
		out, err := id.CreateAppInstanceUser(ctx, &chimesdkidentity.CreateAppInstanceUserInput{
			AppInstanceArn: app.AppInstanceArn, AppInstanceUserId: aws.String(name), Name: aws.String(name),
		})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.AppInstanceUserArn)
	}
	alice, bob := user("alice"), user("bob")
	if _, err := id.RegisterAppInstanceUserEndpoint(ctx, &chimesdkidentity.RegisterAppInstanceUserEndpointInput{
		AppInstanceUserArn: aws.String(bob), Type: itypes.AppInstanceUserEndpointTypeGcm,
		ResourceArn:        aws.String("arn:aws:mobiletargeting:us-east-1:000000000000:apps/app"),
		EndpointAttributes: &itypes.EndpointAttributes{DeviceToken: aws.String("bob-phone")},
	}); err != nil {
		t.Fatal(err)
	}
	ch, err := msg.CreateChannel(ctx, &chimesdkmessaging.CreateChannelInput{
		AppInstanceArn: app.AppInstanceArn, Name: aws.String("chat"), ChimeBearer: aws.String(alice), MemberArns: []string{bob},
	})
	if err != nil {
		t.Fatal(err)
	}
	sent, err := msg.SendChannelMessage(ctx, &chimesdkmessaging.SendChannelMessageInput{
		ChannelArn: ch.ChannelArn, ChimeBearer: aws.String(alice), Content: aws.String("lunch?"),
		Type: mtypes.ChannelMessageTypeStandard, Persistence: mtypes.ChannelMessagePersistenceTypePersistent,
		PushNotification: &mtypes.PushNotificationConfiguration{Title: aws.String("Alice"), Body: aws.String("lunch?"), Type: mtypes.PushNotificationTypeDefault},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := rec.Wait(t, 1)
	if n := got[0]; n.DeviceToken != "bob-phone" || n.Title != "Alice" || n.MessageId != aws.ToString(sent.MessageId) {
		t.Errorf("recorded %+v", n)
	}
}
