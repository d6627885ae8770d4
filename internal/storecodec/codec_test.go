package storecodec

import (
	"database/sql"
	"math"
	"reflect"
	"testing"
	"testing/fstest"
	"time"

	"github.com/carillonhq/carillon"
)

// The columns below are what the stores wrote before this package existed
// (the same strings on SQLite and PostgreSQL): an encoding may not change
// under existing databases, so each must encode to them byte for byte and
// decode from them to the same value.

var at = time.UnixMilli(1764000000123).UTC()

var (
	fullMessage = carillon.Message{ChannelARN: "arn:c", ID: "m1", SubChannelID: "sub", Sender: "arn:u", SenderName: "Ann \x00<b>",
		Content: "héllo \"x\"", Metadata: "md", ContentType: "text/plain", Type: "STANDARD", Persistence: "PERSISTENT",
		Status: "PENDING", StatusDetail: "d", Redacted: true,
		Attributes: map[string][]string{"b": {"2", "3"}, "a": {"1"}},
		Push:       &carillon.PushNotification{Title: "t", Body: "b", Type: "DEFAULT"},
		Target:     "arn:v", Created: at, Updated: at.Add(time.Second), Seq: 42}
	fullMessageColumn = `{"channel_arn":"arn:c","id":"m1","sub_channel_id":"sub","sender":"arn:u","sender_name":"Ann \u0000\u003cb\u003e",` +
		`"content":"héllo \"x\"","metadata":"md","content_type":"text/plain","type":"STANDARD","persistence":"PERSISTENT",` +
		`"status":"PENDING","status_detail":"d","redacted":true,"attributes":{"a":["1"],"b":["2","3"]},` +
		`"push":{"title":"t","body":"b","type":"DEFAULT"},"target":"arn:v","created":1764000000123,"updated":1764000001123,"seq":42}`
	emptyMessageColumn = `{"channel_arn":"","id":"","sub_channel_id":"","sender":"","sender_name":"","content":"","metadata":"",` +
		`"content_type":"","type":"","persistence":"","status":"","status_detail":"","redacted":false,"target":"","seq":0}`

	processors = []carillon.Processor{{Name: "p1", LambdaARN: "arn:aws:lambda:us-east-1:123456789012:function:f",
		InvocationType: "ASYNC", ExecutionOrder: 1, FallbackAction: "ABORT"}}
	processorsColumn = `[{"name":"p1","lambda_arn":"arn:aws:lambda:us-east-1:123456789012:function:f",` +
		`"invocation_type":"ASYNC","execution_order":1,"fallback_action":"ABORT"}]`

	lex = carillon.LexConfiguration{LexBotAliasARN: "arn:lex", LocaleID: "en_US", RespondsTo: "STANDARD_MESSAGES",
		WelcomeIntent: "w", InvokedBy: &carillon.InvokedBy{StandardMessages: "AUTO", TargetedMessages: "ALL"}}
	lexColumn = `{"lexBotAliasArn":"arn:lex","localeId":"en_US","respondsTo":"STANDARD_MESSAGES","welcomeIntent":"w",` +
		`"invokedBy":{"standardMessages":"AUTO","targetedMessages":"ALL"}}`
)

func TestJSONColumns(t *testing.T) {
	tests := []struct {
		name   string
		encode func() (string, error)
		decode func(string) (any, error)
		value  any
		column string
	}{
		{"held message", func() (string, error) { return HeldMessageColumn(&fullMessage) },
			func(c string) (any, error) { return HeldMessage(c) }, fullMessage, fullMessageColumn},
		{"empty held message", func() (string, error) { return HeldMessageColumn(&carillon.Message{}) },
			func(c string) (any, error) { return HeldMessage(c) }, carillon.Message{}, emptyMessageColumn},
		{"processors", func() (string, error) { return ProcessorsColumn(processors) },
			func(c string) (any, error) { return Processors(c) }, processors, processorsColumn},
		{"no processors", func() (string, error) { return ProcessorsColumn(nil) },
			func(c string) (any, error) { return Processors(c) }, []carillon.Processor(nil), "[]"},
		{"lex", func() (string, error) { return LexColumn(lex) },
			func(c string) (any, error) { return Lex(c) }, lex, lexColumn},
		{"no lex", func() (string, error) { return LexColumn(carillon.LexConfiguration{}) },
			func(c string) (any, error) { return Lex(c) }, carillon.LexConfiguration{}, "{}"},
	}
	for _, tt := range tests {
		got, err := tt.encode()
		if err != nil || got != tt.column {
			t.Errorf("%s: encoded %q, %v; want %q", tt.name, got, err, tt.column)
		}
		v, err := tt.decode(tt.column)
		if err != nil || !reflect.DeepEqual(v, tt.value) {
			t.Errorf("%s: decoded %#v, %v; want %#v", tt.name, v, err, tt.value)
		}
		if _, err := tt.decode("not json"); err == nil {
			t.Errorf("%s: decoding a corrupt column succeeded", tt.name)
		}
	}
}

