package e2e

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity/types"
)

func TestAppInstanceUserLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ai := e.createAppInstance(t, "Users")

	// An id with every punctuation character the model allows travels
	// percent-encoded in paths.
	const id = "alice.smith@example.com:desk-1_a"
	out, err := e.id.CreateAppInstanceUser(t.Context(), &chimesdkidentity.CreateAppInstanceUserInput{
		AppInstanceArn:    aws.String(ai),
		AppInstanceUserId: aws.String(id),
		Name:              aws.String("Alice Smith"),
		Metadata:          aws.String(`{"desk":1}`),
		Tags:              []types.Tag{{Key: aws.String("role"), Value: aws.String("agent")}},
		ExpirationSettings: &types.ExpirationSettings{
			ExpirationDays: aws.Int32(7), ExpirationCriterion: types.ExpirationCriterionCreatedTimestamp,
		},
	})
	mustOK(t, err, "CreateAppInstanceUser")
	alice := aws.ToString(out.AppInstanceUserArn)
	if alice != ai+"/user/"+id {
		t.Fatalf("user ARN %q, want %q", alice, ai+"/user/"+id)
	}
	bob := e.createUser(t, ai, "bob", "Bob")

	d, err := e.id.DescribeAppInstanceUser(t.Context(), &chimesdkidentity.DescribeAppInstanceUserInput{AppInstanceUserArn: aws.String(alice)})
	mustOK(t, err, "DescribeAppInstanceUser")
	u := d.AppInstanceUser
	if aws.ToString(u.AppInstanceUserArn) != alice || aws.ToString(u.Name) != "Alice Smith" || aws.ToString(u.Metadata) != `{"desk":1}` {
		t.Errorf("DescribeAppInstanceUser = %q %q %q", aws.ToString(u.AppInstanceUserArn), aws.ToString(u.Name), aws.ToString(u.Metadata))
	}
	wantExpiration(t, "created with", u.ExpirationSettings, 7)
	e.wantRecent(t, "CreatedTimestamp", u.CreatedTimestamp)
	e.wantRecent(t, "LastUpdatedTimestamp", u.LastUpdatedTimestamp)
	created := aws.ToTime(u.CreatedTimestamp)

	d, err = e.id.DescribeAppInstanceUser(t.Context(), &chimesdkidentity.DescribeAppInstanceUserInput{AppInstanceUserArn: aws.String(bob)})
	mustOK(t, err, "DescribeAppInstanceUser bob")
	if d.AppInstanceUser.Metadata != nil || d.AppInstanceUser.ExpirationSettings != nil {
		t.Errorf("bob was created without Metadata or ExpirationSettings but has %v, %+v", d.AppInstanceUser.Metadata, d.AppInstanceUser.ExpirationSettings)
	}

	tags, err := e.id.ListTagsForResource(t.Context(), &chimesdkidentity.ListTagsForResourceInput{ResourceARN: aws.String(alice)})
	mustOK(t, err, "ListTagsForResource")
	wantTags(t, tags.Tags, map[string]string{"role": "agent"})

	l, err := e.id.ListAppInstanceUsers(t.Context(), &chimesdkidentity.ListAppInstanceUsersInput{AppInstanceArn: aws.String(ai)})
	mustOK(t, err, "ListAppInstanceUsers")
	if aws.ToString(l.AppInstanceArn) != ai || l.NextToken != nil || len(l.AppInstanceUsers) != 2 {
		t.Fatalf("ListAppInstanceUsers: AppInstanceArn %q, NextToken %v, %d users", aws.ToString(l.AppInstanceArn), l.NextToken, len(l.AppInstanceUsers))
	}
	for _, s := range l.AppInstanceUsers {
		switch aws.ToString(s.AppInstanceUserArn) {
		case alice:
			if aws.ToString(s.Name) != "Alice Smith" || aws.ToString(s.Metadata) != `{"desk":1}` {
				t.Errorf("alice's summary = %q %q", aws.ToString(s.Name), aws.ToString(s.Metadata))
			}
		case bob:
			if aws.ToString(s.Name) != "Bob" || s.Metadata != nil {
				t.Errorf("bob's summary = %q %v", aws.ToString(s.Name), s.Metadata)
			}
		default:
			t.Errorf("unexpected user %q", aws.ToString(s.AppInstanceUserArn))
		}
	}

	e.clock.Advance(time.Minute)
	up, err := e.id.UpdateAppInstanceUser(t.Context(), &chimesdkidentity.UpdateAppInstanceUserInput{
		AppInstanceUserArn: aws.String(alice), Name: aws.String("Alice Jones"), Metadata: aws.String(`{"desk":2}`),
	})
	mustOK(t, err, "UpdateAppInstanceUser")
	if aws.ToString(up.AppInstanceUserArn) != alice {
		t.Errorf("UpdateAppInstanceUser ARN = %q", aws.ToString(up.AppInstanceUserArn))
	}
	d, err = e.id.DescribeAppInstanceUser(t.Context(), &chimesdkidentity.DescribeAppInstanceUserInput{AppInstanceUserArn: aws.String(alice)})
	mustOK(t, err, "DescribeAppInstanceUser after update")
	u = d.AppInstanceUser
	if aws.ToString(u.Name) != "Alice Jones" || aws.ToString(u.Metadata) != `{"desk":2}` {
		t.Errorf("after update: %q %q", aws.ToString(u.Name), aws.ToString(u.Metadata))
	}
	if !aws.ToTime(u.CreatedTimestamp).Equal(created) {
		t.Errorf("update changed CreatedTimestamp from %v to %v", created, aws.ToTime(u.CreatedTimestamp))
	}
	if got := aws.ToTime(u.LastUpdatedTimestamp).Sub(created); got < time.Minute {
		t.Errorf("LastUpdatedTimestamp advanced by %v on update, want at least a minute", got)
	}
	wantExpiration(t, "after update", u.ExpirationSettings, 7)

	// Expiration settings: set on bob, visible in Describe, then cleared.
	pe, err := e.id.PutAppInstanceUserExpirationSettings(t.Context(), &chimesdkidentity.PutAppInstanceUserExpirationSettingsInput{
		AppInstanceUserArn: aws.String(bob),
		ExpirationSettings: &types.ExpirationSettings{ExpirationDays: aws.Int32(5475), ExpirationCriterion: types.ExpirationCriterionCreatedTimestamp},
	})
	mustOK(t, err, "PutAppInstanceUserExpirationSettings")
	if aws.ToString(pe.AppInstanceUserArn) != bob {
		t.Errorf("PutAppInstanceUserExpirationSettings ARN = %q", aws.ToString(pe.AppInstanceUserArn))
	}
	wantExpiration(t, "Put answer", pe.ExpirationSettings, 5475)
	d, err = e.id.DescribeAppInstanceUser(t.Context(), &chimesdkidentity.DescribeAppInstanceUserInput{AppInstanceUserArn: aws.String(bob)})
	mustOK(t, err, "DescribeAppInstanceUser bob after put")
	wantExpiration(t, "after put", d.AppInstanceUser.ExpirationSettings, 5475)

	pe, err = e.id.PutAppInstanceUserExpirationSettings(t.Context(), &chimesdkidentity.PutAppInstanceUserExpirationSettingsInput{AppInstanceUserArn: aws.String(bob)})
	mustOK(t, err, "PutAppInstanceUserExpirationSettings clear")
	if pe.ExpirationSettings != nil || aws.ToString(pe.AppInstanceUserArn) != bob {
		t.Errorf("clearing answered %q %+v", aws.ToString(pe.AppInstanceUserArn), pe.ExpirationSettings)
	}
	d, err = e.id.DescribeAppInstanceUser(t.Context(), &chimesdkidentity.DescribeAppInstanceUserInput{AppInstanceUserArn: aws.String(bob)})
	mustOK(t, err, "DescribeAppInstanceUser bob after clear")
	if d.AppInstanceUser.ExpirationSettings != nil {
		t.Errorf("after clearing, ExpirationSettings = %+v", d.AppInstanceUser.ExpirationSettings)
	}

	_, err = e.id.DeleteAppInstanceUser(t.Context(), &chimesdkidentity.DeleteAppInstanceUserInput{AppInstanceUserArn: aws.String(alice)})
	mustOK(t, err, "DeleteAppInstanceUser")
	_, err = e.id.DescribeAppInstanceUser(t.Context(), &chimesdkidentity.DescribeAppInstanceUserInput{AppInstanceUserArn: aws.String(alice)})
	wantError(t, err, "ForbiddenException")
	_, err = e.id.ListTagsForResource(t.Context(), &chimesdkidentity.ListTagsForResourceInput{ResourceARN: aws.String(alice)})
	wantError(t, err, "ForbiddenException")
	l, err = e.id.ListAppInstanceUsers(t.Context(), &chimesdkidentity.ListAppInstanceUsersInput{AppInstanceArn: aws.String(ai)})
	mustOK(t, err, "ListAppInstanceUsers after delete")
	if len(l.AppInstanceUsers) != 1 || aws.ToString(l.AppInstanceUsers[0].AppInstanceUserArn) != bob {
		t.Errorf("ListAppInstanceUsers after delete = %+v", l.AppInstanceUsers)
	}

	// The id is free again, and the new user starts afresh.
	again := e.createUser(t, ai, id, "Alice again")
	tags, err = e.id.ListTagsForResource(t.Context(), &chimesdkidentity.ListTagsForResourceInput{ResourceARN: aws.String(again)})
	mustOK(t, err, "ListTagsForResource of the recreated user")
	wantTags(t, tags.Tags, map[string]string{})
}

