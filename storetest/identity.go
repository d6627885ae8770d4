package storetest

import (
	"fmt"
	"slices"
	"time"

	"github.com/carillonhq/carillon"
)

func testAppInstance(e *env) {
	t := e.t
	a := newApp(appA)
	e.create(a)
	check(t, "GetAppInstance", read(e, func(tx carillon.Tx) (*carillon.AppInstance, error) {
		return tx.GetAppInstance(appA)
	}), a)

	wantErr(t, "CreateAppInstance twice", e.write(func(tx carillon.Tx) error {
		return tx.CreateAppInstance(newApp(appA))
	}), carillon.ErrExists)

	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetAppInstance(appB)
		wantErr(t, "GetAppInstance of a missing one", err, carillon.ErrNotFound)
		return nil
	})

	// UpdateAppInstance replaces Name, Metadata and Updated only.
	later := Start.Add(time.Hour)
	e.update(func(tx carillon.Tx) error {
		return tx.UpdateAppInstance(&carillon.AppInstance{
			ARN: appA, Name: "new name", Metadata: "", Created: later, Updated: later,
		})
	})
	want := *a
	want.Name, want.Metadata, want.Updated = "new name", "", later
	check(t, "GetAppInstance after UpdateAppInstance", read(e, func(tx carillon.Tx) (*carillon.AppInstance, error) {
		return tx.GetAppInstance(appA)
	}), &want)

	wantErr(t, "UpdateAppInstance of a missing one", e.write(func(tx carillon.Tx) error {
		return tx.UpdateAppInstance(newApp(appB))
	}), carillon.ErrNotFound)

	e.update(func(tx carillon.Tx) error { return tx.DeleteAppInstance(appA) })
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetAppInstance(appA)
		wantErr(t, "GetAppInstance after DeleteAppInstance", err, carillon.ErrNotFound)
		return nil
	})
	wantErr(t, "DeleteAppInstance of a missing one", e.write(func(tx carillon.Tx) error {
		return tx.DeleteAppInstance(appA)
	}), carillon.ErrNotFound)

	// The ARN is free again.
	e.create(newApp(appA))
}

func testAppInstanceList(e *env) {
	base := "arn:aws:chime:us-east-1:111122223333:app-instance/"
	// Created out of order; listed in byte order of the ARN ('-' < '0' <
	// 'A' < 'a').
	ids := []string{"b", "a", "abc", "ab", "a-1", "B", "0"}
	for _, id := range ids {
		e.create(newApp(base + id))
	}
	want := []string{base + "0", base + "B", base + "a", base + "a-1", base + "ab", base + "abc", base + "b"}
	checkPaging(e, "ListAppInstances", want, func(tx carillon.Tx, p carillon.Page) ([]carillon.AppInstance, error) {
		return tx.ListAppInstances(p)
	}, func(a carillon.AppInstance) string { return a.ARN })

	got := read(e, func(tx carillon.Tx) ([]carillon.AppInstance, error) {
		return tx.ListAppInstances(carillon.Page{Limit: 1})
	})
	check(e.t, "ListAppInstances rows", got, []carillon.AppInstance{*newApp(base + "0")})
}

func testRetentionSettings(e *env) {
	t := e.t
	e.create(newApp(appA))
	get := func() *carillon.RetentionSettings {
		t.Helper()
		return read(e, func(tx carillon.Tx) (*carillon.RetentionSettings, error) {
			return tx.GetRetentionSettings(appA)
		})
	}
	put := func(s *carillon.RetentionSettings) {
		t.Helper()
		e.update(func(tx carillon.Tx) error { return tx.PutRetentionSettings(appA, s) })
	}
	check(t, "GetRetentionSettings before any Put", get(), (*carillon.RetentionSettings)(nil))

	s := &carillon.RetentionSettings{ChannelDays: 30, InitiatedAt: Start}
	put(s)
	check(t, "GetRetentionSettings", get(), s)

	// ChannelDays 0 (keep forever) is a setting, not the lack of one.
	s = &carillon.RetentionSettings{ChannelDays: 0, InitiatedAt: Start.Add(time.Minute)}
	put(s)
	check(t, "GetRetentionSettings of 0 days", get(), s)

	// Updating the AppInstance keeps its settings.
	e.update(func(tx carillon.Tx) error { return tx.UpdateAppInstance(newApp(appA)) })
	check(t, "GetRetentionSettings after UpdateAppInstance", get(), s)

	put(nil)
	check(t, "GetRetentionSettings after Put(nil)", get(), (*carillon.RetentionSettings)(nil))
	put(nil) // clearing twice is fine

	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetRetentionSettings(appB)
		wantErr(t, "GetRetentionSettings of a missing AppInstance", err, carillon.ErrNotFound)
		return nil
	})
	for _, s := range []*carillon.RetentionSettings{{ChannelDays: 1}, nil} {
		wantErr(t, "PutRetentionSettings of a missing AppInstance", e.write(func(tx carillon.Tx) error {
			return tx.PutRetentionSettings(appB, s)
		}), carillon.ErrNotFound)
	}
}

