package e2e

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	mtypes "github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"

	"github.com/carillonhq/carillon/messaging"
)

func TestMessagingCreateChannel(t *testing.T) {
	t.Parallel()
	e := mxNew(t)
	alice, bob, carol := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "carol")
	bot := e.createBot(t, e.app, "Helper")

	ch := e.channel(t, alice, "General", func(in *chimesdkmessaging.CreateChannelInput) {
		in.ChannelId = aws.String("general")
		in.Metadata = aws.String(`{"topic":"all"}`)
		in.MemberArns = []string{bob, bot, bob}
		in.ModeratorArns = []string{carol, alice}
		in.Tags = []mtypes.Tag{{Key: aws.String("team"), Value: aws.String("core")}}
		in.ExpirationSettings = &mtypes.ExpirationSettings{ExpirationDays: aws.Int32(30), ExpirationCriterion: mtypes.ExpirationCriterionLastMessageTimestamp}
	})
	if want := e.app + "/channel/general"; ch != want {
		t.Fatalf("ChannelArn %q, want %q", ch, want)
	}

	c := e.describe(t, alice, ch)
	if aws.ToString(c.ChannelArn) != ch || aws.ToString(c.Name) != "General" || aws.ToString(c.Metadata) != `{"topic":"all"}` {
		t.Errorf("Channel %+v", c)
	}
	if c.Mode != mtypes.ChannelModeUnrestricted || c.Privacy != mtypes.ChannelPrivacyPublic {
		t.Errorf("defaults: Mode %q, Privacy %q", c.Mode, c.Privacy)
	}
	if c.CreatedBy == nil || aws.ToString(c.CreatedBy.Arn) != alice || aws.ToString(c.CreatedBy.Name) != "Name alice" {
		t.Errorf("CreatedBy %+v", c.CreatedBy)
	}
	e.wantRecent(t, "CreatedTimestamp", c.CreatedTimestamp)
	e.wantRecent(t, "LastUpdatedTimestamp", c.LastUpdatedTimestamp)
	if c.LastMessageTimestamp != nil || c.ChannelFlowArn != nil || c.ElasticChannelConfiguration != nil {
		t.Errorf("unset members are set: %+v", c)
	}
	if x := c.ExpirationSettings; x == nil || aws.ToInt32(x.ExpirationDays) != 30 || x.ExpirationCriterion != mtypes.ExpirationCriterionLastMessageTimestamp {
		t.Errorf("ExpirationSettings %+v", x)
	}

	// The creator and MemberArns are members; ModeratorArns are not.
	for user, want := range map[string]bool{alice: true, bob: true, bot: true, carol: false} {
		if got := e.isMember(t, ch, user); got != want {
			t.Errorf("%s member: %v, want %v", user, got, want)
		}
	}
	// The creator and ModeratorArns are moderators; MemberArns are not.
	for user, want := range map[string]bool{alice: true, carol: true, bob: false, bot: false} {
		if got := e.isModerator(t, alice, ch, user); got != want {
			t.Errorf("%s moderator: %v, want %v", user, got, want)
		}
	}
	m, err := e.msg.DescribeChannelModerator(t.Context(), &chimesdkmessaging.DescribeChannelModeratorInput{
		ChannelArn: aws.String(ch), ChannelModeratorArn: aws.String(carol), ChimeBearer: aws.String(alice),
	})
	mustOK(t, err, "DescribeChannelModerator")
	if cb := m.ChannelModerator.CreatedBy; cb == nil || aws.ToString(cb.Arn) != alice {
		t.Errorf("moderator CreatedBy %+v, want the creator", cb)
	}

	tags, err := e.msg.ListTagsForResource(t.Context(), &chimesdkmessaging.ListTagsForResourceInput{ResourceARN: aws.String(ch)})
	mustOK(t, err, "ListTagsForResource")
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "team" || aws.ToString(tags.Tags[0].Value) != "core" {
		t.Errorf("Tags %+v", tags.Tags)
	}

	// One CREATE_CHANNEL_MEMBERSHIP per member, invited by the creator;
	// nothing announces the channel itself.
	evs := e.events(t, ch)
	var added []string
	for _, ev := range evs {
		if ev.Type != messaging.EventCreateChannelMembership {
			t.Errorf("unexpected %s event", ev.Type)
			continue
		}
		p := eventPayload(t, ev, "CreatedTimestamp", "LastUpdatedTimestamp")
		if arn, name := mxIdentity(p, "InvitedBy"); arn != alice || name != "Name alice" {
			t.Errorf("InvitedBy %q %q", arn, name)
		}
		if !ev.ToMembers || ev.MemberChange != 1 || p["Type"] != "DEFAULT" || p["ChannelArn"] != ch {
			t.Errorf("event %+v payload %v", ev, p)
		}
		added = append(added, ev.Member)
	}
	if want := sortedCopy(alice, bob, bot); !slices.Equal(sortedCopy(added...), want) {
		t.Errorf("memberships announced %v, want %v", added, want)
	}

	// Without a ChannelId the id is a UUID.
	other := e.channel(t, bob, "Other")
	if !regexp.MustCompile(`/channel/` + uuidPattern + `$`).MatchString(other) {
		t.Errorf("generated ChannelArn %q does not end in a UUID", other)
	}
}

func TestMessagingCreateChannelIdempotency(t *testing.T) {
	t.Parallel()
	e := mxNew(t)
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	create := func(bearer, name string) (string, error) {
		out, err := e.msg.CreateChannel(t.Context(), &chimesdkmessaging.CreateChannelInput{
			AppInstanceArn: aws.String(e.app), Name: aws.String(name), ChimeBearer: aws.String(bearer),
			ClientRequestToken: aws.String("token-1"),
		})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.ChannelArn), nil
	}
	first, err := create(alice, "Once")
	mustOK(t, err, "CreateChannel")
	again, err := create(alice, "Once")
	mustOK(t, err, "CreateChannel again")
	if again != first {
		t.Errorf("the same token and request gave %q, then %q", first, again)
	}
	_, err = create(alice, "Different")
	wantError(t, err, "ConflictException")
	// Another bearer's token lives in its own scope.
	theirs, err := create(bob, "Once")
	mustOK(t, err, "CreateChannel as bob")
	if theirs == first {
		t.Error("two bearers' requests with one token made one channel")
	}
	// The replay created nothing: alice is announced as member once.
	if n := len(mxEventsOf(e.events(t, first), messaging.EventCreateChannelMembership)); n != 1 {
		t.Errorf("%d membership events, want 1", n)
	}
}

