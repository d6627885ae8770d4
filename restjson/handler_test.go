package restjson

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api"
	"github.com/carillonhq/carillon/api/identityapi"
	"github.com/carillonhq/carillon/api/messagingapi"
)

type allowAll struct{}

func (allowAll) Authenticate(*http.Request, []byte) (carillon.Caller, error) {
	return carillon.Caller{Root: true}, nil
}

// recordingOps returns every operation of both models, each answering
// with a fresh output and recording what it was called with.
func recordingOps(calls *[]string, inputs *[]api.Input) []api.Operation {
	ih, mh := identityapi.Handlers{}, messagingapi.Handlers{}
	ops := append(ih.Operations(), mh.Operations()...)
	for i := range ops {
		name := ops[i].Name
		ops[i].Invoke = func(_ context.Context, in api.Input) (any, error) {
			*calls = append(*calls, name)
			*inputs = append(*inputs, in)
			return nil, nil
		}
	}
	return ops
}

func newTestHandler(t testing.TB, ops []api.Operation) *Handler {
	t.Helper()
	h, err := New(Config{Operations: ops, Auth: allowAll{}})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

const (
	appARN     = "arn:aws:chime:us-east-1:000000000000:app-instance/a1"
	channelARN = appARN + "/channel/c1"
	userARN    = appARN + "/user/u1"
)

// label escapes a label value as SDKs do: everything but unreserved
// characters, '/' included.
func label(s string) string {
	return strings.ReplaceAll(url.PathEscape(s), "/", "%2F")
}

func TestRoutesOfBothModels(t *testing.T) {
	cases := []struct {
		method, target, op string
	}{
		{"POST", "/app-instances", "CreateAppInstance"},
		{"GET", "/app-instances/" + label(appARN), "DescribeAppInstance"},
		{"GET", "/app-instances/" + label(appARN) + "/admins/" + label(userARN), "DescribeAppInstanceAdmin"},
		{"GET", "/channels?app-instance-arn=" + url.QueryEscape(appARN), "ListChannels"},
		{"GET", "/channels?scope=app-instance-user-memberships&app-instance-user-arn=x", "ListChannelMembershipsForAppInstanceUser"},
		{"GET", "/channels?scope=app-instance-user-moderated-channels", "ListChannelsModeratedByAppInstanceUser"},
		{"GET", "/channels?scope=channel-flow-associations&channel-flow-arn=x", "ListChannelsAssociatedWithChannelFlow"},
		{"POST", "/channels", "CreateChannel"},
		{"POST", "/channels?operation=search", "SearchChannels"},
		{"GET", "/channels/" + label(channelARN), "DescribeChannel"},
		{"GET", "/channels/" + label(channelARN) + "?scope=app-instance-user-membership&app-instance-user-arn=x", "DescribeChannelMembershipForAppInstanceUser"},
		{"POST", "/channels/" + label(channelARN) + "?operation=channel-flow-callback", "ChannelFlowCallback"},
		{"POST", "/channels/" + label(channelARN) + "/memberships", "CreateChannelMembership"},
		{"POST", "/channels/" + label(channelARN) + "/memberships?operation=batch-create", "BatchCreateChannelMembership"},
		{"GET", "/channels/" + label(channelARN) + "/messages/m1", "GetChannelMessage"},
		{"GET", "/channels/" + label(channelARN) + "/messages/m1?scope=message-status", "GetChannelMessageStatus"},
		{"POST", "/channels/" + label(channelARN) + "/messages/m1?operation=redact", "RedactChannelMessage"},
		{"PUT", "/channels/" + label(channelARN) + "/readMarker", "UpdateChannelReadMarker"},
		{"GET", "/tags?arn=" + url.QueryEscape(appARN), "ListTagsForResource"},
		{"POST", "/tags?operation=tag-resource", "TagResource"},
		{"GET", "/endpoints/messaging-session", "GetMessagingSessionEndpoint"},
	}
	for _, c := range cases {
		var calls []string
		var inputs []api.Input
		h := newTestHandler(t, recordingOps(&calls, &inputs))
		// Validation would reject most of these minimal requests; route
		// resolution is what is under test, so look at the router itself.
		u, _ := url.Parse(c.target)
		m, err := h.router.find(c.method, u.EscapedPath(), u.Query())
		if err != nil || m == nil {
			t.Errorf("%s %s: no route (%v)", c.method, c.target, err)
			continue
		}
		if m.op.Name != c.op {
			t.Errorf("%s %s routed to %s, want %s", c.method, c.target, m.op.Name, c.op)
		}
	}
}

func TestLabelsAreUnescapedPerSegment(t *testing.T) {
	var calls []string
	var inputs []api.Input
	h := newTestHandler(t, recordingOps(&calls, &inputs))
	req := httptest.NewRequest("GET", "/channels/"+label(channelARN)+"/memberships/"+label(userARN), nil)
	req.Header.Set("x-amz-chime-bearer", userARN)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	in := inputs[0].(*messagingapi.DescribeChannelMembershipRequest)
	if *in.ChannelArn != channelARN || *in.MemberArn != userARN || *in.ChimeBearer != userARN {
		t.Fatalf("labels: %q %q bearer %q", *in.ChannelArn, *in.MemberArn, *in.ChimeBearer)
	}
}

func TestQueryBindingAndTypes(t *testing.T) {
	var calls []string
	var inputs []api.Input
	h := newTestHandler(t, recordingOps(&calls, &inputs))
	target := "/channels/" + label(channelARN) + "/messages?max-results=10&sort-order=ASCENDING&not-before=2024-01-02T03%3A04%3A05.678Z&next-token=abc"
	req := httptest.NewRequest("GET", target, nil)
	req.Header.Set("x-amz-chime-bearer", userARN)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	in := inputs[0].(*messagingapi.ListChannelMessagesRequest)
	if *in.MaxResults != 10 || *in.SortOrder != messagingapi.SortOrderAscending || *in.NextToken != "abc" {
		t.Fatalf("bound %+v", in)
	}
	if got := in.NotBefore.UTC().Format("2006-01-02T15:04:05.000Z"); got != "2024-01-02T03:04:05.678Z" {
		t.Fatalf("not-before %s", got)
	}
}

// errorBody decodes an error response and checks the parts every AWS SDK
// reads.
func errorBody(t *testing.T, rec *httptest.ResponseRecorder, status int, typ string) map[string]string {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d: %s", rec.Code, status, rec.Body)
	}
	if got := rec.Header().Get("X-Amzn-ErrorType"); got != typ {
		t.Fatalf("X-Amzn-ErrorType %q, want %q", got, typ)
	}
	if rec.Header().Get("x-amzn-RequestId") == "" {
		t.Fatal("no x-amzn-RequestId")
	}
	var body map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	return body
}