func testUser(e *env) {
	t := e.t
	e.create(newApp(appA))
	u := newUser(appA, "u1")
	u.Expiration = &carillon.ExpirationSettings{Days: 7, Criterion: "CREATED_TIMESTAMP"}
	u2 := newUser(appA, "u2") // no expiration
	// Days 0 and no criterion is still a setting, unlike nil.
	u3 := newUser(appA, "u3")
	u3.Expiration = &carillon.ExpirationSettings{}
	e.create(u, u2, u3)
	getUser := func(arn string) *carillon.AppInstanceUser {
		t.Helper()
		return read(e, func(tx carillon.Tx) (*carillon.AppInstanceUser, error) { return tx.GetUser(arn) })
	}
	check(t, "GetUser", getUser(u.ARN), u)
	check(t, "GetUser without expiration", getUser(u2.ARN), u2)
	check(t, "GetUser with empty expiration", getUser(u3.ARN), u3)

	wantErr(t, "CreateUser twice", e.write(func(tx carillon.Tx) error {
		return tx.CreateUser(newUser(appA, "u1"))
	}), carillon.ErrExists)
	wantErr(t, "CreateUser of a missing AppInstance", e.write(func(tx carillon.Tx) error {
		return tx.CreateUser(newUser(appB, "u1"))
	}), carillon.ErrNotFound)
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetUser(userARN(appA, "nope"))
		wantErr(t, "GetUser of a missing one", err, carillon.ErrNotFound)
		return nil
	})

	// UpdateUser replaces Name, Metadata, Expiration and Updated only.
	later := Start.Add(time.Hour)
	e.update(func(tx carillon.Tx) error {
		return tx.UpdateUser(&carillon.AppInstanceUser{
			ARN: u.ARN, AppInstanceARN: appB, Name: "renamed", Metadata: "new",
			Created: later, Updated: later,
		})
	})
	want := *u
	want.Name, want.Metadata, want.Expiration, want.Updated = "renamed", "new", nil, later
	check(t, "GetUser after UpdateUser clearing the expiration", getUser(u.ARN), &want)

	exp := &carillon.ExpirationSettings{Days: 1, Criterion: "LAST_MESSAGE_TIMESTAMP"}
	want.Expiration = exp
	e.update(func(tx carillon.Tx) error { return tx.UpdateUser(&want) })
	check(t, "GetUser after UpdateUser setting the expiration", getUser(u.ARN), &want)

	wantErr(t, "UpdateUser of a missing one", e.write(func(tx carillon.Tx) error {
		return tx.UpdateUser(newUser(appA, "nope"))
	}), carillon.ErrNotFound)

	e.update(func(tx carillon.Tx) error { return tx.DeleteUser(u.ARN) })
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetUser(u.ARN)
		wantErr(t, "GetUser after DeleteUser", err, carillon.ErrNotFound)
		return nil
	})
	wantErr(t, "DeleteUser of a missing one", e.write(func(tx carillon.Tx) error {
		return tx.DeleteUser(u.ARN)
	}), carillon.ErrNotFound)
	check(t, "GetUser of another user", getUser(u2.ARN), u2)
}

func testUserList(e *env) {
	// A sibling whose ARN has appA's as a prefix: its users sort among
	// appA's but are not appA's.
	sibling := appA + "d"
	e.create(newApp(appA), newApp(sibling), newApp(appB))
	for _, id := range []string{"u3", "u1", "u10", "U2", "u-1"} {
		e.create(newUser(appA, id), newUser(sibling, id))
	}
	want := []string{userARN(appA, "U2"), userARN(appA, "u-1"), userARN(appA, "u1"), userARN(appA, "u10"), userARN(appA, "u3")}
	checkPaging(e, "ListUsers", want, func(tx carillon.Tx, p carillon.Page) ([]carillon.AppInstanceUser, error) {
		return tx.ListUsers(appA, p)
	}, func(u carillon.AppInstanceUser) string { return u.ARN })

	got := read(e, func(tx carillon.Tx) ([]carillon.AppInstanceUser, error) {
		return tx.ListUsers(appA, carillon.Page{After: userARN(appA, "u10"), Limit: 5})
	})
	check(e.t, "ListUsers rows", got, []carillon.AppInstanceUser{*newUser(appA, "u3")})
	got = read(e, func(tx carillon.Tx) ([]carillon.AppInstanceUser, error) {
		return tx.ListUsers(appB, carillon.Page{})
	})
	check(e.t, "ListUsers of an AppInstance without users", got, []carillon.AppInstanceUser{})
}