func TestMessagingCreateChannelElastic(t *testing.T) {
	t.Parallel()
	e := mxNew(t)
	alice, bob, carol := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "carol")
	elastic := &mtypes.ElasticChannelConfiguration{MaximumSubChannels: aws.Int32(4), TargetMembershipsPerSubChannel: aws.Int32(2), MinimumMembershipPercentage: aws.Int32(40)}

	ch := e.channel(t, alice, "Big", func(in *chimesdkmessaging.CreateChannelInput) {
		in.Mode = mtypes.ChannelModeRestricted
		in.ElasticChannelConfiguration = elastic
		in.ModeratorArns = []string{carol}
	})
	c := e.describe(t, alice, ch)
	if x := c.ElasticChannelConfiguration; x == nil || aws.ToInt32(x.MaximumSubChannels) != 4 ||
		aws.ToInt32(x.TargetMembershipsPerSubChannel) != 2 || aws.ToInt32(x.MinimumMembershipPercentage) != 40 {
		t.Errorf("ElasticChannelConfiguration %+v", x)
	}
	if c.Mode != mtypes.ChannelModeRestricted {
		t.Errorf("Mode %q", c.Mode)
	}
	if e.isMember(t, ch, alice) {
		t.Error("the creator of an elastic channel is a member")
	}
	if !e.isModerator(t, alice, ch, alice) || !e.isModerator(t, alice, ch, carol) {
		t.Error("the creator and ModeratorArns should moderate the elastic channel")
	}
	if evs := e.events(t, ch); len(evs) != 0 {
		t.Errorf("creating an elastic channel announced %d events", len(evs))
	}

	_, err := e.msg.CreateChannel(t.Context(), &chimesdkmessaging.CreateChannelInput{
		AppInstanceArn: aws.String(e.app), Name: aws.String("Open"), ChimeBearer: aws.String(alice),
		ElasticChannelConfiguration: elastic,
	})
	mxBadRequest(t, err, "RESTRICTED")
	_, err = e.msg.CreateChannel(t.Context(), &chimesdkmessaging.CreateChannelInput{
		AppInstanceArn: aws.String(e.app), Name: aws.String("Crowded"), ChimeBearer: aws.String(alice),
		Mode: mtypes.ChannelModeRestricted, ElasticChannelConfiguration: elastic, MemberArns: []string{bob},
	})
	mxBadRequest(t, err, "MemberArns")

	// Mode stays RESTRICTED.
	_, err = e.msg.UpdateChannel(t.Context(), &chimesdkmessaging.UpdateChannelInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(alice), Mode: mtypes.ChannelModeUnrestricted,
	})
	mxBadRequest(t, err, "RESTRICTED")
}

func TestMessagingCreateChannelErrors(t *testing.T) {
	t.Parallel()
	e := mxNew(t)
	alice := e.user(t, "alice")
	otherApp := e.createAppInstance(t, "Other")
	stranger := e.createUser(t, otherApp, "stranger", "Stranger")
	e.channel(t, alice, "Taken", func(in *chimesdkmessaging.CreateChannelInput) { in.ChannelId = aws.String("taken") })

	base := func(mod func(*chimesdkmessaging.CreateChannelInput)) *chimesdkmessaging.CreateChannelInput {
		in := &chimesdkmessaging.CreateChannelInput{AppInstanceArn: aws.String(e.app), Name: aws.String("C"), ChimeBearer: aws.String(alice)}
		if mod != nil {
			mod(in)
		}
		return in
	}
	many := make([]string, 11)
	for i := range many {
		many[i] = userARN(e.app, "u"+string(rune('a'+i)))
	}
	cases := []struct {
		name string
		in   *chimesdkmessaging.CreateChannelInput
		code string
		msg  string
	}{
		{"duplicate ChannelId", base(func(in *chimesdkmessaging.CreateChannelInput) { in.ChannelId = aws.String("taken") }), "ConflictException", ""},
		{"bearer of another AppInstance", base(func(in *chimesdkmessaging.CreateChannelInput) { in.ChimeBearer = aws.String(stranger) }), "ForbiddenException", ""},
		{"missing bearer", base(func(in *chimesdkmessaging.CreateChannelInput) { in.ChimeBearer = aws.String(userARN(e.app, "ghost")) }), "ForbiddenException", ""},
		{"AppInstance not the bearer's", base(func(in *chimesdkmessaging.CreateChannelInput) { in.AppInstanceArn = aws.String(otherApp) }), "ForbiddenException", ""},
		{"member of another AppInstance", base(func(in *chimesdkmessaging.CreateChannelInput) { in.MemberArns = []string{stranger} }), "BadRequestException", stranger},
		{"missing member", base(func(in *chimesdkmessaging.CreateChannelInput) { in.MemberArns = []string{userARN(e.app, "ghost")} }), "BadRequestException", "ghost"},
		{"moderator not a user", base(func(in *chimesdkmessaging.CreateChannelInput) { in.ModeratorArns = []string{e.app} }), "BadRequestException", ""},
		{"reserved tag", base(func(in *chimesdkmessaging.CreateChannelInput) {
			in.Tags = []mtypes.Tag{{Key: aws.String("aws:x"), Value: aws.String("v")}}
		}), "BadRequestException", "aws:"},
		{"empty name", base(func(in *chimesdkmessaging.CreateChannelInput) { in.Name = aws.String("") }), "BadRequestException", "Name"},
		{"11 members", base(func(in *chimesdkmessaging.CreateChannelInput) { in.MemberArns = many }), "BadRequestException", "MemberArns"},
		{"bad ChannelId", base(func(in *chimesdkmessaging.CreateChannelInput) { in.ChannelId = aws.String("-bad-") }), "BadRequestException", "ChannelId"},
	}
	for _, c := range cases {
		_, err := e.msg.CreateChannel(t.Context(), c.in, skipMessagingValidation)
		if c.code == "BadRequestException" {
			mxBadRequest(t, err, c.msg)
		} else if wantError(t, err, c.code) == "" {
			t.Logf("case %q", c.name)
		}
	}
	// A failed create leaves nothing behind.
	out, err := e.msg.ListChannels(t.Context(), &chimesdkmessaging.ListChannelsInput{AppInstanceArn: aws.String(e.app), ChimeBearer: aws.String(alice)})
	mustOK(t, err, "ListChannels")
	if len(out.Channels) != 1 {
		t.Errorf("%d channels after failed creates, want 1", len(out.Channels))
	}
}

