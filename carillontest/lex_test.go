package carillontest_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	itypes "github.com/aws/aws-sdk-go-v2/service/chimesdkidentity/types"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	mtypes "github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"

	"github.com/carillonhq/carillon/carillontest"
)

// TestLexBot: a bot answers through the fake Lex, as an application's
// test sees it in ListChannelMessages.
func TestLexBot(t *testing.T) {
	lex := carillontest.NewLexBot(t, func(text string) string { return "you said " + text })
	srv := carillontest.New(t, lex.Option())
	ctx := t.Context()
	id := chimesdkidentity.NewFromConfig(srv.Config)
	msg := chimesdkmessaging.NewFromConfig(srv.Config)
	app, err := id.CreateAppInstance(ctx, &chimesdkidentity.CreateAppInstanceInput{Name: aws.String("app")})
	if err != nil {
		t.Fatal(err)
	}
	alice, err := id.CreateAppInstanceUser(ctx, &chimesdkidentity.CreateAppInstanceUserInput{
		AppInstanceArn: app.AppInstanceArn, AppInstanceUserId: aws.String("alice"), Name: aws.String("Alice"),
	})
	if err != nil {
		t.Fatal(err)
	}
	bot, err := id.CreateAppInstanceBot(ctx, &chimesdkidentity.CreateAppInstanceBotInput{
		AppInstanceArn: app.AppInstanceArn, Name: aws.String("Echo"),
		Configuration: &itypes.Configuration{Lex: &itypes.LexConfiguration{
			LexBotAliasArn: aws.String("arn:aws:lex:us-east-1:000000000000:bot-alias/ECHOBOT001/ALIAS00001"), LocaleId: aws.String("en_US"),
			InvokedBy: &itypes.InvokedBy{StandardMessages: itypes.StandardMessagesAll, TargetedMessages: itypes.TargetedMessagesNone},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := msg.CreateChannel(ctx, &chimesdkmessaging.CreateChannelInput{
		AppInstanceArn: app.AppInstanceArn, Name: aws.String("chat"), ChimeBearer: alice.AppInstanceUserArn,
		MemberArns: []string{aws.ToString(bot.AppInstanceBotArn)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := msg.SendChannelMessage(ctx, &chimesdkmessaging.SendChannelMessageInput{
		ChannelArn: ch.ChannelArn, ChimeBearer: alice.AppInstanceUserArn, Content: aws.String("hi"),
		Type: mtypes.ChannelMessageTypeStandard, Persistence: mtypes.ChannelMessagePersistenceTypePersistent,
	}); err != nil {
		t.Fatal(err)
	}
	want := `{"Messages":[{"Content":"you said hi","ContentType":"PlainText"}]}`
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		out, err := msg.ListChannelMessages(ctx, &chimesdkmessaging.ListChannelMessagesInput{
			ChannelArn: ch.ChannelArn, ChimeBearer: alice.AppInstanceUserArn, MaxResults: aws.Int32(1),
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.ChannelMessages) == 1 && aws.ToString(out.ChannelMessages[0].Content) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer from the bot: %+v", out.ChannelMessages)
		}
	}
}