func testBot(e *env) {
	t := e.t
	e.create(newApp(appA))
	b := newBot(appA, "b1")
	b2 := newBot(appA, "b2")
	b2.Lex = carillon.LexConfiguration{
		LexBotAliasARN: "arn:aws:lex:us-east-1:111122223333:bot-alias/C/D",
		LocaleID:       "fr_FR", RespondsTo: "STANDARD_MESSAGES", WelcomeIntent: "Hello",
	}
	e.create(b, b2)
	getBot := func(arn string) *carillon.AppInstanceBot {
		t.Helper()
		return read(e, func(tx carillon.Tx) (*carillon.AppInstanceBot, error) { return tx.GetBot(arn) })
	}
	check(t, "GetBot", getBot(b.ARN), b)
	check(t, "GetBot without InvokedBy", getBot(b2.ARN), b2)

	wantErr(t, "CreateBot twice", e.write(func(tx carillon.Tx) error {
		return tx.CreateBot(newBot(appA, "b1"))
	}), carillon.ErrExists)
	wantErr(t, "CreateBot of a missing AppInstance", e.write(func(tx carillon.Tx) error {
		return tx.CreateBot(newBot(appB, "b1"))
	}), carillon.ErrNotFound)
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetBot(botARN(appA, "nope"))
		wantErr(t, "GetBot of a missing one", err, carillon.ErrNotFound)
		return nil
	})

	// UpdateBot replaces Name, Metadata, Lex and Updated only.
	later := Start.Add(time.Hour)
	lex := carillon.LexConfiguration{LexBotAliasARN: "arn:aws:lex:us-east-1:111122223333:bot-alias/E/F", LocaleID: "de_DE"}
	e.update(func(tx carillon.Tx) error {
		return tx.UpdateBot(&carillon.AppInstanceBot{
			ARN: b.ARN, AppInstanceARN: appB, Name: "renamed", Metadata: "new", Lex: lex,
			Created: later, Updated: later,
		})
	})
	want := *b
	want.Name, want.Metadata, want.Lex, want.Updated = "renamed", "new", lex, later
	check(t, "GetBot after UpdateBot", getBot(b.ARN), &want)

	wantErr(t, "UpdateBot of a missing one", e.write(func(tx carillon.Tx) error {
		return tx.UpdateBot(newBot(appA, "nope"))
	}), carillon.ErrNotFound)

	e.update(func(tx carillon.Tx) error { return tx.DeleteBot(b.ARN) })
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetBot(b.ARN)
		wantErr(t, "GetBot after DeleteBot", err, carillon.ErrNotFound)
		return nil
	})
	wantErr(t, "DeleteBot of a missing one", e.write(func(tx carillon.Tx) error {
		return tx.DeleteBot(b.ARN)
	}), carillon.ErrNotFound)
	check(t, "GetBot of another bot", getBot(b2.ARN), b2)
}

func testBotList(e *env) {
	sibling := appA + "d"
	e.create(newApp(appA), newApp(sibling), newApp(appB))
	for _, id := range []string{"b3", "b1", "b10", "B2"} {
		e.create(newBot(appA, id), newBot(sibling, id))
	}
	want := []string{botARN(appA, "B2"), botARN(appA, "b1"), botARN(appA, "b10"), botARN(appA, "b3")}
	checkPaging(e, "ListBots", want, func(tx carillon.Tx, p carillon.Page) ([]carillon.AppInstanceBot, error) {
		return tx.ListBots(appA, p)
	}, func(b carillon.AppInstanceBot) string { return b.ARN })

	got := read(e, func(tx carillon.Tx) ([]carillon.AppInstanceBot, error) {
		return tx.ListBots(appA, carillon.Page{Limit: 1})
	})
	check(e.t, "ListBots rows", got, []carillon.AppInstanceBot{*newBot(appA, "B2")})
	got = read(e, func(tx carillon.Tx) ([]carillon.AppInstanceBot, error) {
		return tx.ListBots(appB, carillon.Page{})
	})
	check(e.t, "ListBots of an AppInstance without bots", got, []carillon.AppInstanceBot{})
}