func TestMessagingDescribeChannel(t *testing.T) {
	t.Parallel()
	e := mxNew(t)
	alice, bob, carol, dave := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "carol"), e.user(t, "dave")
	admin := e.admin(t, "admin")
	public := e.channel(t, alice, "Public")
	private := e.channel(t, alice, "Private", mxPrivate, mxMembers(bob), mxModerators(carol))
	otherApp := e.createAppInstance(t, "Other")
	stranger := e.createUser(t, otherApp, "stranger", "Stranger")

	describe := func(bearer, ch string) error {
		_, err := e.msg.DescribeChannel(t.Context(), &chimesdkmessaging.DescribeChannelInput{ChannelArn: aws.String(ch), ChimeBearer: aws.String(bearer)})
		return err
	}
	// PUBLIC: any user of the AppInstance.
	mustOK(t, describe(dave, public), "non-member describes a PUBLIC channel")
	// PRIVATE: members, moderators and admins.
	for _, who := range []string{alice, bob, carol, admin} {
		mustOK(t, describe(who, private), "%s describes the PRIVATE channel", who)
	}
	if c := e.describe(t, bob, private); c.Privacy != mtypes.ChannelPrivacyPrivate {
		t.Errorf("Privacy %q", c.Privacy)
	}
	mxForbidden(t, describe(dave, private))
	// Another AppInstance's user, a missing channel, a missing bearer.
	mxForbidden(t, describe(stranger, public))
	mxForbidden(t, describe(alice, e.app+"/channel/missing"))
	mxForbidden(t, describe(userARN(e.app, "ghost"), public))
	// A per-user key acts only as its own bearer.
	_, err := e.as(t, dave).DescribeChannel(t.Context(), &chimesdkmessaging.DescribeChannelInput{ChannelArn: aws.String(public), ChimeBearer: aws.String(alice)})
	mxForbidden(t, err)
	_, err = e.as(t, dave).DescribeChannel(t.Context(), &chimesdkmessaging.DescribeChannelInput{ChannelArn: aws.String(public), ChimeBearer: aws.String(dave)})
	mustOK(t, err, "DescribeChannel with dave's own key")
}

func TestMessagingUpdateChannel(t *testing.T) {
	t.Parallel()
	e := mxNew(t)
	alice, bob, carol, dave := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "carol"), e.user(t, "dave")
	admin := e.admin(t, "admin")
	ch := e.channel(t, alice, "Before", mxMembers(bob), mxModerators(carol), func(in *chimesdkmessaging.CreateChannelInput) {
		in.Metadata = aws.String("m0")
	})
	before := e.describe(t, alice, ch)
	seq := len(e.events(t, ch))
	e.clock.Advance(2 * time.Second)

	update := func(bearer string, in *chimesdkmessaging.UpdateChannelInput) error {
		in.ChannelArn, in.ChimeBearer = aws.String(ch), aws.String(bearer)
		_, err := e.msg.UpdateChannel(t.Context(), in)
		return err
	}
	mustOK(t, update(alice, &chimesdkmessaging.UpdateChannelInput{Name: aws.String("After"), Mode: mtypes.ChannelModeRestricted, Metadata: aws.String("m1")}), "UpdateChannel")
	c := e.describe(t, alice, ch)
	if aws.ToString(c.Name) != "After" || c.Mode != mtypes.ChannelModeRestricted || aws.ToString(c.Metadata) != "m1" || c.Privacy != mtypes.ChannelPrivacyPublic {
		t.Errorf("after update: %+v", c)
	}
	if !c.LastUpdatedTimestamp.After(*before.LastUpdatedTimestamp) || !c.CreatedTimestamp.Equal(*before.CreatedTimestamp) {
		t.Errorf("timestamps: created %v→%v, updated %v→%v", before.CreatedTimestamp, c.CreatedTimestamp, before.LastUpdatedTimestamp, c.LastUpdatedTimestamp)
	}

	evs := e.events(t, ch)[seq:]
	if len(evs) != 1 || evs[0].Type != messaging.EventUpdateChannel {
		t.Fatalf("events after UpdateChannel: %+v", evs)
	}
	ev := evs[0]
	if !ev.ToMembers || len(ev.Recipients) != 0 || ev.Member != "" || ev.MemberChange != 0 || ev.MessageType != "SYSTEM" {
		t.Errorf("UPDATE_CHANNEL event %+v", ev)
	}
	p := eventPayload(t, ev, "CreatedTimestamp", "LastUpdatedTimestamp")
	if p["ChannelArn"] != ch || p["Name"] != "After" || p["Mode"] != "RESTRICTED" || p["Privacy"] != "PUBLIC" || p["Metadata"] != "m1" {
		t.Errorf("payload %s", ev.Payload)
	}
	if arn, name := mxIdentity(p, "CreatedBy"); arn != alice || name != "Name alice" {
		t.Errorf("payload CreatedBy %q %q", arn, name)
	}
	if got, _ := time.Parse("2006-01-02T15:04:05.000Z", p["LastUpdatedTimestamp"].(string)); !got.Equal(*c.LastUpdatedTimestamp) {
		t.Errorf("payload LastUpdatedTimestamp %v, REST %v", got, c.LastUpdatedTimestamp)
	}

	// Only what is given changes; moderators and admins may update.
	mustOK(t, update(carol, &chimesdkmessaging.UpdateChannelInput{Metadata: aws.String("m2")}), "UpdateChannel by a moderator")
	mustOK(t, update(admin, &chimesdkmessaging.UpdateChannelInput{Mode: mtypes.ChannelModeUnrestricted}), "UpdateChannel by an admin")
	c = e.describe(t, alice, ch)
	if aws.ToString(c.Name) != "After" || aws.ToString(c.Metadata) != "m2" || c.Mode != mtypes.ChannelModeUnrestricted {
		t.Errorf("after partial updates: %+v", c)
	}
	// Members and non-members may not.
	mxForbidden(t, update(bob, &chimesdkmessaging.UpdateChannelInput{Name: aws.String("Nope")}))
	mxForbidden(t, update(dave, &chimesdkmessaging.UpdateChannelInput{Name: aws.String("Nope")}))
	mxForbidden(t, update(userARN(e.app, "ghost"), &chimesdkmessaging.UpdateChannelInput{Name: aws.String("Nope")}))
	_, err := e.msg.UpdateChannel(t.Context(), &chimesdkmessaging.UpdateChannelInput{
		ChannelArn: aws.String(e.app + "/channel/missing"), ChimeBearer: aws.String(alice), Name: aws.String("x"),
	})
	mxForbidden(t, err)
	mxBadRequest(t, update(alice, &chimesdkmessaging.UpdateChannelInput{Name: aws.String("")}), "Name")
	if got := aws.ToString(e.describe(t, alice, ch).Name); got != "After" {
		t.Errorf("refused updates changed the name to %q", got)
	}
	if n := len(mxEventsOf(e.events(t, ch), messaging.EventUpdateChannel)); n != 3 {
		t.Errorf("%d UPDATE_CHANNEL events, want 3", n)
	}
}