func wantExpiration(t testing.TB, what string, got *types.ExpirationSettings, days int32) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: no ExpirationSettings, want %d days", what, days)
		return
	}
	if aws.ToInt32(got.ExpirationDays) != days || got.ExpirationCriterion != types.ExpirationCriterionCreatedTimestamp {
		t.Errorf("%s: ExpirationSettings = %d %q, want %d CREATED_TIMESTAMP", what, aws.ToInt32(got.ExpirationDays), got.ExpirationCriterion, days)
	}
}

func TestListAppInstanceUsersPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ai := e.createAppInstance(t, "Many users")
	other := e.createAppInstance(t, "Other")
	e.createUser(t, other, "stranger", "Stranger")
	want := map[string]bool{}
	for i := range 12 {
		id := string(rune('a'+i)) + "-user"
		want[e.createUser(t, ai, id, "User "+id)] = true
	}

	seen := map[string]int{}
	var token *string
	var sizes []int
	for {
		out, err := e.id.ListAppInstanceUsers(t.Context(), &chimesdkidentity.ListAppInstanceUsersInput{
			AppInstanceArn: aws.String(ai), MaxResults: aws.Int32(5), NextToken: token,
		})
		mustOK(t, err, "ListAppInstanceUsers page %d", len(sizes)+1)
		if aws.ToString(out.AppInstanceArn) != ai {
			t.Errorf("page AppInstanceArn = %q", aws.ToString(out.AppInstanceArn))
		}
		sizes = append(sizes, len(out.AppInstanceUsers))
		for _, s := range out.AppInstanceUsers {
			seen[aws.ToString(s.AppInstanceUserArn)]++
		}
		if out.NextToken == nil || len(sizes) > 10 {
			break
		}
		token = out.NextToken
	}
	if len(sizes) != 3 || sizes[0] != 5 || sizes[1] != 5 || sizes[2] != 2 {
		t.Errorf("page sizes %v, want [5 5 2]", sizes)
	}
	wantEachOnce(t, "ListAppInstanceUsers", seen, want)

	seen = map[string]int{}
	pages := 0
	p := chimesdkidentity.NewListAppInstanceUsersPaginator(e.id, &chimesdkidentity.ListAppInstanceUsersInput{AppInstanceArn: aws.String(ai), MaxResults: aws.Int32(4)})
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		mustOK(t, err, "ListAppInstanceUsers paginator")
		pages++
		for _, s := range out.AppInstanceUsers {
			seen[aws.ToString(s.AppInstanceUserArn)]++
		}
	}
	if pages != 3 {
		t.Errorf("paginator took %d pages of 4 for 12 users, want 3", pages)
	}
	wantEachOnce(t, "ListAppInstanceUsers paginator", seen, want)
}

