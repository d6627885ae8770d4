package messaging

import (
	"errors"
	"strings"
	"testing"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api"
	"github.com/carillonhq/carillon/api/messagingapi"
)

func TestCheckFilterRule(t *testing.T) {
	t.Parallel()
	// 19 keys of one value each: complexity 38.
	var wide []string
	for i := range 19 {
		wide = append(wide, `"k`+string(rune('a'+i))+`":["v"]`)
	}
	valid := []string{
		// The examples of the developer guide.
		`{"mention":["Bob"]}`,
		`{"type":[{"anything-but": ["Room"]}]}`,
		`{"type":[{"anything-but": ["Room"]}],"mention":["Bob"]}`,
		`{"$or":[{"mention":["Bob"]},{"type":[{"anything-but": ["Room"]}]}]}`,
		// anything-but of one string; values mixed; $or next to keys.
		`{"type":[{"anything-but":"Room"}]}`,
		`{"type":["a", {"anything-but":["b","c"]}]}`,
		` {"a":["x"], "$or":[{"b":["y"]},{"c":["z"]}]} `,
		// Complexity exactly 20: 10 keys of one value each.
		`{"a":["1"],"b":["1"],"c":["1"],"d":["1"],"e":["1"],"f":["1"],"g":["1"],"h":["1"],"i":["1"],"j":["1"]}`,
		// Five OR constraints.
		`{"$or":[{"a":["1"]},{"b":["1"]},{"c":["1"]},{"d":["1"]},{"e":["1"]}]}`,
	}
	for _, rule := range valid {
		if err := checkFilterRule(rule); err != nil {
			t.Errorf("checkFilterRule(%s): %v", rule, err)
		}
	}
	invalid := map[string]string{
		`not json`:                           "not a JSON object",
		`["a"]`:                              "not a JSON object",
		`{"a":["b"]} x`:                      "not a JSON object",
		`{"a":["b"],"a":["c"]}`:              "duplicate key",
		`{}`:                                 "no conditions",
		`{"a":"b"}`:                          "non-empty list",
		`{"a":[]}`:                           "non-empty list",
		`{"":["b"]}`:                         "key is empty",
		`{"a":[1]}`:                          "exact string matching",
		`{"a":[null]}`:                       "exact string matching",
		`{"a":[{"prefix":"x"}]}`:             "exact string matching",
		`{"a":[{"exists":true}]}`:            "exact string matching",
		`{"a":[{"anything-but":"x","b":1}]}`: "exact string matching",
		`{"a":[{"anything-but":[]}]}`:        `"anything-but"`,
		`{"a":[{"anything-but":[1]}]}`:       `"anything-but"`,
		`{"a":[{"anything-but":{"x":1}}]}`:   `"anything-but"`,
		`{"$or":{"a":["b"]}}`:                `"$or" must be a list`,
		`{"$or":[]}`:                         "0 constraints",
		`{"$or":[{"a":["1"]},{"b":["1"]},{"c":["1"]},{"d":["1"]},{"e":["1"]},{"f":["1"]}]}`: "6 constraints",
		`{"$or":[{}]}`:                      "at least one key",
		`{"$or":["a"]}`:                     "at least one key",
		`{"$or":[{"$or":[{"a":["b"]}]}]}`:   "cannot be nested",
		`{"$or":[{"a":[1]}]}`:               "exact string matching",
		`{` + strings.Join(wide, ",") + `}`: "complexity (keys plus values) is 38",
		`{"a":["1","2","3","4","5","6","7","8","9","10","11","12","13","14","15","16","17","18","19","20"]}`:     "is 21",
		`{"$or":[{"a":["1","2","3","4","5","6","7","8","9","10"]},{"b":["1","2","3","4","5","6","7","8","9"]}]}`: "is 21",
	}
	invalid[`{"a":["`+strings.Repeat("x", 2039)+`"]}`] = "2049 bytes long"
	for rule, want := range invalid {
		err := checkFilterRule(rule)
		if !carillon.IsKind(err, carillon.BadRequest) || !strings.Contains(err.Error(), "Invalid FilterRule") || !strings.Contains(err.Error(), want) {
			t.Errorf("checkFilterRule(%.60s): %v, want a BadRequest about %q", rule, err, want)
		}
	}
	// $or constraints add up: 2 × (1 key + 9 values) = 20 fits.
	if err := checkFilterRule(`{"$or":[{"a":["1","2","3","4","5","6","7","8","9"]},{"b":["1","2","3","4","5","6","7","8","9"]}]}`); err != nil {
		t.Errorf("complexity 20 over $or: %v", err)
	}
}

