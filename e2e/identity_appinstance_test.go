package e2e

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity/types"
)

func TestAppInstanceLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	arn := e.createAppInstance(t, "Support desk", func(in *chimesdkidentity.CreateAppInstanceInput) {
		in.Metadata = aws.String(`{"tier":"gold"}`)
		in.Tags = []types.Tag{{Key: aws.String("team"), Value: aws.String("support")}}
	})
	bare := e.createAppInstance(t, "Bare")

	d, err := e.id.DescribeAppInstance(t.Context(), &chimesdkidentity.DescribeAppInstanceInput{AppInstanceArn: aws.String(arn)})
	mustOK(t, err, "DescribeAppInstance")
	ai := d.AppInstance
	if ai == nil {
		t.Fatal("DescribeAppInstance: no AppInstance")
	}
	if aws.ToString(ai.AppInstanceArn) != arn || aws.ToString(ai.Name) != "Support desk" || aws.ToString(ai.Metadata) != `{"tier":"gold"}` {
		t.Errorf("DescribeAppInstance = %q %q %q", aws.ToString(ai.AppInstanceArn), aws.ToString(ai.Name), aws.ToString(ai.Metadata))
	}
	e.wantRecent(t, "CreatedTimestamp", ai.CreatedTimestamp)
	e.wantRecent(t, "LastUpdatedTimestamp", ai.LastUpdatedTimestamp)
	created := aws.ToTime(ai.CreatedTimestamp)
	if !aws.ToTime(ai.LastUpdatedTimestamp).Equal(created) {
		t.Errorf("a new AppInstance's LastUpdatedTimestamp %v differs from its CreatedTimestamp %v", aws.ToTime(ai.LastUpdatedTimestamp), created)
	}

	d, err = e.id.DescribeAppInstance(t.Context(), &chimesdkidentity.DescribeAppInstanceInput{AppInstanceArn: aws.String(bare)})
	mustOK(t, err, "DescribeAppInstance bare")
	if d.AppInstance.Metadata != nil {
		t.Errorf("Metadata was never set but is %q", *d.AppInstance.Metadata)
	}
	if aws.ToString(d.AppInstance.Name) != "Bare" {
		t.Errorf("Name = %q", aws.ToString(d.AppInstance.Name))
	}

	l, err := e.id.ListAppInstances(t.Context(), &chimesdkidentity.ListAppInstancesInput{})
	mustOK(t, err, "ListAppInstances")
	if len(l.AppInstances) != 2 || l.NextToken != nil {
		t.Fatalf("ListAppInstances = %d items, NextToken %v; want 2, none", len(l.AppInstances), l.NextToken)
	}
	byARN := map[string]types.AppInstanceSummary{}
	for _, s := range l.AppInstances {
		byARN[aws.ToString(s.AppInstanceArn)] = s
	}
	if s := byARN[arn]; aws.ToString(s.Name) != "Support desk" || aws.ToString(s.Metadata) != `{"tier":"gold"}` {
		t.Errorf("ListAppInstances summary = %q %q", aws.ToString(s.Name), aws.ToString(s.Metadata))
	}
	if s, ok := byARN[bare]; !ok || aws.ToString(s.Name) != "Bare" || s.Metadata != nil {
		t.Errorf("ListAppInstances bare summary = %+v", s)
	}

	tags, err := e.id.ListTagsForResource(t.Context(), &chimesdkidentity.ListTagsForResourceInput{ResourceARN: aws.String(arn)})
	mustOK(t, err, "ListTagsForResource")
	wantTags(t, tags.Tags, map[string]string{"team": "support"})

	e.clock.Advance(time.Minute)
	u, err := e.id.UpdateAppInstance(t.Context(), &chimesdkidentity.UpdateAppInstanceInput{
		AppInstanceArn: aws.String(arn), Name: aws.String("Help desk"), Metadata: aws.String(""),
	})
	mustOK(t, err, "UpdateAppInstance")
	if aws.ToString(u.AppInstanceArn) != arn {
		t.Errorf("UpdateAppInstance ARN = %q", aws.ToString(u.AppInstanceArn))
	}
	d, err = e.id.DescribeAppInstance(t.Context(), &chimesdkidentity.DescribeAppInstanceInput{AppInstanceArn: aws.String(arn)})
	mustOK(t, err, "DescribeAppInstance after update")
	ai = d.AppInstance
	if aws.ToString(ai.Name) != "Help desk" || aws.ToString(ai.Metadata) != "" {
		t.Errorf("after update: Name %q Metadata %q", aws.ToString(ai.Name), aws.ToString(ai.Metadata))
	}
	if !aws.ToTime(ai.CreatedTimestamp).Equal(created) {
		t.Errorf("update changed CreatedTimestamp from %v to %v", created, aws.ToTime(ai.CreatedTimestamp))
	}
	if got := aws.ToTime(ai.LastUpdatedTimestamp).Sub(created); got < time.Minute {
		t.Errorf("LastUpdatedTimestamp advanced by %v on update, want at least a minute", got)
	}

	_, err = e.id.DeleteAppInstance(t.Context(), &chimesdkidentity.DeleteAppInstanceInput{AppInstanceArn: aws.String(arn)})
	mustOK(t, err, "DeleteAppInstance")
	_, err = e.id.DescribeAppInstance(t.Context(), &chimesdkidentity.DescribeAppInstanceInput{AppInstanceArn: aws.String(arn)})
	wantError(t, err, "ForbiddenException")
	_, err = e.id.DeleteAppInstance(t.Context(), &chimesdkidentity.DeleteAppInstanceInput{AppInstanceArn: aws.String(arn)})
	wantError(t, err, "ForbiddenException")
	l, err = e.id.ListAppInstances(t.Context(), &chimesdkidentity.ListAppInstancesInput{})
	mustOK(t, err, "ListAppInstances after delete")
	if len(l.AppInstances) != 1 || aws.ToString(l.AppInstances[0].AppInstanceArn) != bare {
		t.Errorf("ListAppInstances after delete = %+v, want only %s", l.AppInstances, bare)
	}
}