func testAdmin(e *env) {
	t := e.t
	sibling := appA + "d"
	e.create(newApp(appA), newApp(sibling))
	admin := func(app, arn string) *carillon.AppInstanceAdmin {
		return &carillon.AppInstanceAdmin{AppInstanceARN: app, AdminARN: arn, Created: Start}
	}
	// Admins are users or bots; the store does not check that they exist.
	arns := []string{userARN(appA, "u2"), botARN(appA, "b1"), userARN(appA, "u1")}
	for _, arn := range arns {
		e.create(admin(appA, arn))
	}
	e.create(admin(sibling, userARN(sibling, "u1")))

	check(t, "GetAdmin", read(e, func(tx carillon.Tx) (*carillon.AppInstanceAdmin, error) {
		return tx.GetAdmin(appA, arns[0])
	}), admin(appA, arns[0]))
	wantErr(t, "CreateAdmin twice", e.write(func(tx carillon.Tx) error {
		return tx.CreateAdmin(admin(appA, arns[0]))
	}), carillon.ErrExists)
	wantErr(t, "CreateAdmin of a missing AppInstance", e.write(func(tx carillon.Tx) error {
		return tx.CreateAdmin(admin(appB, userARN(appB, "u1")))
	}), carillon.ErrNotFound)
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetAdmin(appA, userARN(appA, "nope"))
		wantErr(t, "GetAdmin of a non-admin", err, carillon.ErrNotFound)
		// The admin of one AppInstance is not an admin of another.
		_, err = tx.GetAdmin(sibling, arns[0])
		wantErr(t, "GetAdmin in another AppInstance", err, carillon.ErrNotFound)
		return nil
	})

	want := []string{botARN(appA, "b1"), userARN(appA, "u1"), userARN(appA, "u2")}
	checkPaging(e, "ListAdmins", want, func(tx carillon.Tx, p carillon.Page) ([]carillon.AppInstanceAdmin, error) {
		return tx.ListAdmins(appA, p)
	}, func(a carillon.AppInstanceAdmin) string { return a.AdminARN })
	check(t, "ListAdmins rows", read(e, func(tx carillon.Tx) ([]carillon.AppInstanceAdmin, error) {
		return tx.ListAdmins(sibling, carillon.Page{})
	}), []carillon.AppInstanceAdmin{*admin(sibling, userARN(sibling, "u1"))})

	count := func(app string) int {
		t.Helper()
		return read(e, func(tx carillon.Tx) (int, error) { return tx.CountAdmins(app) })
	}
	check(t, "CountAdmins", count(appA), 3)
	check(t, "CountAdmins of a sibling", count(sibling), 1)
	check(t, "CountAdmins of a missing AppInstance", count(appB), 0)

	e.update(func(tx carillon.Tx) error { return tx.DeleteAdmin(appA, arns[0]) })
	wantErr(t, "DeleteAdmin twice", e.write(func(tx carillon.Tx) error {
		return tx.DeleteAdmin(appA, arns[0])
	}), carillon.ErrNotFound)
	wantErr(t, "DeleteAdmin in another AppInstance", e.write(func(tx carillon.Tx) error {
		return tx.DeleteAdmin(sibling, arns[1])
	}), carillon.ErrNotFound)
	check(t, "CountAdmins after DeleteAdmin", count(appA), 2)
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetAdmin(appA, arns[0])
		wantErr(t, "GetAdmin after DeleteAdmin", err, carillon.ErrNotFound)
		return nil
	})
}

