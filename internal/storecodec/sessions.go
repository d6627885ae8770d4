package storecodec

import (
	"encoding/json"

	"github.com/carillonhq/carillon"
)

// SessionPositionColumns encodes the pending events and the audiences of
// p as JSON arrays ("[]" for none).
func SessionPositionColumns(p *carillon.SessionPosition) (pending, audiences string, err error) {
	ps, as := p.Pending, p.Audiences
	if ps == nil {
		ps = []int64{}
	}
	if as == nil {
		as = []string{}
	}
	pj, err := json.Marshal(ps)
	if err != nil {
		return "", "", err
	}
	aj, err := json.Marshal(as)
	if err != nil {
		return "", "", err
	}
	return string(pj), string(aj), nil
}

// DecodeSessionPosition sets the Pending and Audiences of p from what
// SessionPositionColumns encoded: nil when empty.
func DecodeSessionPosition(p *carillon.SessionPosition, pending, audiences string) error {
	if err := json.Unmarshal([]byte(pending), &p.Pending); err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(audiences), &p.Audiences); err != nil {
		return err
	}
	if len(p.Pending) == 0 {
		p.Pending = nil
	}
	if len(p.Audiences) == 0 {
		p.Audiences = nil
	}
	return nil
}