func TestAppInstanceRetentionSettings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	arn := e.createAppInstance(t, "Retention")

	g, err := e.id.GetAppInstanceRetentionSettings(t.Context(), &chimesdkidentity.GetAppInstanceRetentionSettingsInput{AppInstanceArn: aws.String(arn)})
	mustOK(t, err, "GetAppInstanceRetentionSettings before any")
	if g.AppInstanceRetentionSettings == nil || g.AppInstanceRetentionSettings.ChannelRetentionSettings != nil || g.InitiateDeletionTimestamp != nil {
		t.Errorf("settings before any were put: %+v, InitiateDeletionTimestamp %v", g.AppInstanceRetentionSettings, g.InitiateDeletionTimestamp)
	}

	put := func(days *int32) *chimesdkidentity.PutAppInstanceRetentionSettingsOutput {
		t.Helper()
		s := &types.AppInstanceRetentionSettings{}
		if days != nil {
			s.ChannelRetentionSettings = &types.ChannelRetentionSettings{RetentionDays: days}
		}
		out, err := e.id.PutAppInstanceRetentionSettings(t.Context(), &chimesdkidentity.PutAppInstanceRetentionSettingsInput{
			AppInstanceArn: aws.String(arn), AppInstanceRetentionSettings: s,
		})
		mustOK(t, err, "PutAppInstanceRetentionSettings %v", days)
		return out
	}
	days := func(s *types.AppInstanceRetentionSettings) int32 {
		if s == nil || s.ChannelRetentionSettings == nil {
			return 0
		}
		return aws.ToInt32(s.ChannelRetentionSettings.RetentionDays)
	}
	get := func() *chimesdkidentity.GetAppInstanceRetentionSettingsOutput {
		t.Helper()
		out, err := e.id.GetAppInstanceRetentionSettings(t.Context(), &chimesdkidentity.GetAppInstanceRetentionSettingsInput{AppInstanceArn: aws.String(arn)})
		mustOK(t, err, "GetAppInstanceRetentionSettings")
		return out
	}

	p := put(aws.Int32(30))
	if days(p.AppInstanceRetentionSettings) != 30 {
		t.Errorf("Put answered %d days, want 30", days(p.AppInstanceRetentionSettings))
	}
	e.wantRecent(t, "InitiateDeletionTimestamp", p.InitiateDeletionTimestamp)
	first := aws.ToTime(p.InitiateDeletionTimestamp)
	g = get()
	if days(g.AppInstanceRetentionSettings) != 30 || !aws.ToTime(g.InitiateDeletionTimestamp).Equal(first) {
		t.Errorf("Get = %d days since %v, want 30 since %v", days(g.AppInstanceRetentionSettings), aws.ToTime(g.InitiateDeletionTimestamp), first)
	}

	e.clock.Advance(time.Minute)
	p = put(aws.Int32(5475))
	if days(p.AppInstanceRetentionSettings) != 5475 {
		t.Errorf("Put answered %d days, want 5475", days(p.AppInstanceRetentionSettings))
	}
	if d := aws.ToTime(p.InitiateDeletionTimestamp).Sub(first); d < time.Minute {
		t.Errorf("InitiateDeletionTimestamp advanced by %v on the second put, want at least a minute", d)
	}
	g = get()
	if days(g.AppInstanceRetentionSettings) != 5475 || !aws.ToTime(g.InitiateDeletionTimestamp).Equal(aws.ToTime(p.InitiateDeletionTimestamp)) {
		t.Errorf("Get = %d days since %v, want 5475 since %v", days(g.AppInstanceRetentionSettings), aws.ToTime(g.InitiateDeletionTimestamp), aws.ToTime(p.InitiateDeletionTimestamp))
	}

	// Settings without ChannelRetentionSettings turn retention off.
	p = put(nil)
	if p.AppInstanceRetentionSettings == nil || p.AppInstanceRetentionSettings.ChannelRetentionSettings != nil {
		t.Errorf("clearing answered %+v", p.AppInstanceRetentionSettings)
	}
	g = get()
	if g.AppInstanceRetentionSettings == nil || g.AppInstanceRetentionSettings.ChannelRetentionSettings != nil || g.InitiateDeletionTimestamp != nil {
		t.Errorf("after clearing, Get = %+v since %v", g.AppInstanceRetentionSettings, g.InitiateDeletionTimestamp)
	}
}

func TestListAppInstancesPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	want := map[string]bool{}
	for i := range 7 {
		want[e.createAppInstance(t, "AppInstance "+string(rune('A'+i)))] = true
	}

	// Page by hand: 3 + 3 + 1, the last page without a NextToken.
	seen := map[string]int{}
	var token *string
	var sizes []int
	for {
		out, err := e.id.ListAppInstances(t.Context(), &chimesdkidentity.ListAppInstancesInput{MaxResults: aws.Int32(3), NextToken: token})
		mustOK(t, err, "ListAppInstances page %d", len(sizes)+1)
		sizes = append(sizes, len(out.AppInstances))
		for _, s := range out.AppInstances {
			seen[aws.ToString(s.AppInstanceArn)]++
		}
		if out.NextToken == nil {
			break
		}
		if *out.NextToken == "" || len(sizes) > 10 {
			t.Fatalf("NextToken %q after %d pages", *out.NextToken, len(sizes))
		}
		token = out.NextToken
	}
	if len(sizes) != 3 || sizes[0] != 3 || sizes[1] != 3 || sizes[2] != 1 {
		t.Errorf("page sizes %v, want [3 3 1]", sizes)
	}
	wantEachOnce(t, "ListAppInstances", seen, want)

	// The SDK paginator sees the same items.
	seen = map[string]int{}
	pages := 0
	p := chimesdkidentity.NewListAppInstancesPaginator(e.id, &chimesdkidentity.ListAppInstancesInput{MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		mustOK(t, err, "ListAppInstances paginator")
		pages++
		for _, s := range out.AppInstances {
			seen[aws.ToString(s.AppInstanceArn)]++
		}
	}
	if pages != 4 {
		t.Errorf("paginator took %d pages of 2 for 7 items, want 4", pages)
	}
	wantEachOnce(t, "ListAppInstances paginator", seen, want)

	// An exact fit: one page, no NextToken.
	out, err := e.id.ListAppInstances(t.Context(), &chimesdkidentity.ListAppInstancesInput{MaxResults: aws.Int32(7)})
	mustOK(t, err, "ListAppInstances exact")
	if len(out.AppInstances) != 7 || out.NextToken != nil {
		t.Errorf("MaxResults 7 of 7: %d items, NextToken %v", len(out.AppInstances), out.NextToken)
	}
}