// row is a stand-in for a driver's row: Scan assigns each value to its
// destination as database/sql does for the few types the rows use.
type row []any

func (r row) Scan(dest ...any) error {
	if len(dest) != len(r) {
		panic("column count")
	}
	for i, d := range dest {
		if s, ok := d.(sql.Scanner); ok {
			if err := s.Scan(r[i]); err != nil {
				return err
			}
			continue
		}
		reflect.ValueOf(d).Elem().Set(reflect.ValueOf(r[i]).Convert(reflect.TypeOf(d).Elem()))
	}
	return nil
}

func plain(s *string) any { return s }

func TestMessageRow(t *testing.T) {
	m := fullMessage
	m.SubChannelID, m.LastEdited = "", at.Add(time.Minute)
	attributes, push, err := MessageColumns(&m)
	if err != nil || attributes != `{"a":["1"],"b":["2","3"]}` || push != `{"title":"t","body":"b","type":"DEFAULT"}` {
		t.Fatalf("MessageColumns = %q, %#v, %v", attributes, push, err)
	}
	var r MessageRow
	if err := (row{m.Seq, m.ChannelARN, m.ID, m.SubChannelID, m.Sender, m.SenderName, m.Content, m.Metadata, m.ContentType,
		m.Type, m.Persistence, m.Status, m.StatusDetail, m.Redacted, attributes, push, m.Target,
		m.Created.UnixMilli(), m.Updated.UnixMilli(), m.LastEdited.UnixMilli()}).Scan(r.Dest(plain)...); err != nil {
		t.Fatal(err)
	}
	if got, err := r.Message(); err != nil || !reflect.DeepEqual(got, m) {
		t.Errorf("Message() = %#v, %v; want %#v", got, err, m)
	}

	bare := carillon.Message{ID: "bare", Created: at}
	attributes, push, err = MessageColumns(&bare)
	if err != nil || attributes != "{}" || push != nil {
		t.Fatalf("MessageColumns of a bare message = %q, %#v, %v", attributes, push, err)
	}
	r = MessageRow{}
	if err := (row{int64(0), "", "bare", "", "", "", "", "", "", "", "", "", "", false, attributes, push, "",
		bare.Created.UnixMilli(), nil, nil}).Scan(r.Dest(plain)...); err != nil {
		t.Fatal(err)
	}
	if got, err := r.Message(); err != nil || !reflect.DeepEqual(got, bare) {
		t.Errorf("Message() = %#v, %v; want %#v", got, err, bare)
	}
}

func TestChannelRow(t *testing.T) {
	for _, c := range []carillon.Channel{
		{ARN: "arn:c", Name: "n\x00", Created: at},
		{ARN: "arn:e", Elastic: &carillon.ElasticConfig{MaximumSubChannels: 2, TargetMembershipsPerSubChannel: 3, MinimumMembershipPercentage: 4},
			Expiration: &carillon.ExpirationSettings{Days: 5, Criterion: "CREATED_TIMESTAMP"}, Created: at, Updated: at, LastMessageAt: at},
	} {
		maxSub, target, minPct := ElasticColumns(c.Elastic)
		days, criterion := ExpirationColumns(c.Expiration)
		values := row{c.ARN, c.AppInstanceARN, c.Name, c.Mode, c.Privacy, c.Metadata, c.CreatedBy, c.FlowARN,
			int64Of(maxSub), int64Of(target), int64Of(minPct), int64Of(days), criterion,
			Millis(c.Created), Millis(c.Updated), Millis(c.LastMessageAt)}
		var r ChannelRow
		if err := values.Scan(r.Dest(plain)...); err != nil {
			t.Fatal(err)
		}
		if got := r.Channel(); !reflect.DeepEqual(got, c) {
			t.Errorf("Channel() = %#v, want %#v", got, c)
		}
	}
}

// int64Of is an integer argument as a driver reads it back.
func int64Of(v any) any {
	if n, ok := v.(int); ok {
		return int64(n)
	}
	return v
}