func TestDeleteAppInstanceUserRemovesAdminAndEndpoints(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ai := e.createAppInstance(t, "Cleanup")
	user := e.createUser(t, ai, "leaver", "Leaver")
	stay := e.createUser(t, ai, "stayer", "Stayer")
	for _, u := range []string{user, stay} {
		_, err := e.id.CreateAppInstanceAdmin(t.Context(), &chimesdkidentity.CreateAppInstanceAdminInput{AppInstanceArn: aws.String(ai), AppInstanceAdminArn: aws.String(u)})
		mustOK(t, err, "CreateAppInstanceAdmin %s", u)
	}
	ep := e.registerEndpoint(t, user, "leaver-phone")
	stayEP := e.registerEndpoint(t, stay, "stayer-phone")

	_, err := e.id.DeleteAppInstanceUser(t.Context(), &chimesdkidentity.DeleteAppInstanceUserInput{AppInstanceUserArn: aws.String(user)})
	mustOK(t, err, "DeleteAppInstanceUser")
	_, err = e.id.DeleteAppInstanceUser(t.Context(), &chimesdkidentity.DeleteAppInstanceUserInput{AppInstanceUserArn: aws.String(user)})
	wantError(t, err, "ForbiddenException")

	_, err = e.id.DescribeAppInstanceAdmin(t.Context(), &chimesdkidentity.DescribeAppInstanceAdminInput{AppInstanceArn: aws.String(ai), AppInstanceAdminArn: aws.String(user)})
	wantError(t, err, "ForbiddenException")
	admins, err := e.id.ListAppInstanceAdmins(t.Context(), &chimesdkidentity.ListAppInstanceAdminsInput{AppInstanceArn: aws.String(ai)})
	mustOK(t, err, "ListAppInstanceAdmins")
	if len(admins.AppInstanceAdmins) != 1 || aws.ToString(admins.AppInstanceAdmins[0].Admin.Arn) != stay {
		t.Errorf("admins after deleting a user: %+v, want only %s", admins.AppInstanceAdmins, stay)
	}
	_, err = e.id.DescribeAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.DescribeAppInstanceUserEndpointInput{AppInstanceUserArn: aws.String(user), EndpointId: aws.String(ep)})
	wantError(t, err, "ForbiddenException")
	_, err = e.id.ListAppInstanceUserEndpoints(t.Context(), &chimesdkidentity.ListAppInstanceUserEndpointsInput{AppInstanceUserArn: aws.String(user)})
	wantError(t, err, "ForbiddenException")

	// A user created again with the id has neither the role nor the endpoint.
	e.createUser(t, ai, "leaver", "Leaver again")
	_, err = e.id.DescribeAppInstanceAdmin(t.Context(), &chimesdkidentity.DescribeAppInstanceAdminInput{AppInstanceArn: aws.String(ai), AppInstanceAdminArn: aws.String(user)})
	wantError(t, err, "ForbiddenException")
	eps, err := e.id.ListAppInstanceUserEndpoints(t.Context(), &chimesdkidentity.ListAppInstanceUserEndpointsInput{AppInstanceUserArn: aws.String(user)})
	mustOK(t, err, "ListAppInstanceUserEndpoints of the recreated user")
	if len(eps.AppInstanceUserEndpoints) != 0 {
		t.Errorf("the recreated user has endpoints %+v", eps.AppInstanceUserEndpoints)
	}

	// The other user keeps both.
	_, err = e.id.DescribeAppInstanceAdmin(t.Context(), &chimesdkidentity.DescribeAppInstanceAdminInput{AppInstanceArn: aws.String(ai), AppInstanceAdminArn: aws.String(stay)})
	mustOK(t, err, "DescribeAppInstanceAdmin of the other user")
	_, err = e.id.DescribeAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.DescribeAppInstanceUserEndpointInput{AppInstanceUserArn: aws.String(stay), EndpointId: aws.String(stayEP)})
	mustOK(t, err, "DescribeAppInstanceUserEndpoint of the other user")
}
