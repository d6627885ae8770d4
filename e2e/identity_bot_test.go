package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity/types"
)

func TestAppInstanceBotLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ai := e.createAppInstance(t, "Bots")

	out, err := e.id.CreateAppInstanceBot(t.Context(), &chimesdkidentity.CreateAppInstanceBotInput{
		AppInstanceArn: aws.String(ai),
		Name:           aws.String("Helper"),
		Metadata:       aws.String("helps"),
		Tags:           []types.Tag{{Key: aws.String("kind"), Value: aws.String("lex")}},
		Configuration: &types.Configuration{Lex: &types.LexConfiguration{
			LexBotAliasArn: aws.String(lexAlias),
			LocaleId:       aws.String("en_US"),
			WelcomeIntent:  aws.String("Welcome_Intent"),
			InvokedBy: &types.InvokedBy{
				StandardMessages: types.StandardMessagesAuto,
				TargetedMessages: types.TargetedMessagesAll,
			},
		}},
	})
	mustOK(t, err, "CreateAppInstanceBot")
	bot := aws.ToString(out.AppInstanceBotArn)
	if !botARNPattern.MatchString(bot) {
		t.Fatalf("bot ARN %q does not match %v", bot, botARNPattern)
	}
	if want := ai + "/bot/"; bot[:len(want)] != want {
		t.Fatalf("bot ARN %q is not under %s", bot, ai)
	}

	describe := func(arn string) *types.AppInstanceBot {
		t.Helper()
		d, err := e.id.DescribeAppInstanceBot(t.Context(), &chimesdkidentity.DescribeAppInstanceBotInput{AppInstanceBotArn: aws.String(arn)})
		mustOK(t, err, "DescribeAppInstanceBot")
		if d.AppInstanceBot == nil {
			t.Fatal("DescribeAppInstanceBot: no AppInstanceBot")
		}
		return d.AppInstanceBot
	}
	b := describe(bot)
	if aws.ToString(b.AppInstanceBotArn) != bot || aws.ToString(b.Name) != "Helper" || aws.ToString(b.Metadata) != "helps" {
		t.Errorf("DescribeAppInstanceBot = %q %q %q", aws.ToString(b.AppInstanceBotArn), aws.ToString(b.Name), aws.ToString(b.Metadata))
	}
	e.wantRecent(t, "CreatedTimestamp", b.CreatedTimestamp)
	e.wantRecent(t, "LastUpdatedTimestamp", b.LastUpdatedTimestamp)
	created := aws.ToTime(b.CreatedTimestamp)
	wantLex(t, "created", b.Configuration, lexWant{alias: lexAlias, locale: "en_US", welcome: "Welcome_Intent", standard: "AUTO", targeted: "ALL"})

	// A bot with RespondsTo and neither name nor metadata.
	minimal := e.createBot(t, ai, "")
	m := describe(minimal)
	if m.Name != nil || m.Metadata != nil {
		t.Errorf("bot created without name or metadata has Name %v Metadata %v", m.Name, m.Metadata)
	}
	wantLex(t, "minimal", m.Configuration, lexWant{alias: lexAlias, locale: "en_US", respondsTo: "STANDARD_MESSAGES"})

	tags, err := e.id.ListTagsForResource(t.Context(), &chimesdkidentity.ListTagsForResourceInput{ResourceARN: aws.String(bot)})
	mustOK(t, err, "ListTagsForResource")
	wantTags(t, tags.Tags, map[string]string{"kind": "lex"})

	e.clock.Advance(time.Minute)
	up, err := e.id.UpdateAppInstanceBot(t.Context(), &chimesdkidentity.UpdateAppInstanceBotInput{
		AppInstanceBotArn: aws.String(bot), Name: aws.String("Concierge"), Metadata: aws.String("concierge"),
		Configuration: &types.Configuration{Lex: &types.LexConfiguration{
			LexBotAliasArn: aws.String(otherLexAlias),
			LocaleId:       aws.String("en_GB"),
			InvokedBy: &types.InvokedBy{
				StandardMessages: types.StandardMessagesMentions,
				TargetedMessages: types.TargetedMessagesNone,
			},
		}},
	})
	mustOK(t, err, "UpdateAppInstanceBot")
	if aws.ToString(up.AppInstanceBotArn) != bot {
		t.Errorf("UpdateAppInstanceBot ARN = %q", aws.ToString(up.AppInstanceBotArn))
	}
	b = describe(bot)
	if aws.ToString(b.Name) != "Concierge" || aws.ToString(b.Metadata) != "concierge" {
		t.Errorf("after update: %q %q", aws.ToString(b.Name), aws.ToString(b.Metadata))
	}
	wantLex(t, "updated", b.Configuration, lexWant{alias: otherLexAlias, locale: "en_GB", standard: "MENTIONS", targeted: "NONE"})
	if !aws.ToTime(b.CreatedTimestamp).Equal(created) {
		t.Errorf("update changed CreatedTimestamp from %v to %v", created, aws.ToTime(b.CreatedTimestamp))
	}
	if got := aws.ToTime(b.LastUpdatedTimestamp).Sub(created); got < time.Minute {
		t.Errorf("LastUpdatedTimestamp advanced by %v on update, want at least a minute", got)
	}

	// An update without Configuration keeps it.
	_, err = e.id.UpdateAppInstanceBot(t.Context(), &chimesdkidentity.UpdateAppInstanceBotInput{
		AppInstanceBotArn: aws.String(bot), Name: aws.String("Concierge 2"), Metadata: aws.String("v2"),
	})
	mustOK(t, err, "UpdateAppInstanceBot without Configuration")
	b = describe(bot)
	if aws.ToString(b.Name) != "Concierge 2" || aws.ToString(b.Metadata) != "v2" {
		t.Errorf("after second update: %q %q", aws.ToString(b.Name), aws.ToString(b.Metadata))
	}
	wantLex(t, "kept", b.Configuration, lexWant{alias: otherLexAlias, locale: "en_GB", standard: "MENTIONS", targeted: "NONE"})

	l, err := e.id.ListAppInstanceBots(t.Context(), &chimesdkidentity.ListAppInstanceBotsInput{AppInstanceArn: aws.String(ai)})
	mustOK(t, err, "ListAppInstanceBots")
	if aws.ToString(l.AppInstanceArn) != ai || len(l.AppInstanceBots) != 2 || l.NextToken != nil {
		t.Fatalf("ListAppInstanceBots: %q, %d bots, NextToken %v", aws.ToString(l.AppInstanceArn), len(l.AppInstanceBots), l.NextToken)
	}
	for _, s := range l.AppInstanceBots {
		switch aws.ToString(s.AppInstanceBotArn) {
		case bot:
			if aws.ToString(s.Name) != "Concierge 2" || aws.ToString(s.Metadata) != "v2" {
				t.Errorf("summary = %q %q", aws.ToString(s.Name), aws.ToString(s.Metadata))
			}
		case minimal:
			if s.Name != nil || s.Metadata != nil {
				t.Errorf("minimal summary = %v %v", s.Name, s.Metadata)
			}
		default:
			t.Errorf("unexpected bot %q", aws.ToString(s.AppInstanceBotArn))
		}
	}

	_, err = e.id.DeleteAppInstanceBot(t.Context(), &chimesdkidentity.DeleteAppInstanceBotInput{AppInstanceBotArn: aws.String(bot)})
	mustOK(t, err, "DeleteAppInstanceBot")
	_, err = e.id.DescribeAppInstanceBot(t.Context(), &chimesdkidentity.DescribeAppInstanceBotInput{AppInstanceBotArn: aws.String(bot)})
	wantError(t, err, "NotFoundException")
	_, err = e.id.DeleteAppInstanceBot(t.Context(), &chimesdkidentity.DeleteAppInstanceBotInput{AppInstanceBotArn: aws.String(bot)})
	wantError(t, err, "ForbiddenException")
	_, err = e.id.ListTagsForResource(t.Context(), &chimesdkidentity.ListTagsForResourceInput{ResourceARN: aws.String(bot)})
	wantError(t, err, "ForbiddenException")
	l, err = e.id.ListAppInstanceBots(t.Context(), &chimesdkidentity.ListAppInstanceBotsInput{AppInstanceArn: aws.String(ai)})
	mustOK(t, err, "ListAppInstanceBots after delete")
	if len(l.AppInstanceBots) != 1 || aws.ToString(l.AppInstanceBots[0].AppInstanceBotArn) != minimal {
		t.Errorf("after delete: %+v", l.AppInstanceBots)
	}
}