func testEndpoint(e *env) {
	t := e.t
	u1, u2 := newUser(appA, "u1"), newUser(appA, "u2")
	e.create(newApp(appA), u1, u2)
	ep := newEndpoint(u1.ARN, "e1")
	ep.VoipDeviceToken, ep.StateStatus, ep.StateReason = "voip", "INACTIVE", "INVALID_DEVICE_TOKEN"
	ep.Type = "APNS"
	e.create(ep, newEndpoint(u1.ARN, "e3"), newEndpoint(u1.ARN, "e2"), newEndpoint(u1.ARN, "E0"))
	// Endpoint ids are unique per user only.
	e.create(newEndpoint(u2.ARN, "e1"))

	get := func(user, id string) *carillon.UserEndpoint {
		t.Helper()
		return read(e, func(tx carillon.Tx) (*carillon.UserEndpoint, error) { return tx.GetEndpoint(user, id) })
	}
	check(t, "GetEndpoint", get(u1.ARN, "e1"), ep)
	check(t, "GetEndpoint of another user", get(u2.ARN, "e1"), newEndpoint(u2.ARN, "e1"))

	wantErr(t, "CreateEndpoint twice", e.write(func(tx carillon.Tx) error {
		return tx.CreateEndpoint(newEndpoint(u1.ARN, "e1"))
	}), carillon.ErrExists)
	wantErr(t, "CreateEndpoint of a missing user", e.write(func(tx carillon.Tx) error {
		return tx.CreateEndpoint(newEndpoint(userARN(appA, "nope"), "e1"))
	}), carillon.ErrNotFound)
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetEndpoint(u1.ARN, "nope")
		wantErr(t, "GetEndpoint of a missing one", err, carillon.ErrNotFound)
		_, err = tx.GetEndpoint(userARN(appA, "nope"), "e1")
		wantErr(t, "GetEndpoint of a missing user", err, carillon.ErrNotFound)
		return nil
	})

	// UpdateEndpoint replaces Name, ResourceARN, VoipDeviceToken,
	// AllowMessages, the state and Updated only.
	later := Start.Add(time.Hour)
	e.update(func(tx carillon.Tx) error {
		return tx.UpdateEndpoint(&carillon.UserEndpoint{
			UserARN: u1.ARN, ID: "e1", Name: "renamed", Type: "GCM", ResourceARN: "other",
			DeviceToken: "other", VoipDeviceToken: "other", AllowMessages: "NONE",
			StateStatus: "INACTIVE", StateReason: "INVALID_DEVICE_TOKEN", Created: later, Updated: later,
		})
	})
	want := *ep
	want.Name, want.AllowMessages, want.StateStatus, want.StateReason, want.Updated = "renamed", "NONE", "INACTIVE", "INVALID_DEVICE_TOKEN", later
	want.ResourceARN, want.VoipDeviceToken = "other", "other"
	check(t, "GetEndpoint after UpdateEndpoint", get(u1.ARN, "e1"), &want)
	check(t, "GetEndpoint of another user after UpdateEndpoint", get(u2.ARN, "e1"), newEndpoint(u2.ARN, "e1"))
	wantErr(t, "UpdateEndpoint of a missing one", e.write(func(tx carillon.Tx) error {
		return tx.UpdateEndpoint(newEndpoint(u1.ARN, "nope"))
	}), carillon.ErrNotFound)

	checkPaging(e, "ListEndpoints", []string{"E0", "e1", "e2", "e3"},
		func(tx carillon.Tx, p carillon.Page) ([]carillon.UserEndpoint, error) {
			return tx.ListEndpoints(u1.ARN, p)
		},
		func(ep carillon.UserEndpoint) string { return ep.ID })
	check(t, "ListEndpoints rows", read(e, func(tx carillon.Tx) ([]carillon.UserEndpoint, error) {
		return tx.ListEndpoints(u2.ARN, carillon.Page{})
	}), []carillon.UserEndpoint{*newEndpoint(u2.ARN, "e1")})

	endpointsOf := func(users ...string) []string {
		t.Helper()
		eps := read(e, func(tx carillon.Tx) ([]carillon.UserEndpoint, error) { return tx.EndpointsOf(users) })
		var ids []string
		for _, ep := range eps {
			ids = append(ids, ep.UserARN+" "+ep.ID)
		}
		slices.Sort(ids)
		return ids
	}
	check(t, "EndpointsOf two users and a missing one", endpointsOf(u2.ARN, u1.ARN, userARN(appA, "nope")),
		[]string{u1.ARN + " E0", u1.ARN + " e1", u1.ARN + " e2", u1.ARN + " e3", u2.ARN + " e1"})
	check(t, "EndpointsOf one user", endpointsOf(u2.ARN), []string{u2.ARN + " e1"})
	check(t, "EndpointsOf nobody", read(e, func(tx carillon.Tx) ([]carillon.UserEndpoint, error) { return tx.EndpointsOf(nil) }),
		[]carillon.UserEndpoint{})

	count := func(user string) int {
		t.Helper()
		return read(e, func(tx carillon.Tx) (int, error) { return tx.CountEndpoints(user) })
	}
	check(t, "CountEndpoints", count(u1.ARN), 4)
	check(t, "CountEndpoints of another user", count(u2.ARN), 1)
	check(t, "CountEndpoints of a missing user", count(userARN(appA, "nope")), 0)

	e.update(func(tx carillon.Tx) error { return tx.DeleteEndpoint(u1.ARN, "e1") })
	wantErr(t, "DeleteEndpoint twice", e.write(func(tx carillon.Tx) error {
		return tx.DeleteEndpoint(u1.ARN, "e1")
	}), carillon.ErrNotFound)
	check(t, "CountEndpoints after DeleteEndpoint", count(u1.ARN), 3)
	check(t, "GetEndpoint of another user after DeleteEndpoint", get(u2.ARN, "e1"), newEndpoint(u2.ARN, "e1"))
}

// world is every resource under one AppInstance, as the cascade tests
// build and compare it.
type world struct {
	App       *carillon.AppInstance
	Retention *carillon.RetentionSettings
	Users     []carillon.AppInstanceUser
	Bots      []carillon.AppInstanceBot
	Admins    []carillon.AppInstanceAdmin
	Endpoints map[string][]carillon.UserEndpoint
	Tags      map[string][]carillon.Tag
	Keys      map[string][]carillon.AccessKey
}

