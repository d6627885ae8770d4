package idem_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/carillonhq/carillon/api"
	"github.com/carillonhq/carillon/api/identityapi"
	"github.com/carillonhq/carillon/api/messagingapi"
	"github.com/carillonhq/carillon/internal/idem"
)

// marshalFingerprint is how Fingerprint hashed every request before the
// generated shapes encoded themselves: the fingerprints stored with the
// idempotency records are of this form.
func marshalFingerprint(request any) string {
	b, err := json.Marshal(request)
	if err != nil {
		return ""
	}
	var members map[string]json.RawMessage
	if json.Unmarshal(b, &members) == nil {
		delete(members, "ClientRequestToken")
		b, _ = json.Marshal(members)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// A request's fingerprint is the one stored before: a retry after an
// upgrade matches its record, and a different request does not.
func TestFingerprintIsStable(t *testing.T) {
	typ := messagingapi.ChannelMessageTypeStandard
	in := &messagingapi.SendChannelMessageRequest{
		ChannelArn:         ptr("arn:aws:chime:us-east-1:111122223333:app-instance/a/channel/c"),
		ChimeBearer:        ptr("arn:aws:chime:us-east-1:111122223333:app-instance/a/user/u"),
		ClientRequestToken: ptr("token-1"),
		Content:            ptr("Hello <b>&</b> \u2028 world"),
		Type:               &typ,
		MessageAttributes:  map[string]messagingapi.MessageAttributeValue{"z": {StringValues: []string{"1"}}, "a": {}},
	}
	// Computed with the encoding/json form.
	const want = "3cac3d0a84d89ed25529f51cee660eaf"
	if got := idem.Fingerprint(in); got != want {
		t.Fatalf("fingerprint %s, want %s", got, want)
	}
	in.ClientRequestToken = ptr("token-2")
	if got := idem.Fingerprint(in); got != want {
		t.Fatalf("the token changed the fingerprint: %s", got)
	}
	in.Content = ptr("Hello")
	if got := idem.Fingerprint(in); got == want {
		t.Fatal("a different content has the same fingerprint")
	}
}

// Fingerprint hashes the same bytes as the encoding/json form for every
// input shape of both services, on random values, whatever order the
// generated encoder writes the members in.
func TestFingerprintIsMarshalFingerprint(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	n := 0
	for _, h := range []any{messagingapi.Handlers{}, identityapi.Handlers{}} {
		ht := reflect.TypeOf(h)
		for i := range ht.NumField() {
			in := ht.Field(i).Type.In(1).Elem() // func(context.Context, *In) (*Out, error)
			for range 100 {
				v := reflect.New(in)
				fill(r, v.Elem(), 0)
				if _, ok := v.Interface().(api.JSONAppender); !ok {
					t.Fatalf("%v has no AppendJSON", in)
				}
				if got, want := idem.Fingerprint(v.Interface()), marshalFingerprint(v.Interface()); got != want {
					b, _ := json.Marshal(v.Interface())
					t.Fatalf("%v %s: fingerprint %s, want %s", in, b, got, want)
				}
				n++
			}
		}
	}
	if n < 80*100 {
		t.Fatalf("checked only %d requests", n)
	}
}

func ptr[T any](v T) *T { return &v }

var sampleStrings = []string{
	"", "a", "<b>bold</b> & more", `quote " and back\slash`, `"ClientRequestToken":"x"`, "}", "{", "]", ",",
	"controls \x00\x1f\n\t", "line\u2028para\u2029", "héllo 😀", "bad \xff utf-8",
}

func randomString(r *rand.Rand) string {
	if r.IntN(4) == 0 {
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return string(b)
	}
	return sampleStrings[r.IntN(len(sampleStrings))]
}

// fill sets v to a random value: nil, empty and full lists and maps,
// strings that need escaping or look like JSON.
func fill(r *rand.Rand, v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.Pointer:
		if r.IntN(4) == 0 || depth > 6 {
			return
		}
		p := reflect.New(v.Type().Elem())
		fill(r, p.Elem(), depth+1)
		v.Set(p)
	case reflect.String:
		v.SetString(randomString(r))
	case reflect.Int32, reflect.Int64:
		v.SetInt([]int64{0, 1, -1, 50, 1 << 30}[r.IntN(5)])
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 0)
	case reflect.Slice:
		if r.IntN(3) == 0 {
			return
		}
		n := r.IntN(3)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			fill(r, s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Map:
		if r.IntN(3) == 0 {
			return
		}
		m := reflect.MakeMap(v.Type())
		for range r.IntN(3) {
			e := reflect.New(v.Type().Elem()).Elem()
			fill(r, e, depth+1)
			m.SetMapIndex(reflect.ValueOf(randomString(r)), e)
		}
		v.Set(m)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(api.Timestamp{}) {
			if r.IntN(2) == 0 {
				v.Set(reflect.ValueOf(api.Timestamp{Time: time.UnixMilli(r.Int64N(4e12))}))
			}
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(r, v.Field(i), depth+1)
			}
		}
	default:
		panic("fill: " + v.Type().String())
	}
}

// unsorted writes its members out of order, as encoding/json writes a
// struct whose fields are not sorted by name.
type unsorted struct{}

func (unsorted) AppendJSON(b []byte, _ bool) []byte {
	return append(b, `{"b":1,"ClientRequestToken":"t","a":{"y":[1,",","]"],"x":"}\"{"},"B":null}`...)
}

func TestFingerprintSortsMembers(t *testing.T) {
	sum := sha256.Sum256([]byte(`{"B":null,"a":{"y":[1,",","]"],"x":"}\"{"},"b":1}`))
	if got, want := idem.Fingerprint(unsorted{}), hex.EncodeToString(sum[:16]); got != want {
		t.Fatalf("fingerprint %s, want %s", got, want)
	}
}

// BenchmarkFingerprint compares Fingerprint of a SendChannelMessage
// request with the encoding/json form it replaced, in the same run.
func BenchmarkFingerprint(b *testing.B) {
	typ := messagingapi.ChannelMessageTypeStandard
	persistence := messagingapi.ChannelMessagePersistenceTypePersistent
	in := &messagingapi.SendChannelMessageRequest{
		ChannelArn:         ptr("arn:aws:chime:us-east-1:111122223333:app-instance/a/channel/c"),
		ChimeBearer:        ptr("arn:aws:chime:us-east-1:111122223333:app-instance/a/user/u"),
		ClientRequestToken: ptr("5d2f1c3e-8a0b-4c1e-9f6d-0e7a1b2c3d4e"),
		Content:            ptr("Hello from the benchmark"),
		Type:               &typ,
		Persistence:        &persistence,
	}
	b.Run("generated", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			idem.Fingerprint(in)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			marshalFingerprint(in)
		}
	})
}
