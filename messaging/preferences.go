package messaging

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/api"
	"github.com/carillonhq/carillon/api/messagingapi"
)

// Push notification preferences (DG "filter-msgs").
const (
	allowAll      = string(messagingapi.AllowNotificationsAll)
	allowNone     = string(messagingapi.AllowNotificationsNone)
	allowFiltered = string(messagingapi.AllowNotificationsFiltered)
)

// The limits AWS documents for a FilterRule.
const (
	filterRuleMaxBytes      = 2048 // "a total filter rules size of 2KB"
	filterRuleMaxComplexity = 20   // keys plus values
	filterRuleMaxOr         = 5    // constraints inside an OR
)

// preferencesFrom checks and converts the preferences of a
// PutChannelMembershipPreferences request; nil clears them.
func preferencesFrom(in *messagingapi.ChannelMembershipPreferences) (*carillon.MembershipPreferences, error) {
	if in == nil || in.PushNotifications == nil {
		return nil, nil
	}
	allow := string(api.Deref(in.PushNotifications.AllowNotifications))
	rule := api.Deref(in.PushNotifications.FilterRule)
	switch allow {
	case allowFiltered:
		if rule == "" {
			return nil, carillon.Errorf(carillon.BadRequest, "AllowNotifications FILTERED requires a FilterRule")
		}
		if err := checkFilterRule(rule); err != nil {
			return nil, err
		}
	case allowAll, allowNone:
		// A rule that would never be applied is more likely a mistake
		// than an intent (docs/compatibility.md, ruling 14; AWS
		// documents nothing).
		if in.PushNotifications.FilterRule != nil {
			return nil, carillon.Errorf(carillon.BadRequest, "A FilterRule is allowed only with AllowNotifications FILTERED, not %s", allow)
		}
	}
	return &carillon.MembershipPreferences{AllowNotifications: allow, FilterRule: rule}, nil
}

// preferencesShape is never nil: preferences never set are returned as an
// empty object.
func preferencesShape(p *carillon.MembershipPreferences) *messagingapi.ChannelMembershipPreferences {
	out := &messagingapi.ChannelMembershipPreferences{}
	if p == nil || p.AllowNotifications == "" {
		return out
	}
	allow := messagingapi.AllowNotifications(p.AllowNotifications)
	out.PushNotifications = &messagingapi.PushNotificationPreferences{AllowNotifications: &allow, FilterRule: optional(p.FilterRule)}
	return out
}

// checkFilterRule validates a FilterRule (compileFilterRule says what one
// is).
func checkFilterRule(rule string) error {
	_, err := compileFilterRule(rule)
	return err
}

// filterRule is a compiled FilterRule: every one of all, and, when there
// are alternatives, at least one of them, must match.
type filterRule struct {
	all          filterConds
	alternatives []filterConds
}

// filterConds are the conditions of an object of a FilterRule, by
// attribute key; they combine with AND.
type filterConds map[string][]filterCond

// filterCond is one condition of an attribute: a value equal to exact,
// or, with anythingBut, a value in none of but.
type filterCond struct {
	exact       string
	anythingBut bool
	but         []string
}

// compileFilterRule validates and compiles a FilterRule: an SNS-style
// filter policy over message attributes, restricted as the Chime SDK
// restricts it (DG "filter-msgs"):
//
//	{"key": ["v1", "v2"], "other": [{"anything-but": ["x"]}]}
//	{"$or": [{"mention": ["Bob"]}, {"type": [{"anything-but": "Room"}]}]}
//
// A key maps to a non-empty list of exact strings or anything-but
// conditions (a string or a list of strings); keys combine with AND. A
// top-level "$or" lists 1 to 5 such objects. Only exact string matching is
// supported: numbers, prefixes, "exists" and nested "$or" are refused. The
// rule is at most 2 KB and its complexity, the number of keys plus the
// number of values, at most 20.
func compileFilterRule(rule string) (*filterRule, error) {
	if len(rule) > filterRuleMaxBytes {
		return nil, badFilterRule("it is %d bytes long; the limit is %d", len(rule), filterRuleMaxBytes)
	}
	top, err := decodeFilterObject([]byte(rule))
	if err != nil {
		return nil, badFilterRule("it is not a JSON object: %v", err)
	}
	if len(top) == 0 {
		return nil, badFilterRule("it has no conditions")
	}
	f := &filterRule{all: filterConds{}}
	complexity := 0
	for key, raw := range top {
		if key != "$or" {
			conds, err := compileFilterKey(key, raw)
			if err != nil {
				return nil, err
			}
			f.all[key] = conds
			complexity += 1 + filterValues(conds)
			continue
		}
		var alternatives []json.RawMessage
		if err := json.Unmarshal(raw, &alternatives); err != nil {
			return nil, badFilterRule(`"$or" must be a list of objects`)
		}
		if len(alternatives) == 0 || len(alternatives) > filterRuleMaxOr {
			return nil, badFilterRule(`"$or" has %d constraints; it must have 1 to %d`, len(alternatives), filterRuleMaxOr)
		}
		for _, alt := range alternatives {
			obj, err := decodeFilterObject(alt)
			if err != nil || len(obj) == 0 {
				return nil, badFilterRule(`each constraint of "$or" must be an object with at least one key`)
			}
			conds := filterConds{}
			for k, v := range obj {
				if k == "$or" {
					return nil, badFilterRule(`"$or" cannot be nested`)
				}
				c, err := compileFilterKey(k, v)
				if err != nil {
					return nil, err
				}
				conds[k] = c
				complexity += 1 + filterValues(c)
			}
			f.alternatives = append(f.alternatives, conds)
		}
	}
	if complexity > filterRuleMaxComplexity {
		return nil, badFilterRule("its complexity (keys plus values) is %d; the limit is %d", complexity, filterRuleMaxComplexity)
	}
	return f, nil
}