// populate creates an AppInstance with two users (one with endpoints),
// two bots, an admin of each kind, tags on the AppInstance, the users and
// the bots, and access keys for a user and a bot.
func populate(e *env, app string) {
	e.t.Helper()
	u1, u2 := newUser(app, "u1"), newUser(app, "u2")
	b1, b2 := newBot(app, "b1"), newBot(app, "b2")
	e.create(newApp(app), u1, u2, b1, b2,
		&carillon.AppInstanceAdmin{AppInstanceARN: app, AdminARN: u1.ARN, Created: Start},
		&carillon.AppInstanceAdmin{AppInstanceARN: app, AdminARN: b1.ARN, Created: Start},
		newEndpoint(u1.ARN, "e1"), newEndpoint(u1.ARN, "e2"),
		newKey(app+"-k-u1", u1.ARN), newKey(app+"-k-b1", b1.ARN), newKey(app+"-k-u2", u2.ARN),
	)
	e.update(func(tx carillon.Tx) error {
		for _, arn := range []string{app, u1.ARN, u2.ARN, b1.ARN, b2.ARN} {
			if err := tx.PutTags(arn, []carillon.Tag{{Key: "k", Value: arn}, {Key: "team", Value: "x"}}); err != nil {
				return err
			}
		}
		return tx.PutRetentionSettings(app, &carillon.RetentionSettings{ChannelDays: 3, InitiatedAt: Start})
	})
}

// snapshot reads what is stored under app.
func snapshot(e *env, app string) world {
	e.t.Helper()
	w := world{Endpoints: map[string][]carillon.UserEndpoint{}, Tags: map[string][]carillon.Tag{}, Keys: map[string][]carillon.AccessKey{}}
	e.view(func(tx carillon.Tx) (err error) {
		if w.App, err = tx.GetAppInstance(app); err != nil {
			return err
		}
		if w.Retention, err = tx.GetRetentionSettings(app); err != nil {
			return err
		}
		if w.Users, err = tx.ListUsers(app, carillon.Page{}); err != nil {
			return err
		}
		if w.Bots, err = tx.ListBots(app, carillon.Page{}); err != nil {
			return err
		}
		if w.Admins, err = tx.ListAdmins(app, carillon.Page{}); err != nil {
			return err
		}
		arns := []string{app}
		for _, u := range w.Users {
			arns = append(arns, u.ARN)
			if w.Endpoints[u.ARN], err = tx.ListEndpoints(u.ARN, carillon.Page{}); err != nil {
				return err
			}
		}
		for _, b := range w.Bots {
			arns = append(arns, b.ARN)
		}
		for _, arn := range arns {
			if w.Tags[arn], err = tx.Tags(arn); err != nil {
				return err
			}
			if w.Keys[arn], err = tx.ListAccessKeys(arn); err != nil {
				return err
			}
		}
		return nil
	})
	return w
}