func TestMessagingDeleteChannel(t *testing.T) {
	t.Parallel()
	e := mxNew(t)
	alice, bob, carol := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "carol")
	admin := e.admin(t, "admin")
	ch := e.channel(t, alice, "Doomed", mxMembers(bob), mxModerators(carol), func(in *chimesdkmessaging.CreateChannelInput) {
		in.Tags = []mtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}
	})
	other := e.channel(t, carol, "Other", mxMembers(bob))
	del := func(bearer, ch string) error {
		_, err := e.msg.DeleteChannel(t.Context(), &chimesdkmessaging.DeleteChannelInput{ChannelArn: aws.String(ch), ChimeBearer: aws.String(bearer)})
		return err
	}
	mxForbidden(t, del(bob, ch))
	mxForbidden(t, del(e.user(t, "dave"), ch))
	seq := len(e.events(t, ch))

	mustOK(t, del(alice, ch), "DeleteChannel")
	evs := e.events(t, ch)[seq:]
	if len(evs) != 1 || evs[0].Type != messaging.EventDeleteChannel {
		t.Fatalf("events after DeleteChannel: %+v", evs)
	}
	if ev := evs[0]; !ev.ToMembers || ev.MessageType != "SYSTEM" {
		t.Errorf("DELETE_CHANNEL event %+v", ev)
	}
	p := eventPayload(t, evs[0], "CreatedTimestamp", "LastUpdatedTimestamp")
	if p["ChannelArn"] != ch || p["Name"] != "Doomed" || p["Mode"] != "UNRESTRICTED" || p["Privacy"] != "PUBLIC" {
		t.Errorf("payload %s", evs[0].Payload)
	}

	// Gone, with its memberships, moderators and tags.
	_, err := e.msg.DescribeChannel(t.Context(), &chimesdkmessaging.DescribeChannelInput{ChannelArn: aws.String(ch), ChimeBearer: aws.String(alice)})
	mxForbidden(t, err)
	mxForbidden(t, del(alice, ch))
	_, err = e.msg.ListTagsForResource(t.Context(), &chimesdkmessaging.ListTagsForResourceInput{ResourceARN: aws.String(ch)})
	mxForbidden(t, err)
	mods, err := e.msg.ListChannelsModeratedByAppInstanceUser(t.Context(), &chimesdkmessaging.ListChannelsModeratedByAppInstanceUserInput{ChimeBearer: aws.String(carol)})
	mustOK(t, err, "ListChannelsModeratedByAppInstanceUser")
	if len(mods.Channels) != 1 || aws.ToString(mods.Channels[0].ChannelSummary.ChannelArn) != other {
		t.Errorf("carol moderates %+v after the delete", mods.Channels)
	}
	mine, err := e.msg.ListChannelMembershipsForAppInstanceUser(t.Context(), &chimesdkmessaging.ListChannelMembershipsForAppInstanceUserInput{ChimeBearer: aws.String(bob)})
	mustOK(t, err, "ListChannelMembershipsForAppInstanceUser")
	if len(mine.ChannelMemberships) != 1 || aws.ToString(mine.ChannelMemberships[0].ChannelSummary.ChannelArn) != other {
		t.Errorf("bob's memberships after the delete: %+v", mine.ChannelMemberships)
	}
	// The ChannelId may be used again.
	again := e.channel(t, alice, "Again", func(in *chimesdkmessaging.CreateChannelInput) {
		in.ChannelId = aws.String(strings.TrimPrefix(ch, e.app+"/channel/"))
	})
	if again != ch {
		t.Errorf("recreated %q, want %q", again, ch)
	}
	if e.isMember(t, again, bob) {
		t.Error("a membership survived the delete")
	}
	if e.isModerator(t, alice, again, carol) {
		t.Error("a moderator survived the delete")
	}
	tags, err := e.msg.ListTagsForResource(t.Context(), &chimesdkmessaging.ListTagsForResourceInput{ResourceARN: aws.String(again)})
	mustOK(t, err, "ListTagsForResource")
	if len(tags.Tags) != 0 {
		t.Errorf("tags survived the delete: %+v", tags.Tags)
	}
	// Admins may delete any channel.
	mustOK(t, del(admin, other), "DeleteChannel by an admin")
}