func TestCreateIdempotency(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	create := func(token string) string {
		t.Helper()
		return e.createAppInstance(t, "Idem", func(in *chimesdkidentity.CreateAppInstanceInput) { in.ClientRequestToken = aws.String(token) })
	}
	a1, a2 := create("token-1"), create("token-1")
	if a1 != a2 {
		t.Errorf("CreateAppInstance with one token twice: %s then %s", a1, a2)
	}
	if b := create("token-2"); b == a1 {
		t.Errorf("another token gave the same AppInstance %s", b)
	}
	l, err := e.id.ListAppInstances(t.Context(), &chimesdkidentity.ListAppInstancesInput{})
	mustOK(t, err, "ListAppInstances")
	if len(l.AppInstances) != 2 {
		t.Errorf("%d AppInstances after 3 creates with 2 tokens, want 2", len(l.AppInstances))
	}

	// Users: a repeat with the same token answers the same ARN instead
	// of a ConflictException; another token conflicts.
	createUser := func(token string) (string, error) {
		out, err := e.id.CreateAppInstanceUser(t.Context(), &chimesdkidentity.CreateAppInstanceUserInput{
			AppInstanceArn: aws.String(a1), AppInstanceUserId: aws.String("idem-user"), Name: aws.String("Idem"),
			ClientRequestToken: aws.String(token),
		})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.AppInstanceUserArn), nil
	}
	u1, err := createUser("user-token")
	mustOK(t, err, "CreateAppInstanceUser")
	u2, err := createUser("user-token")
	mustOK(t, err, "CreateAppInstanceUser again with its token")
	if u1 != u2 || u1 != userARN(a1, "idem-user") {
		t.Errorf("CreateAppInstanceUser with one token twice: %s then %s", u1, u2)
	}
	_, err = createUser("other-user-token")
	wantError(t, err, "ConflictException")

	// Bots have generated ids: one token, one bot.
	createBot := func(token string) string {
		out, err := e.id.CreateAppInstanceBot(t.Context(), &chimesdkidentity.CreateAppInstanceBotInput{
			AppInstanceArn: aws.String(a1), Name: aws.String("Idem bot"), Configuration: lexConfig(lexAlias),
			ClientRequestToken: aws.String(token),
		})
		mustOK(t, err, "CreateAppInstanceBot %s", token)
		return aws.ToString(out.AppInstanceBotArn)
	}
	b1, b2 := createBot("bot-token"), createBot("bot-token")
	if b1 != b2 {
		t.Errorf("CreateAppInstanceBot with one token twice: %s then %s", b1, b2)
	}
	if b3 := createBot("bot-token-2"); b3 == b1 {
		t.Errorf("another token gave the same bot %s", b3)
	}
	bots, err := e.id.ListAppInstanceBots(t.Context(), &chimesdkidentity.ListAppInstanceBotsInput{AppInstanceArn: aws.String(a1)})
	mustOK(t, err, "ListAppInstanceBots")
	if len(bots.AppInstanceBots) != 2 {
		t.Errorf("%d bots after 3 creates with 2 tokens, want 2", len(bots.AppInstanceBots))
	}

	// Endpoints: the same token and request answer the first endpoint; the
	// same token for another device is a different request, refused as
	// AWS refuses a reused token.
	register := func(token, device string) (string, error) {
		out, err := e.id.RegisterAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.RegisterAppInstanceUserEndpointInput{
			AppInstanceUserArn: aws.String(u1), Type: types.AppInstanceUserEndpointTypeGcm,
			ResourceArn: aws.String(snsPlatformAp), EndpointAttributes: &types.EndpointAttributes{DeviceToken: aws.String(device)},
			ClientRequestToken: aws.String(token),
		})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.EndpointId), nil
	}
	e1, err := register("ep-token", "device-1")
	mustOK(t, err, "RegisterAppInstanceUserEndpoint")
	e2, err := register("ep-token", "device-1")
	mustOK(t, err, "RegisterAppInstanceUserEndpoint again")
	if e1 != e2 {
		t.Errorf("RegisterAppInstanceUserEndpoint with one token twice: %s then %s", e1, e2)
	}
	_, err = register("ep-token", "device-2")
	wantError(t, err, "ConflictException")
	eps, err := e.id.ListAppInstanceUserEndpoints(t.Context(), &chimesdkidentity.ListAppInstanceUserEndpointsInput{AppInstanceUserArn: aws.String(u1)})
	mustOK(t, err, "ListAppInstanceUserEndpoints")
	if len(eps.AppInstanceUserEndpoints) != 1 {
		t.Errorf("%d endpoints after 2 registrations with one token, want 1", len(eps.AppInstanceUserEndpoints))
	}
}

