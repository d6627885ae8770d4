package e2e

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity/types"
)

// errorFixture is an AppInstance with one of everything, for error cases
// that need something to exist.
type errorFixture struct {
	ai, user, bot, endpoint string
	// otherUser belongs to another AppInstance.
	otherUser string
}

func newErrorFixture(t *testing.T, e *env) errorFixture {
	t.Helper()
	var f errorFixture
	f.ai = e.createAppInstance(t, "Errors")
	f.user = e.createUser(t, f.ai, "fixture-user", "Fixture user")
	f.bot = e.createBot(t, f.ai, "Fixture bot")
	f.endpoint = e.registerEndpoint(t, f.user, "fixture-device")
	_, err := e.id.CreateAppInstanceAdmin(t.Context(), &chimesdkidentity.CreateAppInstanceAdminInput{
		AppInstanceArn: aws.String(f.ai), AppInstanceAdminArn: aws.String(f.user),
	})
	mustOK(t, err, "CreateAppInstanceAdmin")
	f.otherUser = e.createUser(t, e.createAppInstance(t, "Other"), "other-user", "Other user")
	return f
}

// errorCase is one call that must fail: want is the exception code;
// member, for a BadRequestException, the member its message must name.
type errorCase struct {
	name   string
	call   func(t *testing.T, c *chimesdkidentity.Client) error
	want   string
	member string
}

func TestIdentityErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := newErrorFixture(t, e)
	s := aws.String
	long := func(n int) *string { return aws.String(strings.Repeat("x", n)) }
	missingUser := f.ai + "/user/nobody"
	missingBot := f.ai + "/bot/00000000-0000-4000-8000-000000000000"
	// raw skips the SDK's client-side check of required members.
	raw := chimesdkidentity.NewFromConfig(e.srv.Config, skipValidation)
	const (
		badRequest = "BadRequestException"
		forbidden  = "ForbiddenException"
		notFound   = "NotFoundException"
		conflict   = "ConflictException"
	)

	cases := []errorCase{
		// CreateAppInstance
		{"CreateAppInstance/NameTooLong", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.CreateAppInstance(t.Context(), &chimesdkidentity.CreateAppInstanceInput{Name: long(257)})
			return err
		}, badRequest, "Name"},
		{"CreateAppInstance/NameEmpty", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.CreateAppInstance(t.Context(), &chimesdkidentity.CreateAppInstanceInput{Name: s("")})
			return err
		}, badRequest, "Name"},
		{"CreateAppInstance/NameControlCharacter", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.CreateAppInstance(t.Context(), &chimesdkidentity.CreateAppInstanceInput{Name: s("bell\a")})
			return err
		}, badRequest, "Name"},
		{"CreateAppInstance/NameMissing", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := raw.CreateAppInstance(t.Context(), &chimesdkidentity.CreateAppInstanceInput{})
			return err
		}, badRequest, "Name"},
		{"CreateAppInstance/MetadataTooLong", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.CreateAppInstance(t.Context(), &chimesdkidentity.CreateAppInstanceInput{Name: s("n"), Metadata: long(1025)})
			return err
		}, badRequest, "Metadata"},
		{"CreateAppInstance/ClientRequestTokenPattern", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.CreateAppInstance(t.Context(), &chimesdkidentity.CreateAppInstanceInput{Name: s("n"), ClientRequestToken: s("not a token!")})
			return err
		}, badRequest, "ClientRequestToken"},
		{"CreateAppInstance/ClientRequestTokenTooShort", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.CreateAppInstance(t.Context(), &chimesdkidentity.CreateAppInstanceInput{Name: s("n"), ClientRequestToken: s("x")})
			return err
		}, badRequest, "ClientRequestToken"},

		// CreateAppInstanceAdmin
		{"CreateAppInstanceAdmin/AdminArnPattern", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.CreateAppInstanceAdmin(t.Context(), &chimesdkidentity.CreateAppInstanceAdminInput{AppInstanceArn: s(f.ai), AppInstanceAdminArn: s("not-an-arn")})
			return err
		}, badRequest, "AppInstanceAdminArn"},
		{"CreateAppInstanceAdmin/UserOfAnotherAppInstance", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.CreateAppInstanceAdmin(t.Context(), &chimesdkidentity.CreateAppInstanceAdminInput{AppInstanceArn: s(f.ai), AppInstanceAdminArn: s(f.otherUser)})
			return err
		}, badRequest, ""},
		{"CreateAppInstanceAdmin/NotAUserOrBot", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.CreateAppInstanceAdmin(t.Context(), &chimesdkidentity.CreateAppInstanceAdminInput{AppInstanceArn: s(f.ai), AppInstanceAdminArn: s(f.ai)})
			return err
		}, badRequest, ""},
		{"CreateAppInstanceAdmin/MissingAppInstance", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.CreateAppInstanceAdmin(t.Context(), &chimesdkidentity.CreateAppInstanceAdminInput{AppInstanceArn: s(missingAppInstance), AppInstanceAdminArn: s(missingAppInstance + "/user/u")})
			return err
		}, forbidden, ""},
		{"CreateAppInstanceAdmin/MissingUser", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.CreateAppInstanceAdmin(t.Context(), &chimesdkidentity.CreateAppInstanceAdminInput{AppInstanceArn: s(f.ai), AppInstanceAdminArn: s(missingUser)})
			return err
		}, forbidden, ""},
		{"CreateAppInstanceAdmin/MissingBot", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.CreateAppInstanceAdmin(t.Context(), &chimesdkidentity.CreateAppInstanceAdminInput{AppInstanceArn: s(f.ai), AppInstanceAdminArn: s(missingBot)})
			return err
		}, forbidden, ""},
		{"CreateAppInstanceAdmin/Duplicate", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.CreateAppInstanceAdmin(t.Context(), &chimesdkidentity.CreateAppInstanceAdminInput{AppInstanceArn: s(f.ai), AppInstanceAdminArn: s(f.user)})
			return err
		}, conflict, ""},

		// CreateAppInstanceBot
		{"CreateAppInstanceBot/LexBotAliasArnPattern", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.CreateAppInstanceBot(t.Context(), &chimesdkidentity.CreateAppInstanceBotInput{AppInstanceArn: s(f.ai), Configuration: lexConfig("arn:aws:lex:us-east-1:123456789012:bot/x")})
			return err
		}, badRequest, "Configuration.Lex.LexBotAliasArn"},
		{"CreateAppInstanceBot/RespondsToEnum", func(t *testing.T, c *chimesdkidentity.Client) error {
			cfg := lexConfig(lexAlias)
			cfg.Lex.RespondsTo = "EVERYTHING"
			_, err := c.CreateAppInstanceBot(t.Context(), &chimesdkidentity.CreateAppInstanceBotInput{AppInstanceArn: s(f.ai), Configuration: cfg})
			return err
		}, badRequest, "Configuration.Lex.RespondsTo"},
		{"CreateAppInstanceBot/InvokedByEnum", func(t *testing.T, c *chimesdkidentity.Client) error {
			cfg := lexConfig(lexAlias)
			cfg.Lex.InvokedBy = &types.InvokedBy{StandardMessages: "SOMETIMES", TargetedMessages: types.TargetedMessagesAll}
			_, err := c.CreateAppInstanceBot(t.Context(), &chimesdkidentity.CreateAppInstanceBotInput{AppInstanceArn: s(f.ai), Configuration: cfg})
			return err
		}, badRequest, "Configuration.Lex.InvokedBy.StandardMessages"},
		{"CreateAppInstanceBot/WelcomeIntentPattern", func(t *testing.T, c *chimesdkidentity.Client) error {
			cfg := lexConfig(lexAlias)
			cfg.Lex.WelcomeIntent = s("Welcome Intent")
			_, err := c.CreateAppInstanceBot(t.Context(), &chimesdkidentity.CreateAppInstanceBotInput{AppInstanceArn: s(f.ai), Configuration: cfg})
			return err
		}, badRequest, "Configuration.Lex.WelcomeIntent"},
		{"CreateAppInstanceBot/NameTooLong", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.CreateAppInstanceBot(t.Context(), &chimesdkidentity.CreateAppInstanceBotInput{AppInstanceArn: s(f.ai), Name: long(257), Configuration: lexConfig(lexAlias)})
			return err
		}, badRequest, "Name"},
		{"CreateAppInstanceBot/ConfigurationMissing", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := raw.CreateAppInstanceBot(t.Context(), &chimesdkidentity.CreateAppInstanceBotInput{AppInstanceArn: s(f.ai)})
			return err
		}, badRequest, "Configuration"},
		{"CreateAppInstanceBot/LocaleIdMissing", func(t *testing.T, c *chimesdkidentity.Client) error {
			cfg := lexConfig(lexAlias)
			cfg.Lex.LocaleId = nil
			_, err := raw.CreateAppInstanceBot(t.Context(), &chimesdkidentity.CreateAppInstanceBotInput{AppInstanceArn: s(f.ai), Configuration: cfg})
			return err
		}, badRequest, "Configuration.Lex.LocaleId"},
		{"CreateAppInstanceBot/MissingAppInstance", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.CreateAppInstanceBot(t.Context(), &chimesdkidentity.CreateAppInstanceBotInput{AppInstanceArn: s(missingAppInstance), Configuration: lexConfig(lexAlias)})
			return err
		}, forbidden, ""},

		// CreateAppInstanceUser
		{"CreateAppInstanceUser/UserIdPattern", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.CreateAppInstanceUser(t.Context(), &chimesdkidentity.CreateAppInstanceUserInput{AppInstanceArn: s(f.ai), AppInstanceUserId: s("-dash-first"), Name: s("n")})
			return err
		}, badRequest, "AppInstanceUserId"},
		{"CreateAppInstanceUser/UserIdSlash", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.CreateAppInstanceUser(t.Context(), &chimesdkidentity.CreateAppInstanceUserInput{AppInstanceArn: s(f.ai), AppInstanceUserId: s("a/b"), Name: s("n")})
			return err
		}, badRequest, "AppInstanceUserId"},
		{"CreateAppInstanceUser/UserIdTooLong", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.CreateAppInstanceUser(t.Context(), &chimesdkidentity.CreateAppInstanceUserInput{AppInstanceArn: s(f.ai), AppInstanceUserId: long(65), Name: s("n")})
			return err
		}, badRequest, "AppInstanceUserId"},
		{"CreateAppInstanceUser/NameBlank", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.CreateAppInstanceUser(t.Context(), &chimesdkidentity.CreateAppInstanceUserInput{AppInstanceArn: s(f.ai), AppInstanceUserId: s("blank"), Name: s("   ")})
			return err
		}, badRequest, "Name"},
		{"CreateAppInstanceUser/NameTooLong", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.CreateAppInstanceUser(t.Context(), &chimesdkidentity.CreateAppInstanceUserInput{AppInstanceArn: s(f.ai), AppInstanceUserId: s("long"), Name: long(101)})
			return err
		}, badRequest, "Name"},
		{"CreateAppInstanceUser/UserIdMissing", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := raw.CreateAppInstanceUser(t.Context(), &chimesdkidentity.CreateAppInstanceUserInput{AppInstanceArn: s(f.ai), Name: s("n")})
			return err
		}, badRequest, "AppInstanceUserId"},
		{"CreateAppInstanceUser/ExpirationDaysZero", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.CreateAppInstanceUser(t.Context(), &chimesdkidentity.CreateAppInstanceUserInput{AppInstanceArn: s(f.ai), AppInstanceUserId: s("exp"), Name: s("n"),
				ExpirationSettings: &types.ExpirationSettings{ExpirationDays: aws.Int32(0), ExpirationCriterion: types.ExpirationCriterionCreatedTimestamp}})
			return err
		}, badRequest, "ExpirationSettings.ExpirationDays"},
		{"CreateAppInstanceUser/ExpirationCriterionEnum", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.CreateAppInstanceUser(t.Context(), &chimesdkidentity.CreateAppInstanceUserInput{AppInstanceArn: s(f.ai), AppInstanceUserId: s("exp"), Name: s("n"),
				ExpirationSettings: &types.ExpirationSettings{ExpirationDays: aws.Int32(1), ExpirationCriterion: "LAST_MESSAGE_TIMESTAMP"}})
			return err
		}, badRequest, "ExpirationSettings.ExpirationCriterion"},
		{"CreateAppInstanceUser/MissingAppInstance", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.CreateAppInstanceUser(t.Context(), &chimesdkidentity.CreateAppInstanceUserInput{AppInstanceArn: s(missingAppInstance), AppInstanceUserId: s("u"), Name: s("n")})
			return err
		}, forbidden, ""},
		{"CreateAppInstanceUser/DuplicateUserId", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.CreateAppInstanceUser(t.Context(), &chimesdkidentity.CreateAppInstanceUserInput{AppInstanceArn: s(f.ai), AppInstanceUserId: s("fixture-user"), Name: s("Impostor")})
			return err
		}, conflict, ""},

		// DeleteAppInstance
		{"DeleteAppInstance/ArnPattern", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.DeleteAppInstance(t.Context(), &chimesdkidentity.DeleteAppInstanceInput{AppInstanceArn: s("app-instance/x")})
			return err
		}, badRequest, "AppInstanceArn"},
		{"DeleteAppInstance/Missing", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.DeleteAppInstance(t.Context(), &chimesdkidentity.DeleteAppInstanceInput{AppInstanceArn: s(missingAppInstance)})
			return err
		}, forbidden, ""},

		// DeleteAppInstanceAdmin
		{"DeleteAppInstanceAdmin/ArnTooShort", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.DeleteAppInstanceAdmin(t.Context(), &chimesdkidentity.DeleteAppInstanceAdminInput{AppInstanceArn: s(f.ai), AppInstanceAdminArn: s("arn")})
			return err
		}, badRequest, "AppInstanceAdminArn"},
		{"DeleteAppInstanceAdmin/NotAnAdmin", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.DeleteAppInstanceAdmin(t.Context(), &chimesdkidentity.DeleteAppInstanceAdminInput{AppInstanceArn: s(f.ai), AppInstanceAdminArn: s(f.bot)})
			return err
		}, forbidden, ""},
		{"DeleteAppInstanceAdmin/MissingAppInstance", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.DeleteAppInstanceAdmin(t.Context(), &chimesdkidentity.DeleteAppInstanceAdminInput{AppInstanceArn: s(missingAppInstance), AppInstanceAdminArn: s(f.user)})
			return err
		}, forbidden, ""},

		// DeleteAppInstanceBot
		{"DeleteAppInstanceBot/ArnPattern", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.DeleteAppInstanceBot(t.Context(), &chimesdkidentity.DeleteAppInstanceBotInput{AppInstanceBotArn: s("bot/1234")})
			return err
		}, badRequest, "AppInstanceBotArn"},
		{"DeleteAppInstanceBot/Missing", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.DeleteAppInstanceBot(t.Context(), &chimesdkidentity.DeleteAppInstanceBotInput{AppInstanceBotArn: s(missingBot)})
			return err
		}, forbidden, ""},

		// DeleteAppInstanceUser
		{"DeleteAppInstanceUser/ArnPattern", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.DeleteAppInstanceUser(t.Context(), &chimesdkidentity.DeleteAppInstanceUserInput{AppInstanceUserArn: s("user/fixture-user")})
			return err
		}, badRequest, "AppInstanceUserArn"},
		{"DeleteAppInstanceUser/Missing", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.DeleteAppInstanceUser(t.Context(), &chimesdkidentity.DeleteAppInstanceUserInput{AppInstanceUserArn: s(missingUser)})
			return err
		}, forbidden, ""},

		// DeregisterAppInstanceUserEndpoint
		{"DeregisterAppInstanceUserEndpoint/EndpointIdTooLong", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.DeregisterAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.DeregisterAppInstanceUserEndpointInput{AppInstanceUserArn: s(f.user), EndpointId: long(65)})
			return err
		}, badRequest, "EndpointId"},
		{"DeregisterAppInstanceUserEndpoint/MissingEndpoint", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.DeregisterAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.DeregisterAppInstanceUserEndpointInput{AppInstanceUserArn: s(f.user), EndpointId: s("no-such-endpoint")})
			return err
		}, forbidden, ""},
		{"DeregisterAppInstanceUserEndpoint/MissingUser", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.DeregisterAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.DeregisterAppInstanceUserEndpointInput{AppInstanceUserArn: s(missingUser), EndpointId: s(f.endpoint)})
			return err
		}, forbidden, ""},

		// DescribeAppInstance
		{"DescribeAppInstance/ArnPattern", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.DescribeAppInstance(t.Context(), &chimesdkidentity.DescribeAppInstanceInput{AppInstanceArn: s("arn:aws:chime:us-east-1:000000000000:/app-instance")})
			return err
		}, badRequest, "AppInstanceArn"},
		{"DescribeAppInstance/Missing", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.DescribeAppInstance(t.Context(), &chimesdkidentity.DescribeAppInstanceInput{AppInstanceArn: s(missingAppInstance)})
			return err
		}, forbidden, ""},

		// DescribeAppInstanceAdmin
		{"DescribeAppInstanceAdmin/ArnPattern", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.DescribeAppInstanceAdmin(t.Context(), &chimesdkidentity.DescribeAppInstanceAdminInput{AppInstanceArn: s(f.ai), AppInstanceAdminArn: s("ARN:AWS:CHIME::::x")})
			return err
		}, badRequest, "AppInstanceAdminArn"},
		{"DescribeAppInstanceAdmin/NotAnAdmin", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.DescribeAppInstanceAdmin(t.Context(), &chimesdkidentity.DescribeAppInstanceAdminInput{AppInstanceArn: s(f.ai), AppInstanceAdminArn: s(f.bot)})
			return err
		}, forbidden, ""},

		// DescribeAppInstanceBot
		{"DescribeAppInstanceBot/ArnTooLong", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.DescribeAppInstanceBot(t.Context(), &chimesdkidentity.DescribeAppInstanceBotInput{AppInstanceBotArn: s(f.ai + "/bot/" + strings.Repeat("b", 1600))})
			return err
		}, badRequest, "AppInstanceBotArn"},
		{"DescribeAppInstanceBot/Missing", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.DescribeAppInstanceBot(t.Context(), &chimesdkidentity.DescribeAppInstanceBotInput{AppInstanceBotArn: s(missingBot)})
			return err
		}, notFound, ""},
		{"DescribeAppInstanceBot/MissingAppInstance", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.DescribeAppInstanceBot(t.Context(), &chimesdkidentity.DescribeAppInstanceBotInput{AppInstanceBotArn: s(missingAppInstance + "/bot/b")})
			return err
		}, notFound, ""},

		// DescribeAppInstanceUser
		{"DescribeAppInstanceUser/ArnPattern", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.DescribeAppInstanceUser(t.Context(), &chimesdkidentity.DescribeAppInstanceUserInput{AppInstanceUserArn: s("fixture-user")})
			return err
		}, badRequest, "AppInstanceUserArn"},
		{"DescribeAppInstanceUser/Missing", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.DescribeAppInstanceUser(t.Context(), &chimesdkidentity.DescribeAppInstanceUserInput{AppInstanceUserArn: s(missingUser)})
			return err
		}, forbidden, ""},
		{"DescribeAppInstanceUser/BotArn", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.DescribeAppInstanceUser(t.Context(), &chimesdkidentity.DescribeAppInstanceUserInput{AppInstanceUserArn: s(f.bot)})
			return err
		}, forbidden, ""},

		// DescribeAppInstanceUserEndpoint
		{"DescribeAppInstanceUserEndpoint/EndpointIdTooLong", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.DescribeAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.DescribeAppInstanceUserEndpointInput{AppInstanceUserArn: s(f.user), EndpointId: long(65)})
			return err
		}, badRequest, "EndpointId"},
		{"DescribeAppInstanceUserEndpoint/Missing", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.DescribeAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.DescribeAppInstanceUserEndpointInput{AppInstanceUserArn: s(f.user), EndpointId: s("no-such-endpoint")})
			return err
		}, forbidden, ""},

		// GetAppInstanceRetentionSettings
		{"GetAppInstanceRetentionSettings/ArnPattern", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.GetAppInstanceRetentionSettings(t.Context(), &chimesdkidentity.GetAppInstanceRetentionSettingsInput{AppInstanceArn: s("arn:aws")})
			return err
		}, badRequest, "AppInstanceArn"},
		{"GetAppInstanceRetentionSettings/Missing", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.GetAppInstanceRetentionSettings(t.Context(), &chimesdkidentity.GetAppInstanceRetentionSettingsInput{AppInstanceArn: s(missingAppInstance)})
			return err
		}, forbidden, ""},

		// ListAppInstanceAdmins
		{"ListAppInstanceAdmins/MaxResultsZero", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.ListAppInstanceAdmins(t.Context(), &chimesdkidentity.ListAppInstanceAdminsInput{AppInstanceArn: s(f.ai), MaxResults: aws.Int32(0)})
			return err
		}, badRequest, "MaxResults"},
		{"ListAppInstanceAdmins/MaxResults51", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.ListAppInstanceAdmins(t.Context(), &chimesdkidentity.ListAppInstanceAdminsInput{AppInstanceArn: s(f.ai), MaxResults: aws.Int32(51)})
			return err
		}, badRequest, "MaxResults"},
		{"ListAppInstanceAdmins/BadNextToken", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.ListAppInstanceAdmins(t.Context(), &chimesdkidentity.ListAppInstanceAdminsInput{AppInstanceArn: s(f.ai), NextToken: s("not-a-token")})
			return err
		}, badRequest, ""},
		{"ListAppInstanceAdmins/NextTokenTooLong", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.ListAppInstanceAdmins(t.Context(), &chimesdkidentity.ListAppInstanceAdminsInput{AppInstanceArn: s(f.ai), NextToken: long(2049)})
			return err
		}, badRequest, "NextToken"},
		{"ListAppInstanceAdmins/MissingAppInstance", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.ListAppInstanceAdmins(t.Context(), &chimesdkidentity.ListAppInstanceAdminsInput{AppInstanceArn: s(missingAppInstance)})
			return err
		}, forbidden, ""},

		// ListAppInstanceBots
		{"ListAppInstanceBots/MaxResultsNegative", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.ListAppInstanceBots(t.Context(), &chimesdkidentity.ListAppInstanceBotsInput{AppInstanceArn: s(f.ai), MaxResults: aws.Int32(-1)})
			return err
		}, badRequest, "MaxResults"},
		{"ListAppInstanceBots/BadNextToken", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.ListAppInstanceBots(t.Context(), &chimesdkidentity.ListAppInstanceBotsInput{AppInstanceArn: s(f.ai), NextToken: s("c1.!!!")})
			return err
		}, badRequest, ""},
		{"ListAppInstanceBots/AppInstanceArnMissing", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := raw.ListAppInstanceBots(t.Context(), &chimesdkidentity.ListAppInstanceBotsInput{})
			return err
		}, badRequest, "AppInstanceArn"},
		{"ListAppInstanceBots/MissingAppInstance", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.ListAppInstanceBots(t.Context(), &chimesdkidentity.ListAppInstanceBotsInput{AppInstanceArn: s(missingAppInstance)})
			return err
		}, forbidden, ""},

		// ListAppInstanceUserEndpoints
		{"ListAppInstanceUserEndpoints/MaxResults51", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.ListAppInstanceUserEndpoints(t.Context(), &chimesdkidentity.ListAppInstanceUserEndpointsInput{AppInstanceUserArn: s(f.user), MaxResults: aws.Int32(51)})
			return err
		}, badRequest, "MaxResults"},
		{"ListAppInstanceUserEndpoints/BadNextToken", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.ListAppInstanceUserEndpoints(t.Context(), &chimesdkidentity.ListAppInstanceUserEndpointsInput{AppInstanceUserArn: s(f.user), NextToken: s("garbage")})
			return err
		}, badRequest, ""},
		{"ListAppInstanceUserEndpoints/MissingUser", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.ListAppInstanceUserEndpoints(t.Context(), &chimesdkidentity.ListAppInstanceUserEndpointsInput{AppInstanceUserArn: s(missingUser)})
			return err
		}, forbidden, ""},

		// ListAppInstanceUsers
		{"ListAppInstanceUsers/MaxResultsZero", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.ListAppInstanceUsers(t.Context(), &chimesdkidentity.ListAppInstanceUsersInput{AppInstanceArn: s(f.ai), MaxResults: aws.Int32(0)})
			return err
		}, badRequest, "MaxResults"},
		{"ListAppInstanceUsers/BadNextToken", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.ListAppInstanceUsers(t.Context(), &chimesdkidentity.ListAppInstanceUsersInput{AppInstanceArn: s(f.ai), NextToken: s("eyJ0b2tlbiI6MX0=")})
			return err
		}, badRequest, ""},
		{"ListAppInstanceUsers/AppInstanceArnMissing", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := raw.ListAppInstanceUsers(t.Context(), &chimesdkidentity.ListAppInstanceUsersInput{})
			return err
		}, badRequest, "AppInstanceArn"},
		{"ListAppInstanceUsers/MissingAppInstance", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.ListAppInstanceUsers(t.Context(), &chimesdkidentity.ListAppInstanceUsersInput{AppInstanceArn: s(missingAppInstance)})
			return err
		}, forbidden, ""},

		// ListAppInstances
		{"ListAppInstances/MaxResultsZero", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.ListAppInstances(t.Context(), &chimesdkidentity.ListAppInstancesInput{MaxResults: aws.Int32(0)})
			return err
		}, badRequest, "MaxResults"},
		{"ListAppInstances/MaxResults51", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.ListAppInstances(t.Context(), &chimesdkidentity.ListAppInstancesInput{MaxResults: aws.Int32(51)})
			return err
		}, badRequest, "MaxResults"},
		{"ListAppInstances/BadNextToken", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.ListAppInstances(t.Context(), &chimesdkidentity.ListAppInstancesInput{NextToken: s("c1.")})
			return err
		}, badRequest, ""},

		// ListTagsForResource, TagResource and UntagResource: see
		// TestTaggingErrors.

		// PutAppInstanceRetentionSettings
		{"PutAppInstanceRetentionSettings/RetentionDaysZero", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.PutAppInstanceRetentionSettings(t.Context(), &chimesdkidentity.PutAppInstanceRetentionSettingsInput{AppInstanceArn: s(f.ai),
				AppInstanceRetentionSettings: &types.AppInstanceRetentionSettings{ChannelRetentionSettings: &types.ChannelRetentionSettings{RetentionDays: aws.Int32(0)}}})
			return err
		}, badRequest, "AppInstanceRetentionSettings.ChannelRetentionSettings.RetentionDays"},
		{"PutAppInstanceRetentionSettings/RetentionDaysTooMany", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.PutAppInstanceRetentionSettings(t.Context(), &chimesdkidentity.PutAppInstanceRetentionSettingsInput{AppInstanceArn: s(f.ai),
				AppInstanceRetentionSettings: &types.AppInstanceRetentionSettings{ChannelRetentionSettings: &types.ChannelRetentionSettings{RetentionDays: aws.Int32(5476)}}})
			return err
		}, badRequest, "AppInstanceRetentionSettings.ChannelRetentionSettings.RetentionDays"},
		{"PutAppInstanceRetentionSettings/SettingsMissing", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := raw.PutAppInstanceRetentionSettings(t.Context(), &chimesdkidentity.PutAppInstanceRetentionSettingsInput{AppInstanceArn: s(f.ai)})
			return err
		}, badRequest, "AppInstanceRetentionSettings"},
		{"PutAppInstanceRetentionSettings/MissingAppInstance", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.PutAppInstanceRetentionSettings(t.Context(), &chimesdkidentity.PutAppInstanceRetentionSettingsInput{AppInstanceArn: s(missingAppInstance),
				AppInstanceRetentionSettings: &types.AppInstanceRetentionSettings{ChannelRetentionSettings: &types.ChannelRetentionSettings{RetentionDays: aws.Int32(1)}}})
			return err
		}, forbidden, ""},

		// PutAppInstanceUserExpirationSettings
		{"PutAppInstanceUserExpirationSettings/CriterionEnum", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.PutAppInstanceUserExpirationSettings(t.Context(), &chimesdkidentity.PutAppInstanceUserExpirationSettingsInput{AppInstanceUserArn: s(f.user),
				ExpirationSettings: &types.ExpirationSettings{ExpirationDays: aws.Int32(1), ExpirationCriterion: "LAST_MESSAGE_TIMESTAMP"}})
			return err
		}, badRequest, "ExpirationSettings.ExpirationCriterion"},
		{"PutAppInstanceUserExpirationSettings/DaysTooMany", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.PutAppInstanceUserExpirationSettings(t.Context(), &chimesdkidentity.PutAppInstanceUserExpirationSettingsInput{AppInstanceUserArn: s(f.user),
				ExpirationSettings: &types.ExpirationSettings{ExpirationDays: aws.Int32(5476), ExpirationCriterion: types.ExpirationCriterionCreatedTimestamp}})
			return err
		}, badRequest, "ExpirationSettings.ExpirationDays"},
		{"PutAppInstanceUserExpirationSettings/DaysMissing", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := raw.PutAppInstanceUserExpirationSettings(t.Context(), &chimesdkidentity.PutAppInstanceUserExpirationSettingsInput{AppInstanceUserArn: s(f.user),
				ExpirationSettings: &types.ExpirationSettings{ExpirationCriterion: types.ExpirationCriterionCreatedTimestamp}})
			return err
		}, badRequest, "ExpirationSettings.ExpirationDays"},
		{"PutAppInstanceUserExpirationSettings/MissingUser", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.PutAppInstanceUserExpirationSettings(t.Context(), &chimesdkidentity.PutAppInstanceUserExpirationSettingsInput{AppInstanceUserArn: s(missingUser),
				ExpirationSettings: &types.ExpirationSettings{ExpirationDays: aws.Int32(1), ExpirationCriterion: types.ExpirationCriterionCreatedTimestamp}})
			return err
		}, forbidden, ""},

		// RegisterAppInstanceUserEndpoint
		{"RegisterAppInstanceUserEndpoint/TypeEnum", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.RegisterAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.RegisterAppInstanceUserEndpointInput{AppInstanceUserArn: s(f.user),
				Type: "SMS", ResourceArn: s(snsPlatformAp), EndpointAttributes: &types.EndpointAttributes{DeviceToken: s("d")}})
			return err
		}, badRequest, "Type"},
		{"RegisterAppInstanceUserEndpoint/AllowMessagesEnum", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.RegisterAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.RegisterAppInstanceUserEndpointInput{AppInstanceUserArn: s(f.user),
				Type: types.AppInstanceUserEndpointTypeGcm, ResourceArn: s(snsPlatformAp), EndpointAttributes: &types.EndpointAttributes{DeviceToken: s("d")}, AllowMessages: "SOME"})
			return err
		}, badRequest, "AllowMessages"},
		{"RegisterAppInstanceUserEndpoint/ResourceArnPattern", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.RegisterAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.RegisterAppInstanceUserEndpointInput{AppInstanceUserArn: s(f.user),
				Type: types.AppInstanceUserEndpointTypeGcm, ResourceArn: s("sns-app"), EndpointAttributes: &types.EndpointAttributes{DeviceToken: s("d")}})
			return err
		}, badRequest, "ResourceArn"},
		{"RegisterAppInstanceUserEndpoint/DeviceTokenEmpty", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.RegisterAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.RegisterAppInstanceUserEndpointInput{AppInstanceUserArn: s(f.user),
				Type: types.AppInstanceUserEndpointTypeGcm, ResourceArn: s(snsPlatformAp), EndpointAttributes: &types.EndpointAttributes{DeviceToken: s("")}})
			return err
		}, badRequest, "EndpointAttributes.DeviceToken"},
		{"RegisterAppInstanceUserEndpoint/DeviceTokenMissing", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := raw.RegisterAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.RegisterAppInstanceUserEndpointInput{AppInstanceUserArn: s(f.user),
				Type: types.AppInstanceUserEndpointTypeGcm, ResourceArn: s(snsPlatformAp), EndpointAttributes: &types.EndpointAttributes{}})
			return err
		}, badRequest, "EndpointAttributes.DeviceToken"},
		{"RegisterAppInstanceUserEndpoint/VoipTokenOnGCM", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.RegisterAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.RegisterAppInstanceUserEndpointInput{AppInstanceUserArn: s(f.user),
				Type: types.AppInstanceUserEndpointTypeGcm, ResourceArn: s(snsPlatformAp), EndpointAttributes: &types.EndpointAttributes{DeviceToken: s("d"), VoipDeviceToken: s("v")}})
			return err
		}, badRequest, ""},
		{"RegisterAppInstanceUserEndpoint/MissingUser", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.RegisterAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.RegisterAppInstanceUserEndpointInput{AppInstanceUserArn: s(missingUser),
				Type: types.AppInstanceUserEndpointTypeGcm, ResourceArn: s(snsPlatformAp), EndpointAttributes: &types.EndpointAttributes{DeviceToken: s("d")}})
			return err
		}, forbidden, ""},

		// UpdateAppInstance
		{"UpdateAppInstance/NameTooLong", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.UpdateAppInstance(t.Context(), &chimesdkidentity.UpdateAppInstanceInput{AppInstanceArn: s(f.ai), Name: long(257), Metadata: s("")})
			return err
		}, badRequest, "Name"},
		{"UpdateAppInstance/MetadataMissing", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := raw.UpdateAppInstance(t.Context(), &chimesdkidentity.UpdateAppInstanceInput{AppInstanceArn: s(f.ai), Name: s("n")})
			return err
		}, badRequest, "Metadata"},
		{"UpdateAppInstance/Missing", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.UpdateAppInstance(t.Context(), &chimesdkidentity.UpdateAppInstanceInput{AppInstanceArn: s(missingAppInstance), Name: s("n"), Metadata: s("")})
			return err
		}, forbidden, ""},

		// UpdateAppInstanceBot
		{"UpdateAppInstanceBot/MetadataTooLong", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.UpdateAppInstanceBot(t.Context(), &chimesdkidentity.UpdateAppInstanceBotInput{AppInstanceBotArn: s(f.bot), Name: s("n"), Metadata: long(1025)})
			return err
		}, badRequest, "Metadata"},
		{"UpdateAppInstanceBot/LexBotAliasArnPattern", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.UpdateAppInstanceBot(t.Context(), &chimesdkidentity.UpdateAppInstanceBotInput{AppInstanceBotArn: s(f.bot), Name: s("n"), Metadata: s(""), Configuration: lexConfig("lex")})
			return err
		}, badRequest, "Configuration.Lex.LexBotAliasArn"},
		{"UpdateAppInstanceBot/Missing", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.UpdateAppInstanceBot(t.Context(), &chimesdkidentity.UpdateAppInstanceBotInput{AppInstanceBotArn: s(missingBot), Name: s("n"), Metadata: s("")})
			return err
		}, forbidden, ""},

		// UpdateAppInstanceUser
		{"UpdateAppInstanceUser/NameBlank", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.UpdateAppInstanceUser(t.Context(), &chimesdkidentity.UpdateAppInstanceUserInput{AppInstanceUserArn: s(f.user), Name: s("\t \n"), Metadata: s("")})
			return err
		}, badRequest, "Name"},
		{"UpdateAppInstanceUser/NameMissing", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := raw.UpdateAppInstanceUser(t.Context(), &chimesdkidentity.UpdateAppInstanceUserInput{AppInstanceUserArn: s(f.user), Metadata: s("")})
			return err
		}, badRequest, "Name"},
		{"UpdateAppInstanceUser/Missing", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.UpdateAppInstanceUser(t.Context(), &chimesdkidentity.UpdateAppInstanceUserInput{AppInstanceUserArn: s(missingUser), Name: s("n"), Metadata: s("")})
			return err
		}, forbidden, ""},

		// UpdateAppInstanceUserEndpoint
		{"UpdateAppInstanceUserEndpoint/AllowMessagesEnum", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.UpdateAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.UpdateAppInstanceUserEndpointInput{AppInstanceUserArn: s(f.user), EndpointId: s(f.endpoint), AllowMessages: "all"})
			return err
		}, badRequest, "AllowMessages"},
		{"UpdateAppInstanceUserEndpoint/NameTooLong", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.UpdateAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.UpdateAppInstanceUserEndpointInput{AppInstanceUserArn: s(f.user), EndpointId: s(f.endpoint), Name: long(1601)})
			return err
		}, badRequest, "Name"},
		{"UpdateAppInstanceUserEndpoint/Missing", func(t *testing.T, c *chimesdkidentity.Client) error {
			_, err := c.UpdateAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.UpdateAppInstanceUserEndpointInput{AppInstanceUserArn: s(f.user), EndpointId: s("no-such-endpoint"), Name: s("n")})
			return err
		}, forbidden, ""},
	}

	t.Run("cases", func(t *testing.T) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				err := tc.call(t, e.id)
				if tc.want == badRequest {
					wantBadRequest(t, err, tc.member)
				} else {
					wantError(t, err, tc.want)
				}
			})
		}
	})

	wantFixtureUntouched(t, e, f)
}