func TestMessagingListChannels(t *testing.T) {
	t.Parallel()
	e := mxNew(t)
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	admin := e.admin(t, "admin")
	var public []string
	for _, n := range []string{"p1", "p2", "p3"} {
		public = append(public, e.channel(t, alice, n))
	}
	private := e.channel(t, alice, "secret", mxPrivate, mxMembers(bob))
	otherApp := e.createAppInstance(t, "Other")
	stranger := e.createUser(t, otherApp, "stranger", "Stranger")

	list := func(bearer string, privacy mtypes.ChannelPrivacy, max int32) ([]string, error) {
		var all []mtypes.ChannelSummary
		var token *string
		for pages := 0; ; pages++ {
			in := &chimesdkmessaging.ListChannelsInput{AppInstanceArn: aws.String(e.app), ChimeBearer: aws.String(bearer), Privacy: privacy, NextToken: token}
			if max > 0 {
				in.MaxResults = aws.Int32(max)
			}
			out, err := e.msg.ListChannels(t.Context(), in)
			if err != nil {
				return nil, err
			}
			if max > 0 && len(out.Channels) > int(max) {
				t.Errorf("page of %d, MaxResults %d", len(out.Channels), max)
			}
			all = append(all, out.Channels...)
			if token = out.NextToken; token == nil || pages > 10 {
				break
			}
		}
		for _, s := range all {
			if aws.ToString(s.Name) == "" || s.Mode == "" || s.Privacy != privacy && privacy != "" {
				t.Errorf("summary %+v", s)
			}
		}
		return mxSummaryARNs(all), nil
	}
	want := sortedCopy(public...)
	for _, who := range []string{alice, bob, admin} {
		got, err := list(who, "", 0)
		mustOK(t, err, "ListChannels as %s", who)
		if !slices.Equal(got, want) {
			t.Errorf("ListChannels as %s: %v, want %v", who, got, want)
		}
	}
	got, err := list(bob, mtypes.ChannelPrivacyPublic, 1)
	mustOK(t, err, "ListChannels by pages of 1")
	if !slices.Equal(got, want) {
		t.Errorf("paged ListChannels: %v, want %v", got, want)
	}
	got, err = list(admin, mtypes.ChannelPrivacyPrivate, 0)
	mustOK(t, err, "ListChannels PRIVATE as admin")
	if !slices.Equal(got, []string{private}) {
		t.Errorf("PRIVATE channels %v, want %v", got, private)
	}
	// PRIVATE is for admins only, even for the channel's members.
	_, err = list(bob, mtypes.ChannelPrivacyPrivate, 0)
	mxForbidden(t, err)
	_, err = list(stranger, "", 0)
	mxForbidden(t, err)
	_, err = list(userARN(e.app, "ghost"), "", 0)
	mxForbidden(t, err)

	_, err = e.msg.ListChannels(t.Context(), &chimesdkmessaging.ListChannelsInput{AppInstanceArn: aws.String(e.app), ChimeBearer: aws.String(alice), MaxResults: aws.Int32(51)}, skipMessagingValidation)
	mxBadRequest(t, err, "MaxResults")
	_, err = e.msg.ListChannels(t.Context(), &chimesdkmessaging.ListChannelsInput{AppInstanceArn: aws.String(e.app), ChimeBearer: aws.String(alice), NextToken: aws.String("garbage")})
	mxBadRequest(t, err, "NextToken")
	// The SDK paginator walks the pages.
	p := chimesdkmessaging.NewListChannelsPaginator(e.msg, &chimesdkmessaging.ListChannelsInput{AppInstanceArn: aws.String(e.app), ChimeBearer: aws.String(alice), MaxResults: aws.Int32(2)})
	var n int
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		mustOK(t, err, "ListChannels paginator")
		n += len(out.Channels)
	}
	if n != len(public) {
		t.Errorf("paginator saw %d channels, want %d", n, len(public))
	}
}

