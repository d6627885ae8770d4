package e2e

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	mtypes "github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"

	"github.com/carillonhq/carillon/messaging"
)

func TestMessagingChannelModerators(t *testing.T) {
	t.Parallel()
	e := mxNew(t)
	alice, bob, carol, dave := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "carol"), e.user(t, "dave")
	erin, frank := e.user(t, "erin"), e.user(t, "frank")
	admin := e.admin(t, "admin")
	bot := e.createBot(t, e.app, "Mod bot")
	stranger := e.createUser(t, e.createAppInstance(t, "Other"), "stranger", "Stranger")
	// alice: creator; bob, dave, erin: members; carol: moderator only.
	ch := e.channel(t, alice, "Moderated", mxMembers(bob, dave, erin), mxModerators(carol), mxPrivate)
	seq := len(e.events(t, ch))

	create := func(bearer, target string) (*chimesdkmessaging.CreateChannelModeratorOutput, error) {
		return e.msg.CreateChannelModerator(t.Context(), &chimesdkmessaging.CreateChannelModeratorInput{
			ChannelArn: aws.String(ch), ChannelModeratorArn: aws.String(target), ChimeBearer: aws.String(bearer),
		})
	}
	out, err := create(alice, bob)
	mustOK(t, err, "CreateChannelModerator")
	if aws.ToString(out.ChannelArn) != ch || out.ChannelModerator == nil ||
		aws.ToString(out.ChannelModerator.Arn) != bob || aws.ToString(out.ChannelModerator.Name) != "Name bob" {
		t.Errorf("CreateChannelModerator answered %+v", out)
	}
	d, err := e.msg.DescribeChannelModerator(t.Context(), &chimesdkmessaging.DescribeChannelModeratorInput{
		ChannelArn: aws.String(ch), ChannelModeratorArn: aws.String(bob), ChimeBearer: aws.String(carol),
	})
	mustOK(t, err, "DescribeChannelModerator")
	m := d.ChannelModerator
	if aws.ToString(m.ChannelArn) != ch || aws.ToString(m.Moderator.Arn) != bob || aws.ToString(m.Moderator.Name) != "Name bob" ||
		aws.ToString(m.CreatedBy.Arn) != alice || aws.ToString(m.CreatedBy.Name) != "Name alice" {
		t.Errorf("ChannelModerator %+v", m)
	}
	e.wantRecent(t, "CreatedTimestamp", m.CreatedTimestamp)

	_, err = create(alice, bob)
	wantError(t, err, "ConflictException")
	// A moderator who is not a member may not create moderators; an
	// admin needs no membership.
	_, err = create(carol, dave)
	mxForbidden(t, err)
	_, err = create(admin, dave)
	mustOK(t, err, "CreateChannelModerator by an admin")
	_, err = create(bob, bot)
	mustOK(t, err, "CreateChannelModerator of a bot by a new moderator")
	// Members and non-members may not.
	_, err = create(erin, frank)
	mxForbidden(t, err)
	_, err = create(frank, frank)
	mxForbidden(t, err)
	// The target must be a user or bot of the AppInstance.
	_, err = create(alice, stranger)
	mxBadRequest(t, err, stranger)
	_, err = create(alice, userARN(e.app, "ghost"))
	mxBadRequest(t, err, "ghost")
	_, err = create(alice, ch)
	mxBadRequest(t, err, "")
	// A banned user cannot be made a moderator.
	_, err = e.msg.CreateChannelBan(t.Context(), &chimesdkmessaging.CreateChannelBanInput{ChannelArn: aws.String(ch), MemberArn: aws.String(frank), ChimeBearer: aws.String(alice)})
	mustOK(t, err, "CreateChannelBan")
	_, err = create(alice, frank)
	mxForbidden(t, err)
	_, err = e.msg.CreateChannelModerator(t.Context(), &chimesdkmessaging.CreateChannelModeratorInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(alice),
	}, skipMessagingValidation)
	mxBadRequest(t, err, "ChannelModeratorArn")

	list := func(bearer string, max int32) ([]string, error) {
		var all []string
		var token *string
		for pages := 0; ; pages++ {
			in := &chimesdkmessaging.ListChannelModeratorsInput{ChannelArn: aws.String(ch), ChimeBearer: aws.String(bearer), NextToken: token}
			if max > 0 {
				in.MaxResults = aws.Int32(max)
			}
			out, err := e.msg.ListChannelModerators(t.Context(), in)
			if err != nil {
				return nil, err
			}
			if aws.ToString(out.ChannelArn) != ch {
				t.Errorf("ListChannelModerators ChannelArn %q", aws.ToString(out.ChannelArn))
			}
			for _, s := range out.ChannelModerators {
				if s.Moderator == nil || aws.ToString(s.Moderator.Name) == "" {
					t.Errorf("summary %+v", s.Moderator)
				}
				all = append(all, aws.ToString(s.Moderator.Arn))
			}
			if token = out.NextToken; token == nil || pages > 10 {
				break
			}
		}
		return sortedCopy(all...), nil
	}
	want := sortedCopy(alice, bob, carol, dave, bot)
	for _, who := range []string{alice, carol, admin} {
		got, err := list(who, 2)
		mustOK(t, err, "ListChannelModerators as %s", who)
		if !slices.Equal(got, want) {
			t.Errorf("ListChannelModerators as %s: %v, want %v", who, got, want)
		}
	}
	_, err = list(erin, 0)
	mxForbidden(t, err)
	_, err = list(frank, 0)
	mxForbidden(t, err)

	describe := func(bearer, target string) error {
		_, err := e.msg.DescribeChannelModerator(t.Context(), &chimesdkmessaging.DescribeChannelModeratorInput{
			ChannelArn: aws.String(ch), ChannelModeratorArn: aws.String(target), ChimeBearer: aws.String(bearer),
		})
		return err
	}
	wantError(t, describe(alice, erin), "NotFoundException")
	mxForbidden(t, describe(erin, alice))
	mxForbidden(t, describe(frank, alice))

	del := func(bearer, target string) error {
		_, err := e.msg.DeleteChannelModerator(t.Context(), &chimesdkmessaging.DeleteChannelModeratorInput{
			ChannelArn: aws.String(ch), ChannelModeratorArn: aws.String(target), ChimeBearer: aws.String(bearer),
		})
		return err
	}
	mxForbidden(t, del(erin, bob))
	mxForbidden(t, del(frank, bob))
	mustOK(t, del(carol, bob), "DeleteChannelModerator")
	wantError(t, describe(alice, bob), "NotFoundException")
	mxForbidden(t, del(alice, bob))
	// The former moderator keeps its membership and loses its rights.
	if !e.isMember(t, ch, bob) {
		t.Error("bob lost his membership with his moderator role")
	}
	_, err = e.msg.UpdateChannel(t.Context(), &chimesdkmessaging.UpdateChannelInput{ChannelArn: aws.String(ch), ChimeBearer: aws.String(bob), Name: aws.String("x")})
	mxForbidden(t, err)
	mxForbidden(t, describe(bob, alice))
	mustOK(t, del(admin, alice), "DeleteChannelModerator by an admin")

	// Moderators change no one's websocket view; only the ban of frank
	// (not a member) happened, which announces nothing either.
	if evs := e.events(t, ch)[seq:]; len(evs) != 0 {
		t.Errorf("moderator operations announced %+v", evs)
	}
}

