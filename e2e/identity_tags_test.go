package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity/types"
)

func TestTagging(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ai := e.createAppInstance(t, "Tagged")
	resources := map[string]string{
		"AppInstance":     ai,
		"AppInstanceUser": e.createUser(t, ai, "tagged-user", "Tagged user"),
		"AppInstanceBot":  e.createBot(t, ai, "Tagged bot"),
	}
	for kind, arn := range resources {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			list := func() []types.Tag {
				t.Helper()
				out, err := e.id.ListTagsForResource(t.Context(), &chimesdkidentity.ListTagsForResourceInput{ResourceARN: aws.String(arn)})
				mustOK(t, err, "ListTagsForResource")
				return out.Tags
			}
			tag := func(kv ...string) error {
				in := &chimesdkidentity.TagResourceInput{ResourceARN: aws.String(arn)}
				for i := 0; i < len(kv); i += 2 {
					in.Tags = append(in.Tags, types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
				}
				_, err := e.id.TagResource(t.Context(), in)
				return err
			}
			untag := func(keys ...string) {
				t.Helper()
				_, err := e.id.UntagResource(t.Context(), &chimesdkidentity.UntagResourceInput{ResourceARN: aws.String(arn), TagKeys: keys})
				mustOK(t, err, "UntagResource %v", keys)
			}

			// No tags: the list is present and empty.
			wantTags(t, list(), map[string]string{})

			mustOK(t, tag("env", "prod", "owner", "ops", "tier", "1"), "TagResource")
			wantTags(t, list(), map[string]string{"env": "prod", "owner": "ops", "tier": "1"})

			// Tagging a key again replaces its value.
			mustOK(t, tag("env", "staging", "cost", "42"), "TagResource again")
			wantTags(t, list(), map[string]string{"env": "staging", "owner": "ops", "tier": "1", "cost": "42"})

			// Keys the resource lacks are ignored.
			untag("owner", "never-set")
			wantTags(t, list(), map[string]string{"env": "staging", "tier": "1", "cost": "42"})
			untag("env", "tier", "cost")
			wantTags(t, list(), map[string]string{})

			// 50 tags fit; a 51st is over the limit, but replacing one
			// of the 50 is not.
			var kv []string
			for i := range 50 {
				kv = append(kv, fmt.Sprintf("key-%02d", i), "v")
			}
			mustOK(t, tag(kv[:60]...), "TagResource 30 tags")
			mustOK(t, tag(kv[60:]...), "TagResource 20 more tags")
			if n := len(list()); n != 50 {
				t.Fatalf("%d tags after tagging 50", n)
			}
			wantError(t, tag("key-50", "v"), "ResourceLimitExceededException")
			wantError(t, tag("key-00", "w", "key-50", "v"), "ResourceLimitExceededException")
			mustOK(t, tag("key-00", "replaced"), "TagResource replacing at the limit")
			got := list()
			if len(got) != 50 {
				t.Errorf("%d tags after the limit was refused, want 50", len(got))
			}
			for _, tg := range got {
				if aws.ToString(tg.Key) == "key-00" && aws.ToString(tg.Value) != "replaced" {
					t.Errorf("key-00 = %q, want replaced", aws.ToString(tg.Value))
				}
			}
			var keys []string
			for i := range 50 {
				keys = append(keys, fmt.Sprintf("key-%02d", i))
			}
			untag(keys...)
			wantTags(t, list(), map[string]string{})
		})
	}
}

func TestTaggingErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ai := e.createAppInstance(t, "Tag errors")
	user := e.createUser(t, ai, "u", "U")
	one := []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}
	var fiftyOne []types.Tag
	for i := range 51 {
		fiftyOne = append(fiftyOne, types.Tag{Key: aws.String(fmt.Sprintf("k%d", i)), Value: aws.String("v")})
	}
	tag := func(arn string, tags []types.Tag) error {
		_, err := e.id.TagResource(t.Context(), &chimesdkidentity.TagResourceInput{ResourceARN: aws.String(arn), Tags: tags})
		return err
	}

	wantBadRequest(t, tag(user, fiftyOne), "Tags")
	wantBadRequest(t, tag(user, []types.Tag{{Key: aws.String("aws:reserved"), Value: aws.String("v")}}), "")
	wantBadRequest(t, tag(user, []types.Tag{{Key: aws.String("AWS:Reserved"), Value: aws.String("v")}}), "")
	wantBadRequest(t, tag(user, []types.Tag{{Key: aws.String(strings.Repeat("k", 129)), Value: aws.String("v")}}), "Tags.member.1.Key")
	wantBadRequest(t, tag(user, []types.Tag{{Key: aws.String("k"), Value: aws.String(strings.Repeat("v", 257))}}), "Tags.member.1.Value")
	wantBadRequest(t, tag(user, []types.Tag{{Key: aws.String(""), Value: aws.String("v")}}), "Tags.member.1.Key")
	wantBadRequest(t, tag(user, []types.Tag{{Key: aws.String("k"), Value: aws.String("")}}), "Tags.member.1.Value")
	wantBadRequest(t, tag(user, []types.Tag{}), "Tags")
	wantBadRequest(t, tag(user, []types.Tag{{Key: aws.String("k"), Value: aws.String("1")}, {Key: aws.String("k"), Value: aws.String("2")}}), "")
	wantBadRequest(t, tag("not-an-arn", one), "ResourceARN")
	wantBadRequest(t, tag("arn:aws:sns:us-east-1:123456789012:topic", one), "")
	wantError(t, tag(missingAppInstance, one), "ForbiddenException")
	wantError(t, tag(ai+"/user/nobody", one), "ForbiddenException")
	wantError(t, tag(ai+"/bot/00000000-0000-4000-8000-000000000000", one), "ForbiddenException")

	// Nothing was tagged by the refused requests.
	out, err := e.id.ListTagsForResource(t.Context(), &chimesdkidentity.ListTagsForResourceInput{ResourceARN: aws.String(user)})
	mustOK(t, err, "ListTagsForResource")
	wantTags(t, out.Tags, map[string]string{})

	// CreateAppInstance, CreateAppInstanceUser and CreateAppInstanceBot
	// check their Tags like TagResource.
	_, err = e.id.CreateAppInstance(t.Context(), &chimesdkidentity.CreateAppInstanceInput{Name: aws.String("x"), Tags: fiftyOne})
	wantBadRequest(t, err, "Tags")
	_, err = e.id.CreateAppInstance(t.Context(), &chimesdkidentity.CreateAppInstanceInput{Name: aws.String("x"), Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("v")}}})
	wantBadRequest(t, err, "")
	_, err = e.id.CreateAppInstanceUser(t.Context(), &chimesdkidentity.CreateAppInstanceUserInput{
		AppInstanceArn: aws.String(ai), AppInstanceUserId: aws.String("tagged"), Name: aws.String("x"),
		Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("v")}},
	})
	wantBadRequest(t, err, "")
	_, err = e.id.CreateAppInstanceBot(t.Context(), &chimesdkidentity.CreateAppInstanceBotInput{
		AppInstanceArn: aws.String(ai), Configuration: lexConfig(lexAlias), Tags: fiftyOne,
	})
	wantBadRequest(t, err, "Tags")
	l, err := e.id.ListAppInstances(t.Context(), &chimesdkidentity.ListAppInstancesInput{})
	mustOK(t, err, "ListAppInstances")
	if len(l.AppInstances) != 1 {
		t.Errorf("refused creates left %d AppInstances, want 1", len(l.AppInstances))
	}

	untag := func(arn string, keys []string) error {
		_, err := e.id.UntagResource(t.Context(), &chimesdkidentity.UntagResourceInput{ResourceARN: aws.String(arn), TagKeys: keys})
		return err
	}
	wantBadRequest(t, untag(user, []string{}), "TagKeys")
	wantBadRequest(t, untag(user, []string{strings.Repeat("k", 129)}), "TagKeys.member.1")
	wantError(t, untag(ai+"/user/nobody", []string{"k"}), "ForbiddenException")

	_, err = e.id.ListTagsForResource(t.Context(), &chimesdkidentity.ListTagsForResourceInput{ResourceARN: aws.String("arn:")})
	wantBadRequest(t, err, "ResourceARN")
	_, err = e.id.ListTagsForResource(t.Context(), &chimesdkidentity.ListTagsForResourceInput{ResourceARN: aws.String(missingAppInstance)})
	wantError(t, err, "ForbiddenException")
}