type lexWant struct {
	alias, locale, welcome, respondsTo, standard, targeted string
}

func wantLex(t testing.TB, what string, c *types.Configuration, w lexWant) {
	t.Helper()
	if c == nil || c.Lex == nil {
		t.Errorf("%s: no Lex configuration", what)
		return
	}
	l := c.Lex
	got := lexWant{alias: aws.ToString(l.LexBotAliasArn), locale: aws.ToString(l.LocaleId), welcome: aws.ToString(l.WelcomeIntent), respondsTo: string(l.RespondsTo)}
	if l.InvokedBy != nil {
		got.standard, got.targeted = string(l.InvokedBy.StandardMessages), string(l.InvokedBy.TargetedMessages)
	}
	if got != w {
		t.Errorf("%s: Lex configuration %+v, want %+v", what, got, w)
	}
	if w.welcome == "" && l.WelcomeIntent != nil {
		t.Errorf("%s: WelcomeIntent %q was never set", what, *l.WelcomeIntent)
	}
	if w.standard == "" && l.InvokedBy != nil {
		t.Errorf("%s: InvokedBy %+v was never set", what, *l.InvokedBy)
	}
}

func TestListAppInstanceBotsPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ai := e.createAppInstance(t, "Bot farm")
	e.createBot(t, e.createAppInstance(t, "Elsewhere"), "Stranger")
	want := map[string]bool{}
	for i := range 7 {
		want[e.createBot(t, ai, fmt.Sprintf("Bot %d", i))] = true
	}
	seen := map[string]int{}
	var token *string
	var sizes []int
	for {
		out, err := e.id.ListAppInstanceBots(t.Context(), &chimesdkidentity.ListAppInstanceBotsInput{
			AppInstanceArn: aws.String(ai), MaxResults: aws.Int32(3), NextToken: token,
		})
		mustOK(t, err, "ListAppInstanceBots page %d", len(sizes)+1)
		sizes = append(sizes, len(out.AppInstanceBots))
		for _, s := range out.AppInstanceBots {
			seen[aws.ToString(s.AppInstanceBotArn)]++
		}
		if out.NextToken == nil || len(sizes) > 10 {
			break
		}
		token = out.NextToken
	}
	if fmt.Sprint(sizes) != "[3 3 1]" {
		t.Errorf("page sizes %v, want [3 3 1]", sizes)
	}
	wantEachOnce(t, "ListAppInstanceBots", seen, want)

	seen = map[string]int{}
	pages := 0
	p := chimesdkidentity.NewListAppInstanceBotsPaginator(e.id, &chimesdkidentity.ListAppInstanceBotsInput{AppInstanceArn: aws.String(ai), MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		mustOK(t, err, "ListAppInstanceBots paginator")
		pages++
		for _, s := range out.AppInstanceBots {
			seen[aws.ToString(s.AppInstanceBotArn)]++
		}
	}
	if pages != 7 {
		t.Errorf("paginator took %d pages of 1 for 7 bots, want 7", pages)
	}
	wantEachOnce(t, "ListAppInstanceBots paginator", seen, want)
}