func testDeleteAppInstanceCascade(e *env) {
	t := e.t
	// Siblings whose ARNs share appA's as a prefix, sorting before
	// ("abc-d": '-' < '/') and after ("abcd") appA's children.
	siblings := []string{appA + "d", appA + "-d"}
	for _, app := range append([]string{appA}, siblings...) {
		populate(e, app)
	}
	e.update(func(tx carillon.Tx) error {
		return tx.PutIdempotent("CreateAppInstance", "token", appA)
	})
	before := map[string]world{}
	for _, app := range siblings {
		before[app] = snapshot(e, app)
	}

	e.update(func(tx carillon.Tx) error { return tx.DeleteAppInstance(appA) })

	users := []string{userARN(appA, "u1"), userARN(appA, "u2")}
	bots := []string{botARN(appA, "b1"), botARN(appA, "b2")}
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetAppInstance(appA)
		wantErr(t, "GetAppInstance", err, carillon.ErrNotFound)
		_, err = tx.GetRetentionSettings(appA)
		wantErr(t, "GetRetentionSettings", err, carillon.ErrNotFound)
		for _, arn := range users {
			_, err = tx.GetUser(arn)
			wantErr(t, "GetUser", err, carillon.ErrNotFound)
			_, err = tx.GetAdmin(appA, arn)
			wantErr(t, "GetAdmin", err, carillon.ErrNotFound)
		}
		for _, arn := range bots {
			_, err = tx.GetBot(arn)
			wantErr(t, "GetBot", err, carillon.ErrNotFound)
		}
		_, err = tx.GetEndpoint(users[0], "e1")
		wantErr(t, "GetEndpoint", err, carillon.ErrNotFound)
		for _, id := range []string{"-k-u1", "-k-b1", "-k-u2"} {
			_, err = tx.GetAccessKey(appA + id)
			wantErr(t, "GetAccessKey", err, carillon.ErrNotFound)
		}
		// Idempotency results outlive what they name.
		if r, found, err := tx.Idempotent("CreateAppInstance", "token"); err != nil || !found || r != appA {
			t.Errorf("Idempotent after DeleteAppInstance = %q, %v, %v; want %q, true, nil", r, found, err, appA)
		}
		return nil
	})
	for _, app := range siblings {
		check(t, "sibling "+app+" after DeleteAppInstance", snapshot(e, app), before[app])
	}

	// A new AppInstance with the same ARN starts empty: nothing of the old
	// one is left to show up under it.
	e.create(newApp(appA), newUser(appA, "u1"), newBot(appA, "b1"))
	w := snapshot(e, appA)
	check(t, "retention of the new AppInstance", w.Retention, (*carillon.RetentionSettings)(nil))
	check(t, "users of the new AppInstance", w.Users, []carillon.AppInstanceUser{*newUser(appA, "u1")})
	check(t, "bots of the new AppInstance", w.Bots, []carillon.AppInstanceBot{*newBot(appA, "b1")})
	check(t, "admins of the new AppInstance", w.Admins, []carillon.AppInstanceAdmin{})
	for arn, eps := range w.Endpoints {
		check(t, "endpoints of "+arn, eps, []carillon.UserEndpoint{})
	}
	for arn, tags := range w.Tags {
		check(t, "tags of "+arn, tags, []carillon.Tag{})
	}
	for arn, keys := range w.Keys {
		check(t, "access keys of "+arn, keys, []carillon.AccessKey{})
	}
	e.view(func(tx carillon.Tx) error {
		for _, arn := range append(users, bots...) {
			tags, err := tx.Tags(arn)
			noErr(t, "Tags", err)
			check(t, "tags of "+arn, tags, []carillon.Tag{})
		}
		n, err := tx.CountEndpoints(users[0])
		noErr(t, "CountEndpoints", err)
		check(t, "CountEndpoints of a recreated user", n, 0)
		return nil
	})
}

// testDeleteMember checks DeleteUser or DeleteBot: the member goes with its
// admin role, tags and access keys (and, for a user, its endpoints), and
// nothing else does.
func testDeleteMember(e *env, member string, del func(tx carillon.Tx, arn string) error) {
	t := e.t
	populate(e, appA)
	before := snapshot(e, appA)

	e.update(func(tx carillon.Tx) error { return del(tx, member) })
	wantErr(t, "deleting it twice", e.write(func(tx carillon.Tx) error {
		return del(tx, member)
	}), carillon.ErrNotFound)

	after := snapshot(e, appA)
	e.view(func(tx carillon.Tx) error {
		_, err := tx.GetAdmin(appA, member)
		wantErr(t, "GetAdmin of the deleted member", err, carillon.ErrNotFound)
		n, err := tx.CountAdmins(appA)
		noErr(t, "CountAdmins", err)
		check(t, "CountAdmins", n, len(before.Admins)-1)
		tags, err := tx.Tags(member)
		noErr(t, "Tags", err)
		check(t, "Tags of the deleted member", tags, []carillon.Tag{})
		keys, err := tx.ListAccessKeys(member)
		noErr(t, "ListAccessKeys", err)
		check(t, "ListAccessKeys of the deleted member", keys, []carillon.AccessKey{})
		for _, k := range before.Keys[member] {
			_, err = tx.GetAccessKey(k.ID)
			wantErr(t, "GetAccessKey of the deleted member", err, carillon.ErrNotFound)
		}
		n, err = tx.CountEndpoints(member)
		noErr(t, "CountEndpoints", err)
		check(t, "CountEndpoints of the deleted member", n, 0)
		_, err = tx.GetEndpoint(member, "e1")
		wantErr(t, "GetEndpoint of the deleted member", err, carillon.ErrNotFound)
		return nil
	})

	// Everything else is as it was.
	want := before
	want.Users = without(before.Users, func(u carillon.AppInstanceUser) bool { return u.ARN == member })
	want.Bots = without(before.Bots, func(b carillon.AppInstanceBot) bool { return b.ARN == member })
	want.Admins = without(before.Admins, func(a carillon.AppInstanceAdmin) bool { return a.AdminARN == member })
	want.Endpoints, want.Tags, want.Keys = cloneWithout(before.Endpoints, member), cloneWithout(before.Tags, member), cloneWithout(before.Keys, member)
	check(t, "the AppInstance after the delete", after, want)
}

func without[T any](s []T, drop func(T) bool) []T {
	var out []T
	for _, v := range s {
		if !drop(v) {
			out = append(out, v)
		}
	}
	return out
}

