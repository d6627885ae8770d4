package storecodec

import (
	"encoding/json"
	"fmt"

	"github.com/carillonhq/carillon"
)

// lexJSON is the stored form of a LexConfiguration.
type lexJSON struct {
	LexBotAliasARN string         `json:"lexBotAliasArn,omitempty"`
	LocaleID       string         `json:"localeId,omitempty"`
	RespondsTo     string         `json:"respondsTo,omitempty"`
	WelcomeIntent  string         `json:"welcomeIntent,omitempty"`
	InvokedBy      *invokedByJSON `json:"invokedBy,omitempty"`
}

type invokedByJSON struct {
	StandardMessages string `json:"standardMessages"`
	TargetedMessages string `json:"targetedMessages"`
}

// LexColumn encodes a bot's Lex configuration as JSON: "{}" for none.
func LexColumn(l carillon.LexConfiguration) (string, error) {
	j := lexJSON{
		LexBotAliasARN: l.LexBotAliasARN,
		LocaleID:       l.LocaleID,
		RespondsTo:     l.RespondsTo,
		WelcomeIntent:  l.WelcomeIntent,
	}
	if l.InvokedBy != nil {
		j.InvokedBy = &invokedByJSON{
			StandardMessages: l.InvokedBy.StandardMessages,
			TargetedMessages: l.InvokedBy.TargetedMessages,
		}
	}
	b, err := json.Marshal(j)
	return string(b), err
}

// Lex decodes what LexColumn encoded.
func Lex(column string) (carillon.LexConfiguration, error) {
	var j lexJSON
	if err := json.Unmarshal([]byte(column), &j); err != nil {
		return carillon.LexConfiguration{}, fmt.Errorf("lex configuration: %w", err)
	}
	l := carillon.LexConfiguration{
		LexBotAliasARN: j.LexBotAliasARN,
		LocaleID:       j.LocaleID,
		RespondsTo:     j.RespondsTo,
		WelcomeIntent:  j.WelcomeIntent,
	}
	if j.InvokedBy != nil {
		l.InvokedBy = &carillon.InvokedBy{
			StandardMessages: j.InvokedBy.StandardMessages,
			TargetedMessages: j.InvokedBy.TargetedMessages,
		}
	}
	return l, nil
}

// ExpirationColumns returns the columns expiration_days and
// expiration_criterion: NULL, NULL for nil.
func ExpirationColumns(e *carillon.ExpirationSettings) (days, criterion any) {
	if e == nil {
		return nil, nil
	}
	return e.Days, e.Criterion
}

// Expiration decodes what ExpirationColumns encoded: nil when days is
// NULL.
func Expiration(days NullInt, criterion NullString) *carillon.ExpirationSettings {
	if !days.Valid {
		return nil
	}
	return &carillon.ExpirationSettings{Days: days.Int, Criterion: criterion.String}
}

// UserRow is where a user row is scanned.
type UserRow struct {
	user      carillon.AppInstanceUser
	days      NullInt
	criterion NullString
}

// Dest returns the destinations of the columns arn, app_instance_arn,
// name, metadata, expiration_days, expiration_criterion, created,
// updated.
func (r *UserRow) Dest(text Text) []any {
	u := &r.user
	return []any{&u.ARN, &u.AppInstanceARN, text(&u.Name), text(&u.Metadata), &r.days, &r.criterion,
		Time(&u.Created), Time(&u.Updated)}
}

// User is the user the row holds.
func (r *UserRow) User() carillon.AppInstanceUser {
	u := r.user
	u.Expiration = Expiration(r.days, r.criterion)
	return u
}

// BotRow is where a bot row is scanned.
type BotRow struct {
	bot carillon.AppInstanceBot
	lex string
}

// Dest returns the destinations of the columns arn, app_instance_arn,
// name, metadata, lex, created, updated.
func (r *BotRow) Dest(text Text) []any {
	b := &r.bot
	return []any{&b.ARN, &b.AppInstanceARN, text(&b.Name), text(&b.Metadata), &r.lex, Time(&b.Created), Time(&b.Updated)}
}

// Bot is the bot the row holds.
func (r *BotRow) Bot() (carillon.AppInstanceBot, error) {
	b := r.bot
	var err error
	b.Lex, err = Lex(r.lex)
	return b, err
}