func serve(h http.Handler, method, target, body string, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestErrors(t *testing.T) {
	var calls []string
	var inputs []api.Input
	h := newTestHandler(t, recordingOps(&calls, &inputs))

	t.Run("validation names the member", func(t *testing.T) {
		rec := serve(h, "POST", "/app-instances", `{"Name":"","ClientRequestToken":"tok-1"}`)
		body := errorBody(t, rec, 400, "BadRequestException")
		if body["Code"] != "BadRequest" || !strings.Contains(body["Message"], "'Name'") {
			t.Fatalf("body %v", body)
		}
	})
	t.Run("missing required", func(t *testing.T) {
		rec := serve(h, "POST", "/app-instances", `{"ClientRequestToken":"tok-1"}`)
		body := errorBody(t, rec, 400, "BadRequestException")
		if !strings.Contains(body["Message"], "Value null at 'Name'") {
			t.Fatalf("body %v", body)
		}
	})
	t.Run("malformed JSON", func(t *testing.T) {
		errorBody(t, serve(h, "POST", "/app-instances", `{"Name":`), 400, "SerializationException")
	})
	t.Run("wrong member type", func(t *testing.T) {
		body := errorBody(t, serve(h, "POST", "/app-instances", `{"Name":5,"ClientRequestToken":"tok-1"}`), 400, "SerializationException")
		if !strings.Contains(body["Message"], "Name") {
			t.Fatalf("body %v", body)
		}
	})
	t.Run("not an object", func(t *testing.T) {
		errorBody(t, serve(h, "POST", "/app-instances", `[1,2]`), 400, "SerializationException")
	})
	t.Run("trailing data", func(t *testing.T) {
		errorBody(t, serve(h, "POST", "/app-instances", `{"Name":"a","ClientRequestToken":"tok-1"} {}`), 400, "SerializationException")
	})
	t.Run("bad integer in query", func(t *testing.T) {
		body := errorBody(t, serve(h, "GET", "/app-instances?max-results=ten", ""), 400, "BadRequestException")
		if !strings.Contains(body["Message"], "max-results") {
			t.Fatalf("body %v", body)
		}
	})
	t.Run("range in query", func(t *testing.T) {
		errorBody(t, serve(h, "GET", "/app-instances?max-results=51", ""), 400, "BadRequestException")
	})
	t.Run("unknown route", func(t *testing.T) {
		errorBody(t, serve(h, "GET", "/nothing-here", ""), 404, "UnknownOperationException")
	})
	t.Run("literal query that matches nothing", func(t *testing.T) {
		errorBody(t, serve(h, "POST", "/channels/"+label(channelARN), `{}`), 404, "UnknownOperationException")
	})
	t.Run("body too large", func(t *testing.T) {
		big := `{"Name":"` + strings.Repeat("a", DefaultMaxBodyBytes) + `"}`
		errorBody(t, serve(h, "POST", "/app-instances", big), 400, "BadRequestException")
	})
}

func TestSuccessEncoding(t *testing.T) {
	ops := (&identityapi.Handlers{
		CreateAppInstance: func(context.Context, *identityapi.CreateAppInstanceRequest) (*identityapi.CreateAppInstanceResponse, error) {
			return &identityapi.CreateAppInstanceResponse{AppInstanceArn: api.String(appARN)}, nil
		},
		DeleteAppInstance: func(context.Context, *identityapi.DeleteAppInstanceRequest) error { return nil },
		ListAppInstances: func(context.Context, *identityapi.ListAppInstancesRequest) (*identityapi.ListAppInstancesResponse, error) {
			return &identityapi.ListAppInstancesResponse{AppInstances: []identityapi.AppInstanceSummary{}}, nil
		},
	}).Operations()
	h := newTestHandler(t, ops)

	rec := serve(h, "POST", "/app-instances", `{"Name":"n","ClientRequestToken":"tok-1","Unknown":{"x":1}}`)
	if rec.Code != 201 || rec.Body.String() != `{"AppInstanceArn":"`+appARN+`"}` {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	rec = serve(h, "DELETE", "/app-instances/"+label(appARN), "")
	if rec.Code != 204 || rec.Body.Len() != 0 || rec.Header().Get("x-amzn-RequestId") == "" {
		t.Fatalf("delete: %d %q", rec.Code, rec.Body)
	}
	// An empty list is present, not omitted: boto3 users index it.
	rec = serve(h, "GET", "/app-instances", "")
	if rec.Code != 200 || rec.Body.String() != `{"AppInstances":[]}` {
		t.Fatalf("list: %d %s", rec.Code, rec.Body)
	}
	// An unimplemented operation says so.
	errorBody(t, serve(h, "GET", "/app-instances/"+label(appARN), ""), 501, "NotImplementedException")
}

func TestServiceErrorsAndPanics(t *testing.T) {
	ops := (&identityapi.Handlers{
		DescribeAppInstance: func(context.Context, *identityapi.DescribeAppInstanceRequest) (*identityapi.DescribeAppInstanceResponse, error) {
			return nil, carillon.Errorf(carillon.Conflict, "busy")
		},
		DescribeAppInstanceBot: func(context.Context, *identityapi.DescribeAppInstanceBotRequest) (*identityapi.DescribeAppInstanceBotResponse, error) {
			return nil, errors.New("disk on fire")
		},
		DescribeAppInstanceUser: func(context.Context, *identityapi.DescribeAppInstanceUserRequest) (*identityapi.DescribeAppInstanceUserResponse, error) {
			panic("bug")
		},
	}).Operations()
	h := newTestHandler(t, ops)
	body := errorBody(t, serve(h, "GET", "/app-instances/"+label(appARN), ""), 409, "ConflictException")
	if body["Code"] != "Conflict" || body["Message"] != "busy" {
		t.Fatalf("body %v", body)
	}
	body = errorBody(t, serve(h, "GET", "/app-instance-bots/"+label(appARN+"/bot/b"), ""), 500, "ServiceFailureException")
	if strings.Contains(body["Message"], "fire") {
		t.Fatal("an internal error leaked to the client")
	}
	errorBody(t, serve(h, "GET", "/app-instance-users/"+label(userARN), ""), 500, "ServiceFailureException")
}

func TestEveryKindMapsToItsShape(t *testing.T) {
	for kind, want := range kindWire {
		rec := httptest.NewRecorder()
		WriteError(rec, "rid", carillon.Errorf(kind, "m"))
		if rec.Code != want.status || rec.Header().Get("X-Amzn-ErrorType") != string(kind)+"Exception" {
			t.Errorf("%s: %d %s", kind, rec.Code, rec.Header().Get("X-Amzn-ErrorType"))
		}
	}
}

func TestAuthorizerRunsBeforeTheService(t *testing.T) {
	var calls []string
	var inputs []api.Input
	h, err := New(Config{Operations: recordingOps(&calls, &inputs), Auth: allowAll{},
		Authorize: func(c carillon.Caller, op *api.Operation, bearer string) error {
			if bearer != userARN {
				return carillon.Errorf(carillon.Forbidden, "no")
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	target := "/channels/" + label(channelARN)
	errorBody(t, serve(h, "GET", target, "", "x-amz-chime-bearer", appARN+"/user/other"), 403, "ForbiddenException")
	if len(calls) != 0 {
		t.Fatal("the service ran for a forbidden caller")
	}
	if rec := serve(h, "GET", target, "", "x-amz-chime-bearer", userARN); rec.Code != 200 {
		t.Fatalf("allowed caller: %d %s", rec.Code, rec.Body)
	}
}
