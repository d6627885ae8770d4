package api_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/carillonhq/carillon/api"
	"github.com/carillonhq/carillon/api/identityapi"
	"github.com/carillonhq/carillon/api/messagingapi"
)

// TestAppendJSONIsEncodingJSON checks the generated encoders of every
// shape of both services, reachable from an operation's input or output,
// against encoding/json, on random values: strings that need escaping
// (HTML characters, controls, quotes, U+2028, invalid UTF-8), nil and
// empty lists and maps, zero and non-zero timestamps. The encoders must
// write exactly what encoding/json writes, with and without HTML escaping.
func TestAppendJSONIsEncodingJSON(t *testing.T) {
	var types []reflect.Type
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(rt reflect.Type) {
		switch rt.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map:
			walk(rt.Elem())
		case reflect.Struct:
			if seen[rt] || rt == reflect.TypeOf(api.Timestamp{}) {
				return
			}
			seen[rt] = true
			types = append(types, rt)
			for i := range rt.NumField() {
				walk(rt.Field(i).Type)
			}
		}
	}
	for _, h := range []any{messagingapi.Handlers{}, identityapi.Handlers{}} {
		ht := reflect.TypeOf(h)
		for i := range ht.NumField() {
			ft := ht.Field(i).Type // func(context.Context, *In) (*Out, error)
			walk(ft.In(1))
			if ft.NumOut() == 2 {
				walk(ft.Out(0))
			}
		}
	}
	if len(types) < 100 {
		t.Fatalf("found only %d shapes", len(types))
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, rt := range types {
		for range 200 {
			v := reflect.New(rt)
			fill(r, v.Elem(), 0)
			a, ok := v.Interface().(api.JSONAppender)
			if !ok {
				t.Fatalf("%v has no AppendJSON", rt)
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(v.Interface()); err != nil {
				t.Fatal(err)
			}
			want := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
			if got := a.AppendJSON(nil, false); !bytes.Equal(got, want) {
				t.Fatalf("%v:\n got %s\nwant %s", rt, got, want)
			}
			want, err := json.Marshal(v.Interface())
			if err != nil {
				t.Fatal(err)
			}
			if got := a.AppendJSON([]byte("prefix"), true); !bytes.Equal(got[len("prefix"):], want) {
				t.Fatalf("%v, HTML escaped:\n got %s\nwant %s", rt, got[len("prefix"):], want)
			}
		}
	}
}

var sampleStrings = []string{
	"", "a", "Hello, world", "<b>bold</b> & more", `quote " and back\slash`,
	"controls \x00\x01\x07\x1f\b\f\n\r\t\x7f", "line\u2028para\u2029", "héllo 😀 世界",
	"bad \xff\xfe utf-8", "\xed\xa0\x80 surrogate", "arn:aws:chime:us-east-1:123456789012:app-instance/a/channel/c",
	"trailing \xe2\x82",
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
		n := []int64{0, 1, -1, 50, 1 << 30, -1 << 31, r.Int64N(1 << 40)}[r.IntN(7)]
		if v.Kind() == reflect.Int32 {
			n = int64(int32(n))
		}
		v.SetInt(n)
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 0)
	case reflect.Slice:
		switch r.IntN(4) {
		case 0:
			return // nil
		case 1:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		default:
			n := 1 + r.IntN(3)
			s := reflect.MakeSlice(v.Type(), n, n)
			for i := range n {
				fill(r, s.Index(i), depth+1)
			}
			v.Set(s)
		}
	case reflect.Map:
		switch r.IntN(4) {
		case 0:
			return
		case 1:
			v.Set(reflect.MakeMap(v.Type()))
		default:
			m := reflect.MakeMap(v.Type())
			for range 1 + r.IntN(3) {
				e := reflect.New(v.Type().Elem()).Elem()
				fill(r, e, depth+1)
				m.SetMapIndex(reflect.ValueOf(randomString(r)), e)
			}
			v.Set(m)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(api.Timestamp{}) {
			var at time.Time // the zero time: omitted, as IsZero says
			switch r.IntN(4) {
			case 1:
				at = time.Unix(r.Int64N(4e9)-1e9, r.Int64N(1e9))
			case 2:
				at = time.UnixMilli(r.Int64N(4e12))
			case 3:
				at = time.Unix(r.Int64N(4e9), 0)
			}
			v.Set(reflect.ValueOf(api.Timestamp{Time: at}))
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

// The encoders write nothing for an output the operation has not set.
func TestAppendJSONEmptyShape(t *testing.T) {
	var out messagingapi.ListChannelMessagesResponse
	if got := string(out.AppendJSON(nil, false)); got != "{}" {
		t.Fatalf("got %s", got)
	}
}