func TestMembershipRow(t *testing.T) {
	for _, m := range []carillon.Membership{
		{ChannelARN: "arn:c", MemberARN: "arn:u", MemberName: "Ann", Created: at},
		{ChannelARN: "arn:c", MemberARN: "arn:u", ReadMarker: at, Created: at, Updated: at,
			Preferences: &carillon.MembershipPreferences{AllowNotifications: "FILTERED", FilterRule: "rule\x00"}},
		{ChannelARN: "arn:c", MemberARN: "arn:u", Created: at,
			Preferences: &carillon.MembershipPreferences{AllowNotifications: "ALL"}},
	} {
		var allow, filter any
		if p := m.Preferences; p != nil {
			allow, filter = p.AllowNotifications, []byte(p.FilterRule) // bytea, as PostgreSQL returns it
		}
		var r MembershipRow
		if err := (row{m.ChannelARN, m.MemberARN, m.MemberName, m.Type, m.InvitedBy, m.SubChannelID,
			Millis(m.ReadMarker), allow, filter, Millis(m.Created), Millis(m.Updated)}).Scan(r.Dest(plain)...); err != nil {
			t.Fatal(err)
		}
		if got := r.Membership(); !reflect.DeepEqual(got, m) {
			t.Errorf("Membership() = %#v, want %#v", got, m)
		}
	}
}

func TestEventColumns(t *testing.T) {
	recipients, payload, data, err := EventColumns(&carillon.Event{})
	if err != nil || recipients != "[]" || payload == nil || len(payload) != 0 || data == nil || len(data) != 0 {
		t.Errorf("EventColumns of an empty event = %q, %#v, %#v, %v; want \"[]\" and empty, non-nil bytes", recipients, payload, data, err)
	}
	e := carillon.Event{Seq: 3, At: at, Type: "T", Recipients: []string{"a", "b"}, Payload: []byte("p"), Data: []byte{0, 1}}
	recipients, payload, data, err = EventColumns(&e)
	if err != nil || recipients != `["a","b"]` {
		t.Fatalf("EventColumns = %q, %v", recipients, err)
	}
	var r EventRow
	if err := (row{e.Seq, Millis(e.At), e.Type, e.Channel, e.ToMembers, recipients, e.Member, e.MemberChange,
		e.MessageType, e.Reason, payload, data}).Scan(r.Dest()...); err != nil {
		t.Fatal(err)
	}
	if got, err := r.Event(); err != nil || !reflect.DeepEqual(got, e) {
		t.Errorf("Event() = %#v, %v; want %#v", got, err, e)
	}
}

func TestSessionPositionColumns(t *testing.T) {
	p := carillon.SessionPosition{Pending: []int64{7, 9}, Audiences: []string{"a"}}
	pending, audiences, err := SessionPositionColumns(&p)
	if err != nil || pending != "[7,9]" || audiences != `["a"]` {
		t.Fatalf("SessionPositionColumns = %q, %q, %v", pending, audiences, err)
	}
	var got carillon.SessionPosition
	if err := DecodeSessionPosition(&got, pending, audiences); err != nil || !reflect.DeepEqual(got, p) {
		t.Errorf("decoded %#v, %v; want %#v", got, err, p)
	}
	pending, audiences, err = SessionPositionColumns(&carillon.SessionPosition{})
	if err != nil || pending != "[]" || audiences != "[]" {
		t.Fatalf("SessionPositionColumns of none = %q, %q, %v", pending, audiences, err)
	}
	got = carillon.SessionPosition{}
	if err := DecodeSessionPosition(&got, pending, audiences); err != nil || got.Pending != nil || got.Audiences != nil {
		t.Errorf("decoded %#v, %v; want nil slices", got, err)
	}
}

func TestTimes(t *testing.T) {
	if Millis(time.Time{}) != nil {
		t.Error("Millis of the zero time is not NULL")
	}
	if got := Millis(at); got != at.UnixMilli() {
		t.Errorf("Millis = %v", got)
	}
	var got time.Time
	for _, v := range []any{nil, at.UnixMilli()} {
		if err := Time(&got).Scan(v); err != nil {
			t.Fatal(err)
		}
	}
	if !got.Equal(at) || got.Location() != time.UTC {
		t.Errorf("Time scanned %v", got)
	}
	if err := Time(&got).Scan("x"); err == nil {
		t.Error("Time scanned a string")
	}
	for _, tt := range []struct {
		t    time.Time
		want int64
	}{
		{at, at.UnixMilli()},
		{at.Add(time.Nanosecond), at.UnixMilli() + 1},
		{at.Add(-time.Nanosecond), at.UnixMilli()},
	} {
		if got := CeilMillis(tt.t); got != tt.want {
			t.Errorf("CeilMillis(%v) = %d, want %d", tt.t, got, tt.want)
		}
	}
}

