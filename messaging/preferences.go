package messaging

import (
	"bytes"
	"encoding/json"
	"fmt"

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
		// than an intent (our ruling; AWS documents nothing).
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

// checkFilterRule validates a FilterRule: an SNS-style filter policy over
// message attributes, restricted as the Chime SDK restricts it (DG
// "filter-msgs"):
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
func checkFilterRule(rule string) error {
	if len(rule) > filterRuleMaxBytes {
		return badFilterRule("it is %d bytes long; the limit is %d", len(rule), filterRuleMaxBytes)
	}
	top, err := decodeFilterObject([]byte(rule))
	if err != nil {
		return badFilterRule("it is not a JSON object: %v", err)
	}
	if len(top) == 0 {
		return badFilterRule("it has no conditions")
	}
	complexity := 0
	for key, raw := range top {
		if key != "$or" {
			n, err := checkFilterKey(key, raw)
			if err != nil {
				return err
			}
			complexity += n
			continue
		}
		var alternatives []json.RawMessage
		if err := json.Unmarshal(raw, &alternatives); err != nil {
			return badFilterRule(`"$or" must be a list of objects`)
		}
		if len(alternatives) == 0 || len(alternatives) > filterRuleMaxOr {
			return badFilterRule(`"$or" has %d constraints; it must have 1 to %d`, len(alternatives), filterRuleMaxOr)
		}
		for _, alt := range alternatives {
			obj, err := decodeFilterObject(alt)
			if err != nil || len(obj) == 0 {
				return badFilterRule(`each constraint of "$or" must be an object with at least one key`)
			}
			for k, v := range obj {
				if k == "$or" {
					return badFilterRule(`"$or" cannot be nested`)
				}
				n, err := checkFilterKey(k, v)
				if err != nil {
					return err
				}
				complexity += n
			}
		}
	}
	if complexity > filterRuleMaxComplexity {
		return badFilterRule("its complexity (keys plus values) is %d; the limit is %d", complexity, filterRuleMaxComplexity)
	}
	return nil
}

// checkFilterKey checks the conditions of one attribute key and returns
// their complexity: 1 for the key plus 1 per value.
func checkFilterKey(key string, raw json.RawMessage) (int, error) {
	if key == "" {
		return 0, badFilterRule("an attribute key is empty")
	}
	var conds []json.RawMessage
	if err := json.Unmarshal(raw, &conds); err != nil || len(conds) == 0 {
		return 0, badFilterRule("the conditions of %q must be a non-empty list", key)
	}
	n := 1
	for _, c := range conds {
		c = bytes.TrimSpace(c)
		if len(c) > 0 && c[0] == '"' {
			n++
			continue
		}
		obj, err := decodeFilterObject(c)
		if err != nil {
			return 0, badFilterRule("the conditions of %q must be strings or {\"anything-but\": …}; only exact string matching is supported", key)
		}
		but, ok := obj["anything-but"]
		if !ok || len(obj) != 1 {
			return 0, badFilterRule("the conditions of %q must be strings or {\"anything-but\": …}; only exact string matching is supported", key)
		}
		var one string
		var many []string
		switch {
		case json.Unmarshal(but, &one) == nil:
			n++
		case json.Unmarshal(but, &many) == nil && len(many) > 0:
			n += len(many)
		default:
			return 0, badFilterRule("\"anything-but\" of %q must be a string or a non-empty list of strings", key)
		}
	}
	return n, nil
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