func TestMessagingChannelBans(t *testing.T) {
	t.Parallel()
	e := mxNew(t)
	alice, bob, carol, dave := e.user(t, "alice"), e.user(t, "bob"), e.user(t, "carol"), e.user(t, "dave")
	erin := e.user(t, "erin")
	admin := e.admin(t, "admin")
	stranger := e.createUser(t, e.createAppInstance(t, "Other"), "stranger", "Stranger")
	// alice: creator; bob, carol: members; dave: moderator only.
	ch := e.channel(t, alice, "Strict", mxMembers(bob, carol), mxModerators(dave))
	seq := len(e.events(t, ch))

	ban := func(bearer, target string) (*chimesdkmessaging.CreateChannelBanOutput, error) {
		return e.msg.CreateChannelBan(t.Context(), &chimesdkmessaging.CreateChannelBanInput{
			ChannelArn: aws.String(ch), MemberArn: aws.String(target), ChimeBearer: aws.String(bearer),
		})
	}
	out, err := ban(alice, bob)
	mustOK(t, err, "CreateChannelBan of a member")
	if aws.ToString(out.ChannelArn) != ch || out.Member == nil || aws.ToString(out.Member.Arn) != bob || aws.ToString(out.Member.Name) != "Name bob" {
		t.Errorf("CreateChannelBan answered %+v", out)
	}
	if e.isMember(t, ch, bob) {
		t.Error("the banned member is still a member")
	}
	if !e.isMember(t, ch, carol) {
		t.Error("another member lost her membership")
	}
	// The removal is announced to the members and to the banned user.
	evs := e.events(t, ch)[seq:]
	if len(evs) != 1 || evs[0].Type != messaging.EventDeleteChannelMembership {
		t.Fatalf("events after the ban: %+v", evs)
	}
	ev := evs[0]
	if !ev.ToMembers || !slices.Equal(ev.Recipients, []string{bob}) || ev.Member != bob || ev.MemberChange != -1 || ev.MessageType != "SYSTEM" || ev.Reason != "" {
		t.Errorf("DELETE_CHANNEL_MEMBERSHIP event %+v", ev)
	}
	p := eventPayload(t, ev, "CreatedTimestamp", "LastUpdatedTimestamp")
	if arn, name := mxIdentity(p, "Member"); arn != bob || name != "Name bob" {
		t.Errorf("payload Member %q %q", arn, name)
	}
	if arn, name := mxIdentity(p, "InvitedBy"); arn != alice || name != "Name alice" {
		t.Errorf("payload InvitedBy %q %q", arn, name)
	}
	if p["ChannelArn"] != ch || p["Type"] != "DEFAULT" {
		t.Errorf("payload %s", ev.Payload)
	}

	// A non-member is banned silently, by an admin that is no member.
	_, err = ban(admin, erin)
	mustOK(t, err, "CreateChannelBan of a non-member by an admin")
	_, err = ban(dave, e.createBot(t, e.app, "Spam bot"))
	mustOK(t, err, "CreateChannelBan of a bot by a moderator")

	_, err = ban(alice, bob)
	wantError(t, err, "ConflictException")
	// AppInstanceAdmins and moderators cannot be banned.
	_, err = ban(alice, admin)
	mxForbidden(t, err)
	_, err = ban(alice, dave)
	mxForbidden(t, err)
	_, err = ban(admin, alice)
	mxForbidden(t, err)
	// Members and non-members may not ban.
	_, err = ban(carol, erin)
	mxForbidden(t, err)
	_, err = ban(e.user(t, "frank"), carol)
	mxForbidden(t, err)
	_, err = ban(alice, stranger)
	mxBadRequest(t, err, stranger)
	_, err = ban(alice, userARN(e.app, "ghost"))
	mxBadRequest(t, err, "ghost")
	_, err = e.msg.CreateChannelBan(t.Context(), &chimesdkmessaging.CreateChannelBanInput{ChannelArn: aws.String(ch), ChimeBearer: aws.String(alice)}, skipMessagingValidation)
	mxBadRequest(t, err, "MemberArn")
	_, err = e.msg.CreateChannelBan(t.Context(), &chimesdkmessaging.CreateChannelBanInput{
		ChannelArn: aws.String(e.app + "/channel/missing"), MemberArn: aws.String(carol), ChimeBearer: aws.String(alice),
	})
	mxForbidden(t, err)

	describe := func(bearer, target string) (*mtypes.ChannelBan, error) {
		out, err := e.msg.DescribeChannelBan(t.Context(), &chimesdkmessaging.DescribeChannelBanInput{
			ChannelArn: aws.String(ch), MemberArn: aws.String(target), ChimeBearer: aws.String(bearer),
		})
		if err != nil {
			return nil, err
		}
		return out.ChannelBan, nil
	}
	b, err := describe(dave, bob)
	mustOK(t, err, "DescribeChannelBan")
	if aws.ToString(b.ChannelArn) != ch || aws.ToString(b.Member.Arn) != bob || aws.ToString(b.Member.Name) != "Name bob" ||
		aws.ToString(b.CreatedBy.Arn) != alice || aws.ToString(b.CreatedBy.Name) != "Name alice" {
		t.Errorf("ChannelBan %+v", b)
	}
	e.wantRecent(t, "CreatedTimestamp", b.CreatedTimestamp)
	_, err = describe(alice, carol)
	wantError(t, err, "NotFoundException")
	_, err = describe(carol, bob)
	mxForbidden(t, err)

	list := func(bearer string, max int32) ([]string, error) {
		var all []string
		var token *string
		for pages := 0; ; pages++ {
			in := &chimesdkmessaging.ListChannelBansInput{ChannelArn: aws.String(ch), ChimeBearer: aws.String(bearer), NextToken: token}
			if max > 0 {
				in.MaxResults = aws.Int32(max)
			}
			out, err := e.msg.ListChannelBans(t.Context(), in)
			if err != nil {
				return nil, err
			}
			if aws.ToString(out.ChannelArn) != ch {
				t.Errorf("ListChannelBans ChannelArn %q", aws.ToString(out.ChannelArn))
			}
			for _, s := range out.ChannelBans {
				all = append(all, aws.ToString(s.Member.Arn))
			}
			if token = out.NextToken; token == nil || pages > 10 {
				break
			}
		}
		return sortedCopy(all...), nil
	}
	got, err := list(alice, 1)
	mustOK(t, err, "ListChannelBans")
	if len(got) != 3 || !slices.Contains(got, bob) || !slices.Contains(got, erin) {
		t.Errorf("bans %v", got)
	}
	_, err = list(carol, 0)
	mxForbidden(t, err)

	unban := func(bearer, target string) error {
		_, err := e.msg.DeleteChannelBan(t.Context(), &chimesdkmessaging.DeleteChannelBanInput{
			ChannelArn: aws.String(ch), MemberArn: aws.String(target), ChimeBearer: aws.String(bearer),
		})
		return err
	}
	mxForbidden(t, unban(carol, bob))
	mustOK(t, unban(dave, bob), "DeleteChannelBan")
	_, err = describe(alice, bob)
	wantError(t, err, "NotFoundException")
	mxForbidden(t, unban(alice, bob))
	// Lifting the ban does not restore the membership.
	if e.isMember(t, ch, bob) {
		t.Error("bob is a member again after the ban was lifted")
	}
	// Only the one membership removal was announced.
	if evs := e.events(t, ch)[seq:]; len(evs) != 1 {
		t.Errorf("%d events, want only the removal of bob", len(evs))
	}
}
