package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity/types"
)

func TestUserEndpointLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ai := e.createAppInstance(t, "Endpoints")
	user := e.createUser(t, ai, "phone-owner", "Phone owner")

	reg, err := e.id.RegisterAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.RegisterAppInstanceUserEndpointInput{
		AppInstanceUserArn: aws.String(user),
		Name:               aws.String("Work phone"),
		Type:               types.AppInstanceUserEndpointTypeApnsSandbox,
		ResourceArn:        aws.String(snsPlatformAp),
		EndpointAttributes: &types.EndpointAttributes{DeviceToken: aws.String("apns-token"), VoipDeviceToken: aws.String("voip-token")},
		AllowMessages:      types.AllowMessagesNone,
	})
	mustOK(t, err, "RegisterAppInstanceUserEndpoint")
	id := aws.ToString(reg.EndpointId)
	if aws.ToString(reg.AppInstanceUserArn) != user || id == "" {
		t.Fatalf("RegisterAppInstanceUserEndpoint = %q %q", aws.ToString(reg.AppInstanceUserArn), id)
	}

	describe := func(id string) *types.AppInstanceUserEndpoint {
		t.Helper()
		d, err := e.id.DescribeAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.DescribeAppInstanceUserEndpointInput{
			AppInstanceUserArn: aws.String(user), EndpointId: aws.String(id),
		})
		mustOK(t, err, "DescribeAppInstanceUserEndpoint %s", id)
		if d.AppInstanceUserEndpoint == nil {
			t.Fatal("DescribeAppInstanceUserEndpoint: no AppInstanceUserEndpoint")
		}
		return d.AppInstanceUserEndpoint
	}
	ep := describe(id)
	if aws.ToString(ep.AppInstanceUserArn) != user || aws.ToString(ep.EndpointId) != id || aws.ToString(ep.Name) != "Work phone" ||
		ep.Type != types.AppInstanceUserEndpointTypeApnsSandbox || aws.ToString(ep.ResourceArn) != snsPlatformAp ||
		ep.AllowMessages != types.AllowMessagesNone {
		t.Errorf("DescribeAppInstanceUserEndpoint = %q %q %q %q %q %q", aws.ToString(ep.AppInstanceUserArn), aws.ToString(ep.EndpointId),
			aws.ToString(ep.Name), ep.Type, aws.ToString(ep.ResourceArn), ep.AllowMessages)
	}
	if a := ep.EndpointAttributes; a == nil || aws.ToString(a.DeviceToken) != "apns-token" || aws.ToString(a.VoipDeviceToken) != "voip-token" {
		t.Errorf("EndpointAttributes = %+v", a)
	}
	if s := ep.EndpointState; s == nil || s.Status != types.EndpointStatusActive || s.StatusReason != "" {
		t.Errorf("EndpointState = %+v, want ACTIVE without a reason", s)
	}
	e.wantRecent(t, "CreatedTimestamp", ep.CreatedTimestamp)
	e.wantRecent(t, "LastUpdatedTimestamp", ep.LastUpdatedTimestamp)
	created := aws.ToTime(ep.CreatedTimestamp)

	// Without the optional members: messages allowed, no name, no VoIP token.
	plain := e.registerEndpoint(t, user, "plain-token")
	if plain == id {
		t.Fatalf("a second device got the first endpoint's id %s", id)
	}
	p := describe(plain)
	if p.Name != nil || p.AllowMessages != types.AllowMessagesAll || p.EndpointAttributes == nil || p.EndpointAttributes.VoipDeviceToken != nil ||
		p.Type != types.AppInstanceUserEndpointTypeApns {
		t.Errorf("endpoint registered without options: Name %v AllowMessages %q Attributes %+v Type %q", p.Name, p.AllowMessages, p.EndpointAttributes, p.Type)
	}

	// The same device token again is the same endpoint.
	if again := e.registerEndpoint(t, user, "plain-token"); again != plain {
		t.Errorf("registering a device token again gave %s, want %s", again, plain)
	}

	e.clock.Advance(time.Minute)
	up, err := e.id.UpdateAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.UpdateAppInstanceUserEndpointInput{
		AppInstanceUserArn: aws.String(user), EndpointId: aws.String(id),
		Name: aws.String("Personal phone"), AllowMessages: types.AllowMessagesAll,
	})
	mustOK(t, err, "UpdateAppInstanceUserEndpoint")
	if aws.ToString(up.AppInstanceUserArn) != user || aws.ToString(up.EndpointId) != id {
		t.Errorf("UpdateAppInstanceUserEndpoint = %q %q", aws.ToString(up.AppInstanceUserArn), aws.ToString(up.EndpointId))
	}
	ep = describe(id)
	if aws.ToString(ep.Name) != "Personal phone" || ep.AllowMessages != types.AllowMessagesAll {
		t.Errorf("after update: Name %q AllowMessages %q", aws.ToString(ep.Name), ep.AllowMessages)
	}
	if aws.ToString(ep.EndpointAttributes.DeviceToken) != "apns-token" || ep.Type != types.AppInstanceUserEndpointTypeApnsSandbox {
		t.Errorf("update changed what it may not: %+v %q", ep.EndpointAttributes, ep.Type)
	}
	if !aws.ToTime(ep.CreatedTimestamp).Equal(created) {
		t.Errorf("update changed CreatedTimestamp from %v to %v", created, aws.ToTime(ep.CreatedTimestamp))
	}
	if got := aws.ToTime(ep.LastUpdatedTimestamp).Sub(created); got < time.Minute {
		t.Errorf("LastUpdatedTimestamp advanced by %v on update, want at least a minute", got)
	}
	if s := ep.EndpointState; s == nil || s.Status != types.EndpointStatusActive {
		t.Errorf("EndpointState after update = %+v", s)
	}

	// Updating one member leaves the other.
	_, err = e.id.UpdateAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.UpdateAppInstanceUserEndpointInput{
		AppInstanceUserArn: aws.String(user), EndpointId: aws.String(id), AllowMessages: types.AllowMessagesNone,
	})
	mustOK(t, err, "UpdateAppInstanceUserEndpoint AllowMessages only")
	ep = describe(id)
	if aws.ToString(ep.Name) != "Personal phone" || ep.AllowMessages != types.AllowMessagesNone {
		t.Errorf("after updating AllowMessages only: Name %q AllowMessages %q", aws.ToString(ep.Name), ep.AllowMessages)
	}

	l, err := e.id.ListAppInstanceUserEndpoints(t.Context(), &chimesdkidentity.ListAppInstanceUserEndpointsInput{AppInstanceUserArn: aws.String(user)})
	mustOK(t, err, "ListAppInstanceUserEndpoints")
	if len(l.AppInstanceUserEndpoints) != 2 || l.NextToken != nil {
		t.Fatalf("ListAppInstanceUserEndpoints: %d endpoints, NextToken %v", len(l.AppInstanceUserEndpoints), l.NextToken)
	}
	for _, s := range l.AppInstanceUserEndpoints {
		if aws.ToString(s.AppInstanceUserArn) != user || s.EndpointState == nil || s.EndpointState.Status != types.EndpointStatusActive {
			t.Errorf("summary %q: user %q state %+v", aws.ToString(s.EndpointId), aws.ToString(s.AppInstanceUserArn), s.EndpointState)
		}
		switch aws.ToString(s.EndpointId) {
		case id:
			if aws.ToString(s.Name) != "Personal phone" || s.Type != types.AppInstanceUserEndpointTypeApnsSandbox || s.AllowMessages != types.AllowMessagesNone {
				t.Errorf("summary of %s = %q %q %q", id, aws.ToString(s.Name), s.Type, s.AllowMessages)
			}
		case plain:
			if s.Name != nil || s.Type != types.AppInstanceUserEndpointTypeApns || s.AllowMessages != types.AllowMessagesAll {
				t.Errorf("summary of %s = %v %q %q", plain, s.Name, s.Type, s.AllowMessages)
			}
		default:
			t.Errorf("unexpected endpoint %q", aws.ToString(s.EndpointId))
		}
	}

	_, err = e.id.DeregisterAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.DeregisterAppInstanceUserEndpointInput{
		AppInstanceUserArn: aws.String(user), EndpointId: aws.String(id),
	})
	mustOK(t, err, "DeregisterAppInstanceUserEndpoint")
	_, err = e.id.DescribeAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.DescribeAppInstanceUserEndpointInput{
		AppInstanceUserArn: aws.String(user), EndpointId: aws.String(id),
	})
	wantError(t, err, "ForbiddenException")
	_, err = e.id.DeregisterAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.DeregisterAppInstanceUserEndpointInput{
		AppInstanceUserArn: aws.String(user), EndpointId: aws.String(id),
	})
	wantError(t, err, "ForbiddenException")
	l, err = e.id.ListAppInstanceUserEndpoints(t.Context(), &chimesdkidentity.ListAppInstanceUserEndpointsInput{AppInstanceUserArn: aws.String(user)})
	mustOK(t, err, "ListAppInstanceUserEndpoints after deregistering")
	if len(l.AppInstanceUserEndpoints) != 1 || aws.ToString(l.AppInstanceUserEndpoints[0].EndpointId) != plain {
		t.Errorf("after deregistering: %+v", l.AppInstanceUserEndpoints)
	}

	// An endpoint belongs to its user: another user's ARN does not reach it.
	other := e.createUser(t, ai, "someone-else", "Someone else")
	_, err = e.id.DescribeAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.DescribeAppInstanceUserEndpointInput{
		AppInstanceUserArn: aws.String(other), EndpointId: aws.String(plain),
	})
	wantError(t, err, "ForbiddenException")
}

func TestUserEndpointLimitAndPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ai := e.createAppInstance(t, "Endpoint limit")
	user := e.createUser(t, ai, "gadgets", "Many gadgets")
	want := map[string]bool{}
	var ids []string
	for i := range 10 {
		id := e.registerEndpoint(t, user, fmt.Sprintf("device-%02d", i))
		want[id] = true
		ids = append(ids, id)
	}
	if len(want) != 10 {
		t.Fatalf("10 devices got %d distinct endpoint ids", len(want))
	}

	register := func(token string) error {
		_, err := e.id.RegisterAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.RegisterAppInstanceUserEndpointInput{
			AppInstanceUserArn: aws.String(user), Type: types.AppInstanceUserEndpointTypeApns,
			ResourceArn: aws.String(snsPlatformAp), EndpointAttributes: &types.EndpointAttributes{DeviceToken: aws.String(token)},
		})
		return err
	}
	wantError(t, register("device-10"), "ResourceLimitExceededException")
	// A device already registered is no new endpoint: not over the limit.
	if id := e.registerEndpoint(t, user, "device-03"); id != ids[3] {
		t.Errorf("re-registering device-03 at the limit gave %s, want %s", id, ids[3])
	}

	// Pages of 3: 3 + 3 + 3 + 1.
	seen := map[string]int{}
	var token *string
	var sizes []int
	for {
		out, err := e.id.ListAppInstanceUserEndpoints(t.Context(), &chimesdkidentity.ListAppInstanceUserEndpointsInput{
			AppInstanceUserArn: aws.String(user), MaxResults: aws.Int32(3), NextToken: token,
		})
		mustOK(t, err, "ListAppInstanceUserEndpoints page %d", len(sizes)+1)
		sizes = append(sizes, len(out.AppInstanceUserEndpoints))
		for _, s := range out.AppInstanceUserEndpoints {
			seen[aws.ToString(s.EndpointId)]++
		}
		if out.NextToken == nil || len(sizes) > 10 {
			break
		}
		token = out.NextToken
	}
	if fmt.Sprint(sizes) != "[3 3 3 1]" {
		t.Errorf("page sizes %v, want [3 3 3 1]", sizes)
	}
	wantEachOnce(t, "ListAppInstanceUserEndpoints", seen, want)

	seen = map[string]int{}
	pages := 0
	p := chimesdkidentity.NewListAppInstanceUserEndpointsPaginator(e.id, &chimesdkidentity.ListAppInstanceUserEndpointsInput{
		AppInstanceUserArn: aws.String(user), MaxResults: aws.Int32(4),
	})
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		mustOK(t, err, "ListAppInstanceUserEndpoints paginator")
		pages++
		for _, s := range out.AppInstanceUserEndpoints {
			seen[aws.ToString(s.EndpointId)]++
		}
	}
	if pages != 3 {
		t.Errorf("paginator took %d pages of 4 for 10 endpoints, want 3", pages)
	}
	wantEachOnce(t, "ListAppInstanceUserEndpoints paginator", seen, want)

	// Deregistering one makes room for another.
	_, err := e.id.DeregisterAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.DeregisterAppInstanceUserEndpointInput{
		AppInstanceUserArn: aws.String(user), EndpointId: aws.String(ids[0]),
	})
	mustOK(t, err, "DeregisterAppInstanceUserEndpoint")
	mustOK(t, register("device-10"), "RegisterAppInstanceUserEndpoint after making room")
	wantError(t, register("device-11"), "ResourceLimitExceededException")

	// The limit is per user.
	e.registerEndpoint(t, e.createUser(t, ai, "fresh", "Fresh"), "device-00")
}