func TestMessagingSearchChannels(t *testing.T) {
	t.Parallel()
	e := mxNew(t)
	a, b, c, d := e.user(t, "a"), e.user(t, "b"), e.user(t, "c"), e.user(t, "d")
	admin := e.admin(t, "admin")
	ab := e.channel(t, a, "ab", mxMembers(b))
	abc := e.channel(t, a, "abc", mxMembers(b, c), mxPrivate)
	ac := e.channel(t, a, "ac", mxMembers(c))
	cd := e.channel(t, c, "cd", mxMembers(d))

	field := func(op mtypes.SearchFieldOperator, values ...string) mtypes.SearchField {
		return mtypes.SearchField{Key: mtypes.SearchFieldKeyMembers, Operator: op, Values: values}
	}
	eq := func(v ...string) mtypes.SearchField { return field(mtypes.SearchFieldOperatorEquals, v...) }
	inc := func(v ...string) mtypes.SearchField { return field(mtypes.SearchFieldOperatorIncludes, v...) }
	search := func(bearer string, max int32, fields ...mtypes.SearchField) ([]string, error) {
		var all []mtypes.ChannelSummary
		var token *string
		for pages := 0; ; pages++ {
			in := &chimesdkmessaging.SearchChannelsInput{Fields: fields, NextToken: token}
			if bearer != "" {
				in.ChimeBearer = aws.String(bearer)
			}
			if max > 0 {
				in.MaxResults = aws.Int32(max)
			}
			out, err := e.msg.SearchChannels(t.Context(), in)
			if err != nil {
				return nil, err
			}
			all = append(all, out.Channels...)
			if token = out.NextToken; token == nil || pages > 10 {
				break
			}
		}
		return mxSummaryARNs(all), nil
	}
	cases := []struct {
		name   string
		bearer string
		fields []mtypes.SearchField
		want   []string
	}{
		{"EQUALS finds the DM", a, []mtypes.SearchField{eq(a, b)}, []string{ab}},
		{"EQUALS in any order, repeated values", a, []mtypes.SearchField{eq(b, a, b)}, []string{ab}},
		{"INCLUDES", a, []mtypes.SearchField{inc(a, b)}, []string{ab, abc}},
		{"INCLUDES AND INCLUDES", a, []mtypes.SearchField{inc(b), inc(c)}, []string{abc}},
		{"EQUALS AND INCLUDES", a, []mtypes.SearchField{eq(a, b, c), inc(c)}, []string{abc}},
		{"EQUALS AND INCLUDES outside it", a, []mtypes.SearchField{eq(a, b), inc(c)}, nil},
		{"two different EQUALS", a, []mtypes.SearchField{eq(a, b), eq(a, c)}, nil},
		{"two same EQUALS", a, []mtypes.SearchField{eq(a, b), eq(b, a)}, []string{ab}},
		{"only the bearer's channels", d, []mtypes.SearchField{inc(c)}, []string{cd}},
		{"a non-member finds nothing", d, []mtypes.SearchField{inc(a)}, nil},
		{"admins search every channel", admin, []mtypes.SearchField{inc(c)}, []string{abc, ac, cd}},
		{"root without a bearer", "", []mtypes.SearchField{inc(c)}, []string{abc, ac, cd}},
		{"root, members of two AppInstances", "", []mtypes.SearchField{inc(c, e.createUser(t, e.createAppInstance(t, "Other"), "x", "X"))}, nil},
	}
	for _, tc := range cases {
		for _, max := range []int32{0, 1} {
			got, err := search(tc.bearer, max, tc.fields...)
			if err != nil {
				t.Errorf("%s (MaxResults %d): %v", tc.name, max, err)
				continue
			}
			if want := sortedCopy(tc.want...); !slices.Equal(got, want) {
				t.Errorf("%s (MaxResults %d): %v, want %v", tc.name, max, got, want)
			}
		}
	}

	_, err := search("", 0, inc("not-an-arn"))
	mxBadRequest(t, err, "AppInstance")
	_, err = search(userARN(e.app, "ghost"), 0, inc(a))
	mxForbidden(t, err)
	_, err = e.msg.SearchChannels(t.Context(), &chimesdkmessaging.SearchChannelsInput{ChimeBearer: aws.String(a)}, skipMessagingValidation)
	mxBadRequest(t, err, "Fields")
	_, err = e.msg.SearchChannels(t.Context(), &chimesdkmessaging.SearchChannelsInput{
		ChimeBearer: aws.String(a), Fields: []mtypes.SearchField{{Key: "NAME", Operator: mtypes.SearchFieldOperatorEquals, Values: []string{"x"}}},
	}, skipMessagingValidation)
	mxBadRequest(t, err, "Key")
	// A per-user key must name itself as the bearer.
	_, err = e.as(t, a).SearchChannels(t.Context(), &chimesdkmessaging.SearchChannelsInput{Fields: []mtypes.SearchField{inc(a)}})
	mxForbidden(t, err)
	out, err := e.as(t, a).SearchChannels(t.Context(), &chimesdkmessaging.SearchChannelsInput{ChimeBearer: aws.String(a), Fields: []mtypes.SearchField{eq(a, c)}})
	mustOK(t, err, "SearchChannels with a's own key")
	if got := mxSummaryARNs(out.Channels); !slices.Equal(got, []string{ac}) {
		t.Errorf("SearchChannels with a's key: %v", got)
	}
}

func TestMessagingChannelsModeratedByAppInstanceUser(t *testing.T) {
	t.Parallel()
	e := mxNew(t)
	alice, bob, carol := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "carol")
	admin := e.admin(t, "admin")
	var mine []string
	for _, n := range []string{"m1", "m2", "m3"} {
		mine = append(mine, e.channel(t, alice, n, mxModerators(bob)))
	}
	private := e.channel(t, carol, "carol's", mxPrivate, mxModerators(bob))
	notMine := e.channel(t, carol, "not alice's")

	list := func(bearer, user string, max int32) ([]string, error) {
		var all []mtypes.ChannelSummary
		var token *string
		for pages := 0; ; pages++ {
			in := &chimesdkmessaging.ListChannelsModeratedByAppInstanceUserInput{ChimeBearer: aws.String(bearer), NextToken: token}
			if user != "" {
				in.AppInstanceUserArn = aws.String(user)
			}
			if max > 0 {
				in.MaxResults = aws.Int32(max)
			}
			out, err := e.msg.ListChannelsModeratedByAppInstanceUser(t.Context(), in)
			if err != nil {
				return nil, err
			}
			for _, c := range out.Channels {
				all = append(all, *c.ChannelSummary)
			}
			if token = out.NextToken; token == nil || pages > 10 {
				break
			}
		}
		return mxSummaryARNs(all), nil
	}
	got, err := list(alice, "", 1)
	mustOK(t, err, "ListChannelsModeratedByAppInstanceUser")
	if want := sortedCopy(mine...); !slices.Equal(got, want) {
		t.Errorf("alice moderates %v, want %v", got, want)
	}
	got, err = list(bob, bob, 0)
	mustOK(t, err, "ListChannelsModeratedByAppInstanceUser for self")
	if want := sortedCopy(append(slices.Clone(mine), private)...); !slices.Equal(got, want) {
		t.Errorf("bob moderates %v, want %v", got, want)
	}
	got, err = list(admin, carol, 0)
	mustOK(t, err, "ListChannelsModeratedByAppInstanceUser by an admin")
	if want := sortedCopy(private, notMine); !slices.Equal(got, want) {
		t.Errorf("carol moderates %v, want %v", got, want)
	}
	_, err = list(alice, carol, 0)
	mxForbidden(t, err)

	describe := func(bearer, ch, user string) (*mtypes.ChannelSummary, error) {
		out, err := e.msg.DescribeChannelModeratedByAppInstanceUser(t.Context(), &chimesdkmessaging.DescribeChannelModeratedByAppInstanceUserInput{
			ChannelArn: aws.String(ch), AppInstanceUserArn: aws.String(user), ChimeBearer: aws.String(bearer),
		})
		if err != nil {
			return nil, err
		}
		return out.Channel.ChannelSummary, nil
	}
	s, err := describe(bob, private, bob)
	mustOK(t, err, "DescribeChannelModeratedByAppInstanceUser")
	if aws.ToString(s.ChannelArn) != private || aws.ToString(s.Name) != "carol's" || s.Privacy != mtypes.ChannelPrivacyPrivate || s.Mode != mtypes.ChannelModeUnrestricted {
		t.Errorf("summary %+v", s)
	}
	_, err = describe(admin, mine[0], alice)
	mustOK(t, err, "DescribeChannelModeratedByAppInstanceUser by an admin")
	_, err = describe(alice, notMine, alice)
	mxForbidden(t, err)
	_, err = describe(alice, mine[0], bob)
	mxForbidden(t, err)
	_, err = describe(alice, e.app+"/channel/missing", alice)
	mxForbidden(t, err)
}

