package restjson

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/carillonhq/carillon/api"
	"github.com/carillonhq/carillon/api/identityapi"
	"github.com/carillonhq/carillon/api/messagingapi"
)

// FuzzUnmarshalIsDecodeBody checks the handler's fast path: json.Unmarshal
// accepts exactly the bodies decodeBody accepts, and decodes them to the
// same input.
func FuzzUnmarshalIsDecodeBody(f *testing.F) {
	for _, body := range []string{
		`{"Content":"hi","Type":"STANDARD","Persistence":"PERSISTENT","ClientRequestToken":"tok-1","MessageAttributes":{"a":{"StringValues":["b"]}}}`,
		`{"Content":"hi"} `, `{"Content":"hi"} {}`, `{"Content":5}`, `{"content":"case"}`, `[1]`, `null`,
		`{"Target":[{"MemberArn":"x"}],"Target":[]}`, "{\"Content\":\"\\ud800 \\u00e9 \xff\"}",
		`{"PushNotification":{"Title":"t","Type":"VOIP"}}`, `{"Name":"n","Tags":[{"Key":"k","Value":1}]}`,
		`{"ExpirationSettings":{"ExpirationDays":1.5}}`, `{"ExpirationSettings":{"ExpirationDays":2147483648}}`,
		`{"Name":"n","Metadata":null}`, ` {"Name":"n"}`, `{"Name":"n"`, `{"Name":"n"}]`,
	} {
		f.Add(body)
	}
	newInputs := []func() api.Input{
		func() api.Input { return new(messagingapi.SendChannelMessageRequest) },
		func() api.Input { return new(messagingapi.CreateChannelRequest) },
		func() api.Input { return new(identityapi.CreateAppInstanceRequest) },
		func() api.Input { return new(identityapi.PutAppInstanceUserExpirationSettingsRequest) },
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, newIn := range newInputs {
			fast, slow := newIn(), newIn()
			fastErr := json.Unmarshal([]byte(body), fast)
			slowErr := decodeBody([]byte(body), slow)
			if (fastErr == nil) != (slowErr == nil) {
				t.Fatalf("%T %q: Unmarshal says %v, decodeBody %v", fast, body, fastErr, slowErr)
			}
			if fastErr == nil && !reflect.DeepEqual(fast, slow) {
				t.Fatalf("%T %q: decoded differently:\n%+v\n%+v", fast, body, fast, slow)
			}
		}
	})
}