func TestPreferencesFrom(t *testing.T) {
	t.Parallel()
	prefs := func(allow messagingapi.AllowNotifications, rule *string) *messagingapi.ChannelMembershipPreferences {
		return &messagingapi.ChannelMembershipPreferences{PushNotifications: &messagingapi.PushNotificationPreferences{AllowNotifications: &allow, FilterRule: rule}}
	}
	for _, in := range []*messagingapi.ChannelMembershipPreferences{nil, {}} {
		if p, err := preferencesFrom(in); p != nil || err != nil {
			t.Errorf("preferencesFrom(%+v) = %+v, %v; want nothing to store", in, p, err)
		}
	}
	p, err := preferencesFrom(prefs(messagingapi.AllowNotificationsFiltered, api.String(`{"a":["b"]}`)))
	if err != nil || p.AllowNotifications != allowFiltered || p.FilterRule != `{"a":["b"]}` {
		t.Errorf("FILTERED: %+v, %v", p, err)
	}
	p, err = preferencesFrom(prefs(messagingapi.AllowNotificationsAll, nil))
	if err != nil || p.AllowNotifications != allowAll || p.FilterRule != "" {
		t.Errorf("ALL: %+v, %v", p, err)
	}
	for name, in := range map[string]*messagingapi.ChannelMembershipPreferences{
		"FILTERED without rule":    prefs(messagingapi.AllowNotificationsFiltered, nil),
		"FILTERED with empty rule": prefs(messagingapi.AllowNotificationsFiltered, api.String("")),
		"NONE with rule":           prefs(messagingapi.AllowNotificationsNone, api.String(`{"a":["b"]}`)),
		"ALL with empty rule":      prefs(messagingapi.AllowNotificationsAll, api.String("")),
		"FILTERED, bad rule":       prefs(messagingapi.AllowNotificationsFiltered, api.String(`{"a":1}`)),
	} {
		if _, err := preferencesFrom(in); !carillon.IsKind(err, carillon.BadRequest) {
			t.Errorf("%s: %v, want BadRequest", name, err)
		}
	}
	// Never set: an empty object; set: what was put.
	if out := preferencesShape(nil); out == nil || out.PushNotifications != nil {
		t.Errorf("preferencesShape(nil) = %+v", out)
	}
	out := preferencesShape(&carillon.MembershipPreferences{AllowNotifications: allowNone})
	if pn := out.PushNotifications; pn == nil || *pn.AllowNotifications != messagingapi.AllowNotificationsNone || pn.FilterRule != nil {
		t.Errorf("preferencesShape(NONE) = %+v", pn)
	}
}

// TestFilterRuleMatches evaluates rules as SNS evaluates filter policies.
func TestFilterRuleMatches(t *testing.T) {
	t.Parallel()
	type attrs = map[string][]string
	cases := []struct {
		rule  string
		attrs attrs
		want  bool
	}{
		{`{"mention":["Bob"]}`, attrs{"mention": {"Bob"}}, true},
		{`{"mention":["Bob"]}`, attrs{"mention": {"Alice", "Bob"}}, true}, // any value
		{`{"mention":["Bob","Carol"]}`, attrs{"mention": {"Carol"}}, true},
		{`{"mention":["Bob"]}`, attrs{"mention": {"Alice"}}, false},
		{`{"mention":["Bob"]}`, attrs{}, false},
		{`{"mention":["Bob"]}`, nil, false},
		{`{"mention":["bob"]}`, attrs{"mention": {"Bob"}}, false}, // exact, case-sensitive
		{`{"type":[{"anything-but":"Room"}]}`, attrs{"type": {"Dm"}}, true},
		{`{"type":[{"anything-but":"Room"}]}`, attrs{"type": {"Room"}}, false},
		{`{"type":[{"anything-but":["Room","Group"]}]}`, attrs{"type": {"Group"}}, false},
		{`{"type":[{"anything-but":"Room"}]}`, attrs{}, false}, // the attribute must be there
		{`{"type":[{"anything-but":"Room"}]}`, attrs{"type": {"Room", "Dm"}}, true},
		{`{"a":["1"],"b":["2"]}`, attrs{"a": {"1"}, "b": {"2"}}, true}, // AND
		{`{"a":["1"],"b":["2"]}`, attrs{"a": {"1"}}, false},
		{`{"$or":[{"a":["1"]},{"b":["2"]}]}`, attrs{"b": {"2"}}, true},
		{`{"$or":[{"a":["1"]},{"b":["2"]}]}`, attrs{"c": {"3"}}, false},
		{`{"c":["3"],"$or":[{"a":["1"]},{"b":["2"]}]}`, attrs{"a": {"1"}, "c": {"3"}}, true},
		{`{"c":["3"],"$or":[{"a":["1"]},{"b":["2"]}]}`, attrs{"a": {"1"}}, false},
		{`{"a":["1", {"anything-but":["x","1"]}]}`, attrs{"a": {"1"}}, true}, // OR within a key
	}
	for _, c := range cases {
		f, err := compileFilterRule(c.rule)
		if err != nil {
			t.Fatalf("%s: %v", c.rule, err)
		}
		if got := f.Matches(c.attrs); got != c.want {
			t.Errorf("%s on %v: %v, want %v", c.rule, c.attrs, got, c.want)
		}
	}
}

// FuzzFilterRule: any string either fails to compile with a
// BadRequestException or compiles into a rule that evaluates without
// panicking, on attributes made from the same input.
func FuzzFilterRule(f *testing.F) {
	for _, seed := range []string{
		`{"mention":["Bob"]}`, `{"type":[{"anything-but":["Room","Dm"]}]}`,
		`{"a":["1"],"$or":[{"b":["2"]},{"c":[{"anything-but":"3"}]}]}`, `{"$or":[]}`, `[]`, `{"k":[1]}`,
	} {
		f.Add(seed, "Bob")
	}
	f.Fuzz(func(t *testing.T, rule, value string) {
		r, err := compileFilterRule(rule)
		if err != nil {
			var e *carillon.Error
			if !errors.As(err, &e) || e.Kind != carillon.BadRequest {
				t.Fatalf("compileFilterRule(%q): %v, want a BadRequest", rule, err)
			}
			return
		}
		attrs := map[string][]string{}
		for key := range r.all {
			attrs[key] = []string{value}
		}
		r.Matches(attrs)
		r.Matches(nil)
	})
}