func cloneWithout[V any](m map[string]V, key string) map[string]V {
	out := make(map[string]V, len(m))
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	return out
}

func testDeleteUserCascade(e *env) {
	testDeleteMember(e, userARN(appA, "u1"), func(tx carillon.Tx, arn string) error { return tx.DeleteUser(arn) })

	// Recreated, the user starts without endpoints, tags or keys.
	u := newUser(appA, "u1")
	e.create(u)
	e.view(func(tx carillon.Tx) error {
		eps, err := tx.ListEndpoints(u.ARN, carillon.Page{})
		noErr(e.t, "ListEndpoints", err)
		check(e.t, "endpoints of a recreated user", eps, []carillon.UserEndpoint{})
		return nil
	})
}

func testDeleteBotCascade(e *env) {
	testDeleteMember(e, botARN(appA, "b1"), func(tx carillon.Tx, arn string) error { return tx.DeleteBot(arn) })
}

// testPagingWithConcurrentInserts pages through users while other
// transactions insert users before and after the cursor: every user that
// existed before the first page is seen exactly once, in order.
func testPagingWithConcurrentInserts(e *env) {
	t := e.t
	e.create(newApp(appA))
	var original []string
	for i := 2; i <= 20; i += 2 {
		u := newUser(appA, fmt.Sprintf("u%02d", i))
		e.create(u)
		original = append(original, u.ARN)
	}
	var seen []string
	after := ""
	for page := 0; ; page++ {
		got := read(e, func(tx carillon.Tx) ([]carillon.AppInstanceUser, error) {
			return tx.ListUsers(appA, carillon.Page{After: after, Limit: 3})
		})
		if len(got) == 0 || page > 20 {
			break
		}
		seen = append(seen, keys(got, func(u carillon.AppInstanceUser) string { return u.ARN })...)
		after = got[len(got)-1].ARN
		// Between two pages: a user before the cursor, one just after
		// it and one at the end.
		e.create(newUser(appA, fmt.Sprintf("u00-%d", page)), &carillon.AppInstanceUser{ARN: after + "-x", AppInstanceARN: appA},
			newUser(appA, fmt.Sprintf("u99-%d", page)))
	}
	count := map[string]int{}
	for i, arn := range seen {
		count[arn]++
		if i > 0 && seen[i-1] >= arn {
			t.Errorf("pages not in order: %q then %q", seen[i-1], arn)
		}
	}
	for _, arn := range original {
		if count[arn] != 1 {
			t.Errorf("user %q seen %d times across pages", arn, count[arn])
		}
	}
}

// testLongLists: Limit 0 means every row, not some default page size.
func testLongLists(e *env) {
	t := e.t
	const n = 150
	u := newUser(appA, "u")
	e.create(newApp(appA), u)
	e.update(func(tx carillon.Tx) error {
		for i := range n {
			id := fmt.Sprintf("%03d", i)
			for _, err := range []error{
				tx.CreateAppInstance(newApp(appB + id)),
				tx.CreateUser(newUser(appA, id)),
				tx.CreateBot(newBot(appA, id)),
				tx.CreateAdmin(&carillon.AppInstanceAdmin{AppInstanceARN: appA, AdminARN: userARN(appA, id)}),
				tx.CreateEndpoint(newEndpoint(u.ARN, id)),
				tx.AppendEvent(&carillon.Event{Type: "T"}),
			} {
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
	e.view(func(tx carillon.Tx) error {
		for what, list := range map[string]func() (int, error){
			"ListAppInstances": func() (int, error) { l, err := tx.ListAppInstances(carillon.Page{}); return len(l), err },
			"ListUsers":        func() (int, error) { l, err := tx.ListUsers(appA, carillon.Page{}); return len(l), err },
			"ListBots":         func() (int, error) { l, err := tx.ListBots(appA, carillon.Page{}); return len(l), err },
			"ListAdmins":       func() (int, error) { l, err := tx.ListAdmins(appA, carillon.Page{}); return len(l), err },
			"ListEndpoints":    func() (int, error) { l, err := tx.ListEndpoints(u.ARN, carillon.Page{}); return len(l), err },
			"Events":           func() (int, error) { l, err := tx.Events(0, 0); return len(l), err },
			"CountAdmins":      func() (int, error) { return tx.CountAdmins(appA) },
			"CountEndpoints":   func() (int, error) { return tx.CountEndpoints(u.ARN) },
		} {
			got, err := list()
			noErr(t, what, err)
			want := n
			if what == "ListAppInstances" || what == "ListUsers" {
				want = n + 1
			}
			if got != want {
				t.Errorf("%s with no limit: %d rows, want %d", what, got, want)
			}
		}
		return nil
	})
}