func TestMessagingChannelMembershipsForAppInstanceUser(t *testing.T) {
	t.Parallel()
	e := mxNew(t)
	alice, bob, carol := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "carol")
	admin := e.admin(t, "admin")
	var bobs []string
	for _, n := range []string{"c1", "c2", "c3"} {
		bobs = append(bobs, e.channel(t, alice, n, mxMembers(bob)))
	}
	private := e.channel(t, alice, "private", mxMembers(bob), mxPrivate)
	bobs = append(bobs, private)
	notBobs := e.channel(t, alice, "alone", mxModerators(bob))

	list := func(bearer, user string, max int32) ([]mtypes.ChannelMembershipForAppInstanceUserSummary, error) {
		var all []mtypes.ChannelMembershipForAppInstanceUserSummary
		var token *string
		for pages := 0; ; pages++ {
			in := &chimesdkmessaging.ListChannelMembershipsForAppInstanceUserInput{ChimeBearer: aws.String(bearer), NextToken: token}
			if user != "" {
				in.AppInstanceUserArn = aws.String(user)
			}
			if max > 0 {
				in.MaxResults = aws.Int32(max)
			}
			out, err := e.msg.ListChannelMembershipsForAppInstanceUser(t.Context(), in)
			if err != nil {
				return nil, err
			}
			all = append(all, out.ChannelMemberships...)
			if token = out.NextToken; token == nil || pages > 10 {
				break
			}
		}
		return all, nil
	}
	arns := func(rows []mtypes.ChannelMembershipForAppInstanceUserSummary) []string {
		var out []string
		for _, r := range rows {
			out = append(out, aws.ToString(r.ChannelSummary.ChannelArn))
			if m := r.AppInstanceUserMembershipSummary; m == nil || m.Type != mtypes.ChannelMembershipTypeDefault || m.SubChannelId != nil {
				t.Errorf("membership summary %+v", m)
			}
		}
		return sortedCopy(out...)
	}
	rows, err := list(bob, "", 1)
	mustOK(t, err, "ListChannelMembershipsForAppInstanceUser")
	if got, want := arns(rows), sortedCopy(bobs...); !slices.Equal(got, want) {
		t.Errorf("bob's channels %v, want %v", got, want)
	}
	rows, err = list(admin, bob, 0)
	mustOK(t, err, "ListChannelMembershipsForAppInstanceUser by an admin")
	if got, want := arns(rows), sortedCopy(bobs...); !slices.Equal(got, want) {
		t.Errorf("bob's channels for the admin %v, want %v", got, want)
	}
	_, err = list(carol, bob, 0)
	mxForbidden(t, err)
	rows, err = list(carol, carol, 0)
	mustOK(t, err, "ListChannelMembershipsForAppInstanceUser, none")
	if len(rows) != 0 {
		t.Errorf("carol's channels %+v", rows)
	}

	describe := func(bearer, ch, user string) (*mtypes.ChannelMembershipForAppInstanceUserSummary, error) {
		out, err := e.msg.DescribeChannelMembershipForAppInstanceUser(t.Context(), &chimesdkmessaging.DescribeChannelMembershipForAppInstanceUserInput{
			ChannelArn: aws.String(ch), AppInstanceUserArn: aws.String(user), ChimeBearer: aws.String(bearer),
		})
		if err != nil {
			return nil, err
		}
		return out.ChannelMembership, nil
	}
	m, err := describe(bob, private, bob)
	mustOK(t, err, "DescribeChannelMembershipForAppInstanceUser")
	if s := m.ChannelSummary; aws.ToString(s.ChannelArn) != private || aws.ToString(s.Name) != "private" || s.Privacy != mtypes.ChannelPrivacyPrivate {
		t.Errorf("summary %+v", s)
	}
	if ms := m.AppInstanceUserMembershipSummary; ms == nil || ms.Type != mtypes.ChannelMembershipTypeDefault || ms.ReadMarkerTimestamp != nil {
		t.Errorf("membership %+v", ms)
	}
	_, err = describe(admin, private, bob)
	mustOK(t, err, "DescribeChannelMembershipForAppInstanceUser by an admin")
	_, err = describe(bob, notBobs, bob)
	mxForbidden(t, err)
	_, err = describe(carol, bobs[0], bob)
	mxForbidden(t, err)
	_, err = describe(bob, e.app+"/channel/missing", bob)
	mxForbidden(t, err)
}

