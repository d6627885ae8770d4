package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/carillonhq/carillon/carillontest"
)

// The account and region every test server names its ARNs with.
const (
	testRegion  = "us-east-1"
	testAccount = "000000000000"
	arnPrefix   = "arn:aws:chime:" + testRegion + ":" + testAccount + ":"
	uuidPattern = `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`
)

var (
	appInstanceARNPattern = regexp.MustCompile(`^` + regexp.QuoteMeta(arnPrefix) + `app-instance/(` + uuidPattern + `)$`)
	botARNPattern         = regexp.MustCompile(`^` + regexp.QuoteMeta(arnPrefix) + `app-instance/` + uuidPattern + `/bot/` + uuidPattern + `$`)
)

// A valid Lex bot alias ARN (the model's pattern is strict about it).
const (
	lexAlias      = "arn:aws:lex:us-east-1:123456789012:bot-alias/ABCDEFGHIJ/KLMNOPQRST"
	otherLexAlias = "arn:aws:lex:eu-west-2:210987654321:bot-alias/ZYXWVUTSRQ/PONMLKJIHG"
	snsPlatformAp = "arn:aws:sns:us-east-1:123456789012:app/APNS/carillon"
)

// stepClock is the wall clock moved forward by however much a test
// advanced it, so a test can see LastUpdatedTimestamp move without
// sleeping. Offsets stay far below the signature's allowed clock skew.
type stepClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().UTC().Add(c.offset)
}

// Advance moves the clock forward by d.
func (c *stepClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// env is one test server with a root identity client.
type env struct {
	srv   *carillontest.Server
	id    *chimesdkidentity.Client
	clock *stepClock
}

// newEnv starts a server of its own for the test.
func newEnv(t testing.TB) *env {
	t.Helper()
	clock := &stepClock{}
	srv := carillontest.New(t, carillontest.WithClock(clock))
	if srv.Region != testRegion {
		t.Fatalf("server region %q, want %q", srv.Region, testRegion)
	}
	return &env{srv: srv, id: chimesdkidentity.NewFromConfig(srv.Config), clock: clock}
}

func (e *env) createAppInstance(t testing.TB, name string, opts ...func(*chimesdkidentity.CreateAppInstanceInput)) string {
	t.Helper()
	in := &chimesdkidentity.CreateAppInstanceInput{Name: aws.String(name)}
	for _, o := range opts {
		o(in)
	}
	out, err := e.id.CreateAppInstance(t.Context(), in)
	if err != nil {
		t.Fatalf("CreateAppInstance %q: %v", name, err)
	}
	arn := aws.ToString(out.AppInstanceArn)
	if !appInstanceARNPattern.MatchString(arn) {
		t.Fatalf("CreateAppInstance ARN %q does not match %v", arn, appInstanceARNPattern)
	}
	return arn
}

func (e *env) createUser(t testing.TB, appInstanceARN, userID, name string) string {
	t.Helper()
	out, err := e.id.CreateAppInstanceUser(t.Context(), &chimesdkidentity.CreateAppInstanceUserInput{
		AppInstanceArn:    aws.String(appInstanceARN),
		AppInstanceUserId: aws.String(userID),
		Name:              aws.String(name),
	})
	if err != nil {
		t.Fatalf("CreateAppInstanceUser %q: %v", userID, err)
	}
	arn := aws.ToString(out.AppInstanceUserArn)
	if want := userARN(appInstanceARN, userID); arn != want {
		t.Fatalf("CreateAppInstanceUser ARN %q, want %q", arn, want)
	}
	return arn
}

func (e *env) createBot(t testing.TB, appInstanceARN, name string) string {
	t.Helper()
	in := &chimesdkidentity.CreateAppInstanceBotInput{
		AppInstanceArn: aws.String(appInstanceARN),
		Configuration:  lexConfig(lexAlias),
	}
	if name != "" { // "": a bot without a name
		in.Name = aws.String(name)
	}
	out, err := e.id.CreateAppInstanceBot(t.Context(), in)
	if err != nil {
		t.Fatalf("CreateAppInstanceBot %q: %v", name, err)
	}
	arn := aws.ToString(out.AppInstanceBotArn)
	if !botARNPattern.MatchString(arn) || !strings.HasPrefix(arn, appInstanceARN+"/bot/") {
		t.Fatalf("CreateAppInstanceBot ARN %q is not a bot of %s", arn, appInstanceARN)
	}
	return arn
}

func (e *env) registerEndpoint(t testing.TB, userARN, token string) string {
	t.Helper()
	out, err := e.id.RegisterAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.RegisterAppInstanceUserEndpointInput{
		AppInstanceUserArn: aws.String(userARN),
		Type:               types.AppInstanceUserEndpointTypeApns,
		ResourceArn:        aws.String(snsPlatformAp),
		EndpointAttributes: &types.EndpointAttributes{DeviceToken: aws.String(token)},
	})
	if err != nil {
		t.Fatalf("RegisterAppInstanceUserEndpoint %q: %v", token, err)
	}
	if aws.ToString(out.AppInstanceUserArn) != userARN || aws.ToString(out.EndpointId) == "" {
		t.Fatalf("RegisterAppInstanceUserEndpoint answered %q, %q", aws.ToString(out.AppInstanceUserArn), aws.ToString(out.EndpointId))
	}
	return aws.ToString(out.EndpointId)
}

func lexConfig(alias string) *types.Configuration {
	return &types.Configuration{Lex: &types.LexConfiguration{
		LexBotAliasArn: aws.String(alias),
		LocaleId:       aws.String("en_US"),
		RespondsTo:     types.RespondsToStandardMessages,
	}}
}

func userARN(appInstanceARN, userID string) string { return appInstanceARN + "/user/" + userID }

// missingAppInstance is a well-formed AppInstance ARN that names nothing.
const missingAppInstance = arnPrefix + "app-instance/00000000-0000-4000-8000-000000000000"

// wantRecent checks that a timestamp is present and within a minute of
// now, as the server's clock tells it.
func (e *env) wantRecent(t testing.TB, what string, ts *time.Time) {
	t.Helper()
	if ts == nil || ts.IsZero() {
		t.Errorf("%s: missing timestamp", what)
		return
	}
	if d := e.clock.Now().Sub(*ts); d < -time.Second || d > time.Minute {
		t.Errorf("%s: %v is %v away from the server's now", what, *ts, d)
	}
}

// skipValidation removes the SDK's client-side check of required members,
// so that the server's own validation answers.
func skipValidation(o *chimesdkidentity.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		_, err := s.Initialize.Remove("OperationInputValidation")
		return err
	})
}

// wantBadRequest checks for a BadRequestException whose message names
// member (a validation failure), or any BadRequest when member is "".
func wantBadRequest(t testing.TB, err error, member string) {
	t.Helper()
	msg := wantError(t, err, "BadRequestException")
	if msg != "" && member != "" && !strings.Contains(msg, "'"+member+"'") {
		t.Errorf("BadRequest message %q does not name '%s'", msg, member)
	}
}

// mustOK fails the test on err.
func mustOK(t testing.TB, err error, what string, args ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", fmt.Sprintf(what, args...), err)
	}
}