func TestAppInstanceAdmins(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ai := e.createAppInstance(t, "Admins")
	user := e.createUser(t, ai, "boss", "The Boss")
	bot := e.createBot(t, ai, "Bot boss")

	for _, c := range []struct{ arn, name string }{{user, "The Boss"}, {bot, "Bot boss"}} {
		out, err := e.id.CreateAppInstanceAdmin(t.Context(), &chimesdkidentity.CreateAppInstanceAdminInput{
			AppInstanceArn: aws.String(ai), AppInstanceAdminArn: aws.String(c.arn),
		})
		mustOK(t, err, "CreateAppInstanceAdmin %s", c.arn)
		if aws.ToString(out.AppInstanceArn) != ai || out.AppInstanceAdmin == nil ||
			aws.ToString(out.AppInstanceAdmin.Arn) != c.arn || aws.ToString(out.AppInstanceAdmin.Name) != c.name {
			t.Errorf("CreateAppInstanceAdmin = %q %+v", aws.ToString(out.AppInstanceArn), out.AppInstanceAdmin)
		}

		d, err := e.id.DescribeAppInstanceAdmin(t.Context(), &chimesdkidentity.DescribeAppInstanceAdminInput{
			AppInstanceArn: aws.String(ai), AppInstanceAdminArn: aws.String(c.arn),
		})
		mustOK(t, err, "DescribeAppInstanceAdmin %s", c.arn)
		a := d.AppInstanceAdmin
		if a == nil || aws.ToString(a.AppInstanceArn) != ai || a.Admin == nil || aws.ToString(a.Admin.Arn) != c.arn || aws.ToString(a.Admin.Name) != c.name {
			t.Errorf("DescribeAppInstanceAdmin = %+v", a)
		} else {
			e.wantRecent(t, "admin CreatedTimestamp", a.CreatedTimestamp)
		}
	}

	_, err := e.id.CreateAppInstanceAdmin(t.Context(), &chimesdkidentity.CreateAppInstanceAdminInput{
		AppInstanceArn: aws.String(ai), AppInstanceAdminArn: aws.String(user),
	})
	wantError(t, err, "ConflictException")

	l, err := e.id.ListAppInstanceAdmins(t.Context(), &chimesdkidentity.ListAppInstanceAdminsInput{AppInstanceArn: aws.String(ai)})
	mustOK(t, err, "ListAppInstanceAdmins")
	if aws.ToString(l.AppInstanceArn) != ai || len(l.AppInstanceAdmins) != 2 || l.NextToken != nil {
		t.Fatalf("ListAppInstanceAdmins: %q, %d admins, NextToken %v", aws.ToString(l.AppInstanceArn), len(l.AppInstanceAdmins), l.NextToken)
	}
	names := map[string]string{}
	for _, s := range l.AppInstanceAdmins {
		names[aws.ToString(s.Admin.Arn)] = aws.ToString(s.Admin.Name)
	}
	if names[user] != "The Boss" || names[bot] != "Bot boss" {
		t.Errorf("ListAppInstanceAdmins = %v", names)
	}

	_, err = e.id.DeleteAppInstanceAdmin(t.Context(), &chimesdkidentity.DeleteAppInstanceAdminInput{
		AppInstanceArn: aws.String(ai), AppInstanceAdminArn: aws.String(user),
	})
	mustOK(t, err, "DeleteAppInstanceAdmin")
	_, err = e.id.DescribeAppInstanceAdmin(t.Context(), &chimesdkidentity.DescribeAppInstanceAdminInput{
		AppInstanceArn: aws.String(ai), AppInstanceAdminArn: aws.String(user),
	})
	wantError(t, err, "ForbiddenException")
	_, err = e.id.DeleteAppInstanceAdmin(t.Context(), &chimesdkidentity.DeleteAppInstanceAdminInput{
		AppInstanceArn: aws.String(ai), AppInstanceAdminArn: aws.String(user),
	})
	wantError(t, err, "ForbiddenException")
	// The user stays; only the role went.
	_, err = e.id.DescribeAppInstanceUser(t.Context(), &chimesdkidentity.DescribeAppInstanceUserInput{AppInstanceUserArn: aws.String(user)})
	mustOK(t, err, "DescribeAppInstanceUser of a demoted admin")
	l, err = e.id.ListAppInstanceAdmins(t.Context(), &chimesdkidentity.ListAppInstanceAdminsInput{AppInstanceArn: aws.String(ai)})
	mustOK(t, err, "ListAppInstanceAdmins after delete")
	if len(l.AppInstanceAdmins) != 1 || aws.ToString(l.AppInstanceAdmins[0].Admin.Arn) != bot {
		t.Errorf("admins after delete: %+v", l.AppInstanceAdmins)
	}

	// Deleting the bot takes its role with it.
	_, err = e.id.DeleteAppInstanceBot(t.Context(), &chimesdkidentity.DeleteAppInstanceBotInput{AppInstanceBotArn: aws.String(bot)})
	mustOK(t, err, "DeleteAppInstanceBot")
	l, err = e.id.ListAppInstanceAdmins(t.Context(), &chimesdkidentity.ListAppInstanceAdminsInput{AppInstanceArn: aws.String(ai)})
	mustOK(t, err, "ListAppInstanceAdmins after deleting the bot")
	if l.NextToken != nil || len(l.AppInstanceAdmins) != 0 {
		t.Errorf("admins after deleting the bot: %+v", l.AppInstanceAdmins)
	}

	// Promoting again after a demotion works.
	_, err = e.id.CreateAppInstanceAdmin(t.Context(), &chimesdkidentity.CreateAppInstanceAdminInput{
		AppInstanceArn: aws.String(ai), AppInstanceAdminArn: aws.String(user),
	})
	mustOK(t, err, "CreateAppInstanceAdmin again")
}

func TestAppInstanceAdminLimitAndPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ai := e.createAppInstance(t, "Crowded")
	want := map[string]bool{}
	for i := range 101 {
		u := e.createUser(t, ai, fmt.Sprintf("user-%03d", i), fmt.Sprintf("User %d", i))
		if i == 100 {
			_, err := e.id.CreateAppInstanceAdmin(t.Context(), &chimesdkidentity.CreateAppInstanceAdminInput{
				AppInstanceArn: aws.String(ai), AppInstanceAdminArn: aws.String(u),
			})
			wantError(t, err, "ResourceLimitExceededException")
			break
		}
		_, err := e.id.CreateAppInstanceAdmin(t.Context(), &chimesdkidentity.CreateAppInstanceAdminInput{
			AppInstanceArn: aws.String(ai), AppInstanceAdminArn: aws.String(u),
		})
		mustOK(t, err, "CreateAppInstanceAdmin %d", i+1)
		want[u] = true
	}

	seen := map[string]int{}
	var token *string
	var sizes []int
	for {
		out, err := e.id.ListAppInstanceAdmins(t.Context(), &chimesdkidentity.ListAppInstanceAdminsInput{
			AppInstanceArn: aws.String(ai), MaxResults: aws.Int32(30), NextToken: token,
		})
		mustOK(t, err, "ListAppInstanceAdmins page %d", len(sizes)+1)
		sizes = append(sizes, len(out.AppInstanceAdmins))
		for _, s := range out.AppInstanceAdmins {
			seen[aws.ToString(s.Admin.Arn)]++
		}
		if out.NextToken == nil || len(sizes) > 10 {
			break
		}
		token = out.NextToken
	}
	if fmt.Sprint(sizes) != "[30 30 30 10]" {
		t.Errorf("page sizes %v, want [30 30 30 10]", sizes)
	}
	wantEachOnce(t, "ListAppInstanceAdmins", seen, want)

	// Without MaxResults, the SDK paginator gets pages of at most 50.
	seen = map[string]int{}
	pages := 0
	p := chimesdkidentity.NewListAppInstanceAdminsPaginator(e.id, &chimesdkidentity.ListAppInstanceAdminsInput{AppInstanceArn: aws.String(ai)})
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		mustOK(t, err, "ListAppInstanceAdmins paginator")
		pages++
		if len(out.AppInstanceAdmins) > 50 {
			t.Errorf("page of %d admins, more than the model's 50", len(out.AppInstanceAdmins))
		}
		for _, s := range out.AppInstanceAdmins {
			seen[aws.ToString(s.Admin.Arn)]++
		}
	}
	if pages != 2 {
		t.Errorf("paginator took %d pages for 100 admins, want 2", pages)
	}
	wantEachOnce(t, "ListAppInstanceAdmins paginator", seen, want)
}