func TestDeleteAppInstanceCascade(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tag := []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}
	arn := e.createAppInstance(t, "Doomed", func(in *chimesdkidentity.CreateAppInstanceInput) { in.Tags = tag })
	keep := e.createAppInstance(t, "Kept")
	user := e.createUser(t, arn, "doomed-user", "Doomed user")
	bot := e.createBot(t, arn, "Doomed bot")
	keptUser := e.createUser(t, keep, "kept-user", "Kept user")
	for _, r := range []string{user, bot, keptUser} {
		_, err := e.id.TagResource(t.Context(), &chimesdkidentity.TagResourceInput{ResourceARN: aws.String(r), Tags: tag})
		mustOK(t, err, "TagResource %s", r)
	}
	_, err := e.id.CreateAppInstanceAdmin(t.Context(), &chimesdkidentity.CreateAppInstanceAdminInput{AppInstanceArn: aws.String(arn), AppInstanceAdminArn: aws.String(user)})
	mustOK(t, err, "CreateAppInstanceAdmin")
	endpoint := e.registerEndpoint(t, user, "doomed-device")

	_, err = e.id.DeleteAppInstance(t.Context(), &chimesdkidentity.DeleteAppInstanceInput{AppInstanceArn: aws.String(arn)})
	mustOK(t, err, "DeleteAppInstance")

	_, err = e.id.DescribeAppInstance(t.Context(), &chimesdkidentity.DescribeAppInstanceInput{AppInstanceArn: aws.String(arn)})
	wantError(t, err, "ForbiddenException")
	_, err = e.id.DescribeAppInstanceUser(t.Context(), &chimesdkidentity.DescribeAppInstanceUserInput{AppInstanceUserArn: aws.String(user)})
	wantError(t, err, "ForbiddenException")
	_, err = e.id.DescribeAppInstanceBot(t.Context(), &chimesdkidentity.DescribeAppInstanceBotInput{AppInstanceBotArn: aws.String(bot)})
	wantError(t, err, "NotFoundException")
	_, err = e.id.DescribeAppInstanceAdmin(t.Context(), &chimesdkidentity.DescribeAppInstanceAdminInput{AppInstanceArn: aws.String(arn), AppInstanceAdminArn: aws.String(user)})
	wantError(t, err, "ForbiddenException")
	_, err = e.id.DescribeAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.DescribeAppInstanceUserEndpointInput{AppInstanceUserArn: aws.String(user), EndpointId: aws.String(endpoint)})
	wantError(t, err, "ForbiddenException")
	_, err = e.id.ListAppInstanceUsers(t.Context(), &chimesdkidentity.ListAppInstanceUsersInput{AppInstanceArn: aws.String(arn)})
	wantError(t, err, "ForbiddenException")
	_, err = e.id.ListAppInstanceBots(t.Context(), &chimesdkidentity.ListAppInstanceBotsInput{AppInstanceArn: aws.String(arn)})
	wantError(t, err, "ForbiddenException")
	_, err = e.id.ListAppInstanceAdmins(t.Context(), &chimesdkidentity.ListAppInstanceAdminsInput{AppInstanceArn: aws.String(arn)})
	wantError(t, err, "ForbiddenException")
	_, err = e.id.ListAppInstanceUserEndpoints(t.Context(), &chimesdkidentity.ListAppInstanceUserEndpointsInput{AppInstanceUserArn: aws.String(user)})
	wantError(t, err, "ForbiddenException")
	_, err = e.id.GetAppInstanceRetentionSettings(t.Context(), &chimesdkidentity.GetAppInstanceRetentionSettingsInput{AppInstanceArn: aws.String(arn)})
	wantError(t, err, "ForbiddenException")
	for _, r := range []string{arn, user, bot} {
		_, err = e.id.ListTagsForResource(t.Context(), &chimesdkidentity.ListTagsForResourceInput{ResourceARN: aws.String(r)})
		wantError(t, err, "ForbiddenException")
	}

	// A new AppInstance user with the deleted user's id in another
	// AppInstance is unaffected, and so is the other AppInstance.
	d, err := e.id.DescribeAppInstanceUser(t.Context(), &chimesdkidentity.DescribeAppInstanceUserInput{AppInstanceUserArn: aws.String(keptUser)})
	mustOK(t, err, "DescribeAppInstanceUser of the other AppInstance")
	if aws.ToString(d.AppInstanceUser.Name) != "Kept user" {
		t.Errorf("kept user = %+v", d.AppInstanceUser)
	}
	tags, err := e.id.ListTagsForResource(t.Context(), &chimesdkidentity.ListTagsForResourceInput{ResourceARN: aws.String(keptUser)})
	mustOK(t, err, "ListTagsForResource of the other AppInstance's user")
	wantTags(t, tags.Tags, map[string]string{"k": "v"})
	l, err := e.id.ListAppInstances(t.Context(), &chimesdkidentity.ListAppInstancesInput{})
	mustOK(t, err, "ListAppInstances")
	if len(l.AppInstances) != 1 || aws.ToString(l.AppInstances[0].AppInstanceArn) != keep {
		t.Errorf("ListAppInstances after delete = %+v, want only %s", l.AppInstances, keep)
	}
}