func TestMessagingPutChannelExpirationSettings(t *testing.T) {
	t.Parallel()
	e := mxNew(t)
	alice, bob, carol := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "carol")
	admin := e.admin(t, "admin")
	ch := e.channel(t, alice, "Ephemeral", mxMembers(bob), mxModerators(carol))
	seq := len(e.events(t, ch))

	put := func(client *chimesdkmessaging.Client, bearer string, days int32) (*chimesdkmessaging.PutChannelExpirationSettingsOutput, error) {
		in := &chimesdkmessaging.PutChannelExpirationSettingsInput{ChannelArn: aws.String(ch)}
		if bearer != "" {
			in.ChimeBearer = aws.String(bearer)
		}
		if days > 0 {
			in.ExpirationSettings = &mtypes.ExpirationSettings{ExpirationDays: aws.Int32(days), ExpirationCriterion: mtypes.ExpirationCriterionCreatedTimestamp}
		}
		return client.PutChannelExpirationSettings(t.Context(), in, skipMessagingValidation)
	}
	expiration := func() *mtypes.ExpirationSettings { t.Helper(); return e.describe(t, alice, ch).ExpirationSettings }

	out, err := put(e.msg, alice, 7)
	mustOK(t, err, "PutChannelExpirationSettings")
	if aws.ToString(out.ChannelArn) != ch || out.ExpirationSettings == nil || aws.ToInt32(out.ExpirationSettings.ExpirationDays) != 7 ||
		out.ExpirationSettings.ExpirationCriterion != mtypes.ExpirationCriterionCreatedTimestamp {
		t.Errorf("response %+v", out)
	}
	if x := expiration(); x == nil || aws.ToInt32(x.ExpirationDays) != 7 {
		t.Errorf("stored %+v", x)
	}
	_, err = put(e.msg, carol, 8)
	mustOK(t, err, "PutChannelExpirationSettings by a moderator")
	_, err = put(e.msg, admin, 9)
	mustOK(t, err, "PutChannelExpirationSettings by an admin")
	// Root credentials need no bearer.
	_, err = put(e.msg, "", 10)
	mustOK(t, err, "PutChannelExpirationSettings without a bearer")
	if x := expiration(); x == nil || aws.ToInt32(x.ExpirationDays) != 10 {
		t.Errorf("stored %+v", x)
	}
	// No settings: cleared.
	out, err = put(e.msg, alice, 0)
	mustOK(t, err, "PutChannelExpirationSettings clearing")
	if out.ExpirationSettings != nil || expiration() != nil {
		t.Errorf("not cleared: %+v", out.ExpirationSettings)
	}

	_, err = put(e.msg, bob, 3)
	mxForbidden(t, err)
	_, err = put(e.msg, e.user(t, "dave"), 3)
	mxForbidden(t, err)
	_, err = put(e.as(t, alice), "", 3)
	mxForbidden(t, err)
	_, err = e.msg.PutChannelExpirationSettings(t.Context(), &chimesdkmessaging.PutChannelExpirationSettingsInput{ChannelArn: aws.String(e.app + "/channel/missing")})
	mxForbidden(t, err)
	_, err = e.msg.PutChannelExpirationSettings(t.Context(), &chimesdkmessaging.PutChannelExpirationSettingsInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(alice), ExpirationSettings: &mtypes.ExpirationSettings{ExpirationDays: aws.Int32(0), ExpirationCriterion: mtypes.ExpirationCriterionCreatedTimestamp},
	}, skipMessagingValidation)
	mxBadRequest(t, err, "ExpirationDays")
	if expiration() != nil {
		t.Error("refused requests changed the settings")
	}
	if evs := e.events(t, ch)[seq:]; len(evs) != 0 {
		t.Errorf("expiration settings announced %d events", len(evs))
	}
}

// TestMessagingBearerMustExist: a bearer that is not an existing user or
// bot is refused by every channel operation.
func TestMessagingBearerMustExist(t *testing.T) {
	t.Parallel()
	e := mxNew(t)
	alice := e.user(t, "alice")
	ch := e.channel(t, alice, "C")
	ghost := userARN(e.app, "ghost")
	bot := e.createBot(t, e.app, "Gone")
	_, err := e.id.DeleteAppInstanceBot(t.Context(), &chimesdkidentity.DeleteAppInstanceBotInput{AppInstanceBotArn: aws.String(bot)})
	mustOK(t, err, "DeleteAppInstanceBot")
	for _, b := range []string{ghost, bot, e.app, ch} {
		bearer := aws.String(b)
		calls := map[string]func() error{
			"ListChannelsModeratedByAppInstanceUser": func() error {
				_, err := e.msg.ListChannelsModeratedByAppInstanceUser(t.Context(), &chimesdkmessaging.ListChannelsModeratedByAppInstanceUserInput{ChimeBearer: bearer})
				return err
			},
			"ListChannelMembershipsForAppInstanceUser": func() error {
				_, err := e.msg.ListChannelMembershipsForAppInstanceUser(t.Context(), &chimesdkmessaging.ListChannelMembershipsForAppInstanceUserInput{ChimeBearer: bearer})
				return err
			},
			"ListChannelModerators": func() error {
				_, err := e.msg.ListChannelModerators(t.Context(), &chimesdkmessaging.ListChannelModeratorsInput{ChannelArn: aws.String(ch), ChimeBearer: bearer})
				return err
			},
			"ListChannelBans": func() error {
				_, err := e.msg.ListChannelBans(t.Context(), &chimesdkmessaging.ListChannelBansInput{ChannelArn: aws.String(ch), ChimeBearer: bearer})
				return err
			},
			"DeleteChannel": func() error {
				_, err := e.msg.DeleteChannel(t.Context(), &chimesdkmessaging.DeleteChannelInput{ChannelArn: aws.String(ch), ChimeBearer: bearer})
				return err
			},
		}
		for name, call := range calls {
			if wantError(t, call(), "ForbiddenException") == "" {
				t.Logf("%s as %s", name, b)
			}
		}
	}
}