// wantFixtureUntouched checks that refused calls changed nothing.
func wantFixtureUntouched(t *testing.T, e *env, f errorFixture) {
	t.Helper()
	s := aws.String
	apps, err := e.id.ListAppInstances(t.Context(), &chimesdkidentity.ListAppInstancesInput{})
	mustOK(t, err, "ListAppInstances")
	if len(apps.AppInstances) != 2 {
		t.Errorf("%d AppInstances after the refused calls, want 2", len(apps.AppInstances))
	}
	d, err := e.id.DescribeAppInstance(t.Context(), &chimesdkidentity.DescribeAppInstanceInput{AppInstanceArn: s(f.ai)})
	mustOK(t, err, "DescribeAppInstance")
	if aws.ToString(d.AppInstance.Name) != "Errors" {
		t.Errorf("AppInstance renamed to %q", aws.ToString(d.AppInstance.Name))
	}
	users, err := e.id.ListAppInstanceUsers(t.Context(), &chimesdkidentity.ListAppInstanceUsersInput{AppInstanceArn: s(f.ai)})
	mustOK(t, err, "ListAppInstanceUsers")
	if len(users.AppInstanceUsers) != 1 || aws.ToString(users.AppInstanceUsers[0].Name) != "Fixture user" {
		t.Errorf("users after the refused calls: %+v", users.AppInstanceUsers)
	}
	bots, err := e.id.ListAppInstanceBots(t.Context(), &chimesdkidentity.ListAppInstanceBotsInput{AppInstanceArn: s(f.ai)})
	mustOK(t, err, "ListAppInstanceBots")
	if len(bots.AppInstanceBots) != 1 || aws.ToString(bots.AppInstanceBots[0].Name) != "Fixture bot" {
		t.Errorf("bots after the refused calls: %+v", bots.AppInstanceBots)
	}
	admins, err := e.id.ListAppInstanceAdmins(t.Context(), &chimesdkidentity.ListAppInstanceAdminsInput{AppInstanceArn: s(f.ai)})
	mustOK(t, err, "ListAppInstanceAdmins")
	if len(admins.AppInstanceAdmins) != 1 {
		t.Errorf("admins after the refused calls: %+v", admins.AppInstanceAdmins)
	}
	eps, err := e.id.ListAppInstanceUserEndpoints(t.Context(), &chimesdkidentity.ListAppInstanceUserEndpointsInput{AppInstanceUserArn: s(f.user)})
	mustOK(t, err, "ListAppInstanceUserEndpoints")
	if len(eps.AppInstanceUserEndpoints) != 1 || eps.AppInstanceUserEndpoints[0].AllowMessages != types.AllowMessagesAll || eps.AppInstanceUserEndpoints[0].Name != nil {
		t.Errorf("endpoints after the refused calls: %+v", eps.AppInstanceUserEndpoints)
	}
	r, err := e.id.GetAppInstanceRetentionSettings(t.Context(), &chimesdkidentity.GetAppInstanceRetentionSettingsInput{AppInstanceArn: s(f.ai)})
	mustOK(t, err, "GetAppInstanceRetentionSettings")
	if r.AppInstanceRetentionSettings.ChannelRetentionSettings != nil {
		t.Errorf("retention settings after the refused calls: %+v", r.AppInstanceRetentionSettings.ChannelRetentionSettings)
	}
	u, err := e.id.DescribeAppInstanceUser(t.Context(), &chimesdkidentity.DescribeAppInstanceUserInput{AppInstanceUserArn: s(f.user)})
	mustOK(t, err, "DescribeAppInstanceUser")
	if u.AppInstanceUser.ExpirationSettings != nil || aws.ToString(u.AppInstanceUser.Name) != "Fixture user" {
		t.Errorf("user after the refused calls: %q %+v", aws.ToString(u.AppInstanceUser.Name), u.AppInstanceUser.ExpirationSettings)
	}
	tags, err := e.id.ListTagsForResource(t.Context(), &chimesdkidentity.ListTagsForResourceInput{ResourceARN: s(f.user)})
	mustOK(t, err, "ListTagsForResource")
	wantTags(t, tags.Tags, map[string]string{})
}