func TestMessageRange(t *testing.T) {
	ms := func(n int64) time.Time { return time.UnixMilli(n).UTC() }
	tests := []struct {
		q      carillon.MessageQuery
		lo, hi Position
	}{
		{carillon.MessageQuery{}, Position{math.MinInt64, math.MinInt64}, Position{math.MaxInt64, math.MaxInt64}},
		{carillon.MessageQuery{NotBefore: ms(10).Add(time.Microsecond), NotAfter: ms(20)},
			Position{11, math.MinInt64}, Position{20, math.MaxInt64}},
		// The cursor narrows the side the order walks away from…
		{carillon.MessageQuery{After: &carillon.MessageCursor{Created: ms(15), Seq: 4}},
			Position{15, 4}, Position{math.MaxInt64, math.MaxInt64}},
		{carillon.MessageQuery{Descending: true, After: &carillon.MessageCursor{Created: ms(15), Seq: 4}},
			Position{math.MinInt64, math.MinInt64}, Position{15, 4}},
		// …only when it is inside the bounds.
		{carillon.MessageQuery{NotBefore: ms(30), After: &carillon.MessageCursor{Created: ms(15), Seq: 4}},
			Position{30, math.MinInt64}, Position{math.MaxInt64, math.MaxInt64}},
		{carillon.MessageQuery{Descending: true, NotAfter: ms(10), After: &carillon.MessageCursor{Created: ms(15), Seq: 4}},
			Position{math.MinInt64, math.MinInt64}, Position{10, math.MaxInt64}},
	}
	for i, tt := range tests {
		lo, hi := MessageRange(tt.q)
		if lo != tt.lo || hi != tt.hi {
			t.Errorf("%d: MessageRange = %v, %v; want %v, %v", i, lo, hi, tt.lo, tt.hi)
		}
	}
}

func TestStreamCursorStarts(t *testing.T) {
	streams, since := StreamCursorStarts([]carillon.StreamingConfiguration{
		{ResourceARN: "b", Since: 5}, {ResourceARN: "a", Since: 7}, {ResourceARN: "b", Since: 3},
	})
	if !reflect.DeepEqual(streams, []string{"b", "a"}) || !reflect.DeepEqual(since, map[string]int64{"a": 7, "b": 3}) {
		t.Errorf("StreamCursorStarts = %v, %v", streams, since)
	}
}

func TestNullScanners(t *testing.T) {
	var n NullInt
	if err := n.Scan(int64(4)); err != nil || n != (NullInt{4, true}) {
		t.Errorf("NullInt.Scan(4) = %v, %v", n, err)
	}
	if err := n.Scan(nil); err != nil || n != (NullInt{}) {
		t.Errorf("NullInt.Scan(nil) = %v, %v", n, err)
	}
	if err := n.Scan("4"); err == nil {
		t.Error("NullInt scanned a string")
	}
	var s NullString
	for _, v := range []any{"x", []byte("x")} {
		if err := s.Scan(v); err != nil || s != (NullString{"x", true}) {
			t.Errorf("NullString.Scan(%#v) = %v, %v", v, s, err)
		}
	}
	if err := s.Scan(nil); err != nil || s != (NullString{}) {
		t.Errorf("NullString.Scan(nil) = %v, %v", s, err)
	}
	if err := s.Scan(int64(1)); err == nil {
		t.Error("NullString scanned an integer")
	}
}

func TestMigrations(t *testing.T) {
	fsys := fstest.MapFS{
		"m/0002_b.sql":   {Data: []byte("B")},
		"m/0001_a.sql":   {Data: []byte("A")},
		"m/README":       {Data: []byte("not a migration")},
		"m/0003.sql/x":   {Data: []byte("a directory")},
		"other/0000.sql": {Data: []byte("elsewhere")},
	}
	ms, err := Migrations(fsys, "m")
	want := []Migration{{"0001_a", "A"}, {"0002_b", "B"}}
	if err != nil || !reflect.DeepEqual(ms, want) {
		t.Errorf("Migrations = %v, %v; want %v", ms, err, want)
	}
	if _, err := Migrations(fsys, "missing"); err == nil {
		t.Error("Migrations of a missing directory succeeded")
	}
}
