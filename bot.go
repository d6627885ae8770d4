package carillon

import "time"

// AppInstanceBot is a bot of an AppInstance, answering through Amazon Lex.
type AppInstanceBot struct {
	ARN            string
	AppInstanceARN string
	Name           string
	Metadata       string
	Lex            LexConfiguration
	Created        time.Time
	Updated        time.Time
}

// LexConfiguration is how a bot reaches its Lex V2 bot (package bots calls
// it).
type LexConfiguration struct {
	LexBotAliasARN string
	LocaleID       string
	RespondsTo     string // deprecated by the model in favour of InvokedBy
	WelcomeIntent  string
	InvokedBy      *InvokedBy
}

// InvokedBy says which messages invoke a bot.
type InvokedBy struct {
	StandardMessages string // AUTO, ALL, MENTIONS or NONE
	TargetedMessages string // ALL or NONE
}

// BotTx stores AppInstanceBots.
type BotTx interface {
	CreateBot(b *AppInstanceBot) error
	GetBot(arn string) (*AppInstanceBot, error)
	// UpdateBot replaces Name, Metadata, Lex and Updated.
	UpdateBot(b *AppInstanceBot) error
	// DeleteBot deletes the bot, its admin role, tags and access keys.
	DeleteBot(arn string) error
	ListBots(appInstanceARN string, p Page) ([]AppInstanceBot, error)
}