// TestPerUserKeyForbidden calls every identity operation, with a valid
// request on resources that exist, signed with a per-user key: identity
// operations take no bearer, so only the root key may call them.
func TestPerUserKeyForbidden(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := newErrorFixture(t, e)
	s := aws.String
	tag := []types.Tag{{Key: s("k"), Value: s("v")}}
	retention := &types.AppInstanceRetentionSettings{ChannelRetentionSettings: &types.ChannelRetentionSettings{RetentionDays: aws.Int32(1)}}
	expiration := &types.ExpirationSettings{ExpirationDays: aws.Int32(1), ExpirationCriterion: types.ExpirationCriterionCreatedTimestamp}
	calls := map[string]func(c *chimesdkidentity.Client) error{
		"CreateAppInstance": func(c *chimesdkidentity.Client) error {
			_, err := c.CreateAppInstance(t.Context(), &chimesdkidentity.CreateAppInstanceInput{Name: s("Mine")})
			return err
		},
		"CreateAppInstanceAdmin": func(c *chimesdkidentity.Client) error {
			_, err := c.CreateAppInstanceAdmin(t.Context(), &chimesdkidentity.CreateAppInstanceAdminInput{AppInstanceArn: s(f.ai), AppInstanceAdminArn: s(f.bot)})
			return err
		},
		"CreateAppInstanceBot": func(c *chimesdkidentity.Client) error {
			_, err := c.CreateAppInstanceBot(t.Context(), &chimesdkidentity.CreateAppInstanceBotInput{AppInstanceArn: s(f.ai), Configuration: lexConfig(lexAlias)})
			return err
		},
		"CreateAppInstanceUser": func(c *chimesdkidentity.Client) error {
			_, err := c.CreateAppInstanceUser(t.Context(), &chimesdkidentity.CreateAppInstanceUserInput{AppInstanceArn: s(f.ai), AppInstanceUserId: s("sneaky"), Name: s("Sneaky")})
			return err
		},
		"DeleteAppInstance": func(c *chimesdkidentity.Client) error {
			_, err := c.DeleteAppInstance(t.Context(), &chimesdkidentity.DeleteAppInstanceInput{AppInstanceArn: s(f.ai)})
			return err
		},
		"DeleteAppInstanceAdmin": func(c *chimesdkidentity.Client) error {
			_, err := c.DeleteAppInstanceAdmin(t.Context(), &chimesdkidentity.DeleteAppInstanceAdminInput{AppInstanceArn: s(f.ai), AppInstanceAdminArn: s(f.user)})
			return err
		},
		"DeleteAppInstanceBot": func(c *chimesdkidentity.Client) error {
			_, err := c.DeleteAppInstanceBot(t.Context(), &chimesdkidentity.DeleteAppInstanceBotInput{AppInstanceBotArn: s(f.bot)})
			return err
		},
		"DeleteAppInstanceUser": func(c *chimesdkidentity.Client) error {
			_, err := c.DeleteAppInstanceUser(t.Context(), &chimesdkidentity.DeleteAppInstanceUserInput{AppInstanceUserArn: s(f.user)})
			return err
		},
		"DeregisterAppInstanceUserEndpoint": func(c *chimesdkidentity.Client) error {
			_, err := c.DeregisterAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.DeregisterAppInstanceUserEndpointInput{AppInstanceUserArn: s(f.user), EndpointId: s(f.endpoint)})
			return err
		},
		"DescribeAppInstance": func(c *chimesdkidentity.Client) error {
			_, err := c.DescribeAppInstance(t.Context(), &chimesdkidentity.DescribeAppInstanceInput{AppInstanceArn: s(f.ai)})
			return err
		},
		"DescribeAppInstanceAdmin": func(c *chimesdkidentity.Client) error {
			_, err := c.DescribeAppInstanceAdmin(t.Context(), &chimesdkidentity.DescribeAppInstanceAdminInput{AppInstanceArn: s(f.ai), AppInstanceAdminArn: s(f.user)})
			return err
		},
		"DescribeAppInstanceBot": func(c *chimesdkidentity.Client) error {
			_, err := c.DescribeAppInstanceBot(t.Context(), &chimesdkidentity.DescribeAppInstanceBotInput{AppInstanceBotArn: s(f.bot)})
			return err
		},
		"DescribeAppInstanceUser": func(c *chimesdkidentity.Client) error {
			_, err := c.DescribeAppInstanceUser(t.Context(), &chimesdkidentity.DescribeAppInstanceUserInput{AppInstanceUserArn: s(f.user)})
			return err
		},
		"DescribeAppInstanceUserEndpoint": func(c *chimesdkidentity.Client) error {
			_, err := c.DescribeAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.DescribeAppInstanceUserEndpointInput{AppInstanceUserArn: s(f.user), EndpointId: s(f.endpoint)})
			return err
		},
		"GetAppInstanceRetentionSettings": func(c *chimesdkidentity.Client) error {
			_, err := c.GetAppInstanceRetentionSettings(t.Context(), &chimesdkidentity.GetAppInstanceRetentionSettingsInput{AppInstanceArn: s(f.ai)})
			return err
		},
		"ListAppInstanceAdmins": func(c *chimesdkidentity.Client) error {
			_, err := c.ListAppInstanceAdmins(t.Context(), &chimesdkidentity.ListAppInstanceAdminsInput{AppInstanceArn: s(f.ai)})
			return err
		},
		"ListAppInstanceBots": func(c *chimesdkidentity.Client) error {
			_, err := c.ListAppInstanceBots(t.Context(), &chimesdkidentity.ListAppInstanceBotsInput{AppInstanceArn: s(f.ai)})
			return err
		},
		"ListAppInstanceUserEndpoints": func(c *chimesdkidentity.Client) error {
			_, err := c.ListAppInstanceUserEndpoints(t.Context(), &chimesdkidentity.ListAppInstanceUserEndpointsInput{AppInstanceUserArn: s(f.user)})
			return err
		},
		"ListAppInstanceUsers": func(c *chimesdkidentity.Client) error {
			_, err := c.ListAppInstanceUsers(t.Context(), &chimesdkidentity.ListAppInstanceUsersInput{AppInstanceArn: s(f.ai)})
			return err
		},
		"ListAppInstances": func(c *chimesdkidentity.Client) error {
			_, err := c.ListAppInstances(t.Context(), &chimesdkidentity.ListAppInstancesInput{})
			return err
		},
		"ListTagsForResource": func(c *chimesdkidentity.Client) error {
			_, err := c.ListTagsForResource(t.Context(), &chimesdkidentity.ListTagsForResourceInput{ResourceARN: s(f.user)})
			return err
		},
		"PutAppInstanceRetentionSettings": func(c *chimesdkidentity.Client) error {
			_, err := c.PutAppInstanceRetentionSettings(t.Context(), &chimesdkidentity.PutAppInstanceRetentionSettingsInput{AppInstanceArn: s(f.ai), AppInstanceRetentionSettings: retention})
			return err
		},
		"PutAppInstanceUserExpirationSettings": func(c *chimesdkidentity.Client) error {
			_, err := c.PutAppInstanceUserExpirationSettings(t.Context(), &chimesdkidentity.PutAppInstanceUserExpirationSettingsInput{AppInstanceUserArn: s(f.user), ExpirationSettings: expiration})
			return err
		},
		"RegisterAppInstanceUserEndpoint": func(c *chimesdkidentity.Client) error {
			_, err := c.RegisterAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.RegisterAppInstanceUserEndpointInput{AppInstanceUserArn: s(f.user),
				Type: types.AppInstanceUserEndpointTypeGcm, ResourceArn: s(snsPlatformAp), EndpointAttributes: &types.EndpointAttributes{DeviceToken: s("sneaky-device")}})
			return err
		},
		"TagResource": func(c *chimesdkidentity.Client) error {
			_, err := c.TagResource(t.Context(), &chimesdkidentity.TagResourceInput{ResourceARN: s(f.user), Tags: tag})
			return err
		},
		"UntagResource": func(c *chimesdkidentity.Client) error {
			_, err := c.UntagResource(t.Context(), &chimesdkidentity.UntagResourceInput{ResourceARN: s(f.user), TagKeys: []string{"k"}})
			return err
		},
		"UpdateAppInstance": func(c *chimesdkidentity.Client) error {
			_, err := c.UpdateAppInstance(t.Context(), &chimesdkidentity.UpdateAppInstanceInput{AppInstanceArn: s(f.ai), Name: s("Hijacked"), Metadata: s("")})
			return err
		},
		"UpdateAppInstanceBot": func(c *chimesdkidentity.Client) error {
			_, err := c.UpdateAppInstanceBot(t.Context(), &chimesdkidentity.UpdateAppInstanceBotInput{AppInstanceBotArn: s(f.bot), Name: s("Hijacked"), Metadata: s("")})
			return err
		},
		"UpdateAppInstanceUser": func(c *chimesdkidentity.Client) error {
			_, err := c.UpdateAppInstanceUser(t.Context(), &chimesdkidentity.UpdateAppInstanceUserInput{AppInstanceUserArn: s(f.user), Name: s("Hijacked"), Metadata: s("")})
			return err
		},
		"UpdateAppInstanceUserEndpoint": func(c *chimesdkidentity.Client) error {
			_, err := c.UpdateAppInstanceUserEndpoint(t.Context(), &chimesdkidentity.UpdateAppInstanceUserEndpointInput{AppInstanceUserArn: s(f.user), EndpointId: s(f.endpoint), Name: s("Hijacked")})
			return err
		},
	}
	if len(calls) != 30 {
		t.Fatalf("%d operations, want all 30 of Chime SDK Identity", len(calls))
	}

	// Keys of a user and of a bot; the user is even an AppInstanceAdmin.
	for who, bearer := range map[string]string{"user": f.user, "bot": f.bot} {
		c := chimesdkidentity.NewFromConfig(e.srv.UserConfig(t, bearer))
		for op, call := range calls {
			msg := wantError(t, call(c), "ForbiddenException")
			if msg != "" && !strings.Contains(msg, "not authorized") {
				t.Errorf("%s key, %s: Forbidden for another reason than the key: %s", who, op, msg)
			}
		}
	}

	// Nothing changed.
	wantFixtureUntouched(t, e, f)

	// The same calls with the root key succeed: the requests were valid and
	// the resources there. Deletions last, AppInstance last of all.
	order := []string{
		"CreateAppInstance", "CreateAppInstanceBot", "CreateAppInstanceUser", "DescribeAppInstance", "DescribeAppInstanceAdmin",
		"DescribeAppInstanceBot", "DescribeAppInstanceUser", "DescribeAppInstanceUserEndpoint", "GetAppInstanceRetentionSettings",
		"ListAppInstanceAdmins", "ListAppInstanceBots", "ListAppInstanceUserEndpoints", "ListAppInstanceUsers", "ListAppInstances",
		"ListTagsForResource", "PutAppInstanceRetentionSettings", "PutAppInstanceUserExpirationSettings", "RegisterAppInstanceUserEndpoint",
		"TagResource", "UntagResource", "UpdateAppInstance", "UpdateAppInstanceBot", "UpdateAppInstanceUser", "UpdateAppInstanceUserEndpoint",
		"CreateAppInstanceAdmin", "DeleteAppInstanceAdmin", "DeregisterAppInstanceUserEndpoint", "DeleteAppInstanceBot", "DeleteAppInstanceUser",
		"DeleteAppInstance",
	}
	if len(order) != len(calls) {
		t.Fatalf("root replay lists %d operations, want %d", len(order), len(calls))
	}
	for _, op := range order {
		if err := calls[op](e.id); err != nil {
			t.Errorf("%s with the root key: %v", op, err)
		}
	}
}