// wantEachOnce checks that a listing saw every wanted item exactly once
// and nothing else.
func wantEachOnce(t testing.TB, what string, seen map[string]int, want map[string]bool) {
	t.Helper()
	for k, n := range seen {
		if !want[k] {
			t.Errorf("%s: unexpected item %s", what, k)
		} else if n != 1 {
			t.Errorf("%s: %s seen %d times", what, k, n)
		}
	}
	for k := range want {
		if seen[k] == 0 {
			t.Errorf("%s: %s missing", what, k)
		}
	}
}

// wantTags compares a tag list with a map, and requires the list to be
// present (an empty JSON array, not an absent member) when it is empty.
func wantTags(t testing.TB, got []types.Tag, want map[string]string) {
	t.Helper()
	if got == nil {
		t.Errorf("Tags absent, want %v", want)
		return
	}
	m := map[string]string{}
	for _, tg := range got {
		k := aws.ToString(tg.Key)
		if _, dup := m[k]; dup {
			t.Errorf("tag %q listed twice", k)
		}
		m[k] = aws.ToString(tg.Value)
	}
	if len(m) != len(want) {
		t.Errorf("tags = %v, want %v", m, want)
		return
	}
	for k, v := range want {
		if got, ok := m[k]; !ok || got != v {
			t.Errorf("tags = %v, want %v", m, want)
			return
		}
	}
}