// filterValues counts the values of conditions, for the complexity.
func filterValues(conds []filterCond) int {
	n := 0
	for _, c := range conds {
		if c.anythingBut {
			n += len(c.but)
		} else {
			n++
		}
	}
	return n
}

// compileFilterKey compiles the conditions of one attribute key.
func compileFilterKey(key string, raw json.RawMessage) ([]filterCond, error) {
	if key == "" {
		return nil, badFilterRule("an attribute key is empty")
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(raw, &raws); err != nil || len(raws) == 0 {
		return nil, badFilterRule("the conditions of %q must be a non-empty list", key)
	}
	conds := make([]filterCond, 0, len(raws))
	for _, c := range raws {
		c = bytes.TrimSpace(c)
		if len(c) > 0 && c[0] == '"' {
			var exact string
			if err := json.Unmarshal(c, &exact); err != nil {
				return nil, badFilterRule("a condition of %q is not a valid string", key)
			}
			conds = append(conds, filterCond{exact: exact})
			continue
		}
		obj, err := decodeFilterObject(c)
		if err != nil {
			return nil, badFilterRule("the conditions of %q must be strings or {\"anything-but\": …}; only exact string matching is supported", key)
		}
		but, ok := obj["anything-but"]
		if !ok || len(obj) != 1 {
			return nil, badFilterRule("the conditions of %q must be strings or {\"anything-but\": …}; only exact string matching is supported", key)
		}
		var one string
		var many []string
		switch {
		case json.Unmarshal(but, &one) == nil:
			conds = append(conds, filterCond{anythingBut: true, but: []string{one}})
		case json.Unmarshal(but, &many) == nil && len(many) > 0:
			conds = append(conds, filterCond{anythingBut: true, but: many})
		default:
			return nil, badFilterRule("\"anything-but\" of %q must be a string or a non-empty list of strings", key)
		}
	}
	return conds, nil
}

// Matches reports whether a message with attrs passes the rule, as SNS
// evaluates a filter policy: each key of an object needs the attribute,
// with at least one value meeting at least one of its conditions (an
// absent attribute meets none, anything-but included); the keys of an
// object must all match, and of the "$or" objects at least one.
func (f *filterRule) Matches(attrs map[string][]string) bool {
	if !f.all.match(attrs) {
		return false
	}
	if len(f.alternatives) == 0 {
		return true
	}
	for _, alt := range f.alternatives {
		if alt.match(attrs) {
			return true
		}
	}
	return false
}

func (cs filterConds) match(attrs map[string][]string) bool {
	for key, conds := range cs {
		if !matchAttribute(attrs[key], conds) {
			return false
		}
	}
	return true
}

func matchAttribute(values []string, conds []filterCond) bool {
	for _, v := range values {
		for _, c := range conds {
			if c.anythingBut && !slices.Contains(c.but, v) || !c.anythingBut && c.exact == v {
				return true
			}
		}
	}
	return false
}

// decodeFilterObject decodes a JSON object, refusing anything else,
// trailing data and duplicate keys (which a JSON map would silently
// merge).
func decodeFilterObject(b []byte) (map[string]json.RawMessage, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('{') {
		return nil, fmt.Errorf("expected an object")
	}
	obj := map[string]json.RawMessage{}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return nil, err
		}
		if _, dup := obj[key]; dup {
			return nil, fmt.Errorf("duplicate key %q", key)
		}
		obj[key] = v
	}
	if _, err := d.Token(); err != nil { // the closing brace
		return nil, err
	}
	if len(bytes.TrimSpace(b[d.InputOffset():])) > 0 {
		return nil, fmt.Errorf("data after the object")
	}
	return obj, nil
}

func badFilterRule(format string, args ...any) error {
	return carillon.Errorf(carillon.BadRequest, "Invalid FilterRule: "+format, args...)
}
