// Package storetest is the conformance suite of carillon.Store: the
// behaviour every storage engine must share, so that the services, which
// hold all the rules, work the same on each. An engine's tests call Run
// with a function that opens a fresh, empty store.
//
// The suite checks what store.go, and the file of each noun at the module root, document and the choices it leaves open
// that services rely on:
//
//   - Get, Update and Delete of a missing row return ErrNotFound; creating a
//     row whose key is taken returns ErrExists; creating a user, bot or
//     admin of a missing AppInstance, or an endpoint of a missing user,
//     returns ErrNotFound. All of them may be wrapped (errors.Is).
//   - A transaction goes on after a method returned ErrExists or
//     ErrNotFound: a service may try an insert and act on the conflict.
//   - Lists page by key (Page.After, Page.Limit; Limit <= 0 is no limit) in
//     ascending byte order of the key. ListAccessKeys is in ID order.
//   - Timestamps keep millisecond precision, come back in UTC, and the zero
//     time comes back as the zero time. tx.Now() is the clock's time
//     truncated to the millisecond, in UTC, fixed for the transaction.
//   - GetRetentionSettings of an AppInstance without settings returns nil
//     and no error; of a missing AppInstance, ErrNotFound.
//   - Concurrent Updates neither fail nor lose updates: an engine that can
//     fail a transaction on a conflict retries it inside Update.
//   - Event sequence numbers increase across transactions and are never
//     handed out again, even once the events are deleted.
//   - A named lock (TryLock) has one holder at a time, until Release.
//
// FakeClock is exported for the tests of other packages too.
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/carillonhq/carillon"
)

// Start is the time a FakeClock passed to open reads at the start of each
// test. It has a millisecond fraction, so that an engine dropping it shows.
var Start = time.Date(2024, 3, 4, 5, 6, 7, 890_000_000, time.UTC)

// Run runs the conformance suite as subtests of t. open must return a new,
// empty store that takes its time from clock; Run closes it when the
// subtest ends. Subtests do not run in parallel.
func Run(t *testing.T, open func(t *testing.T, clock carillon.Clock) carillon.Store) {
	tests := []struct {
		name string
		fn   func(e *env)
	}{
		{"AppInstance", testAppInstance},
		{"AppInstanceList", testAppInstanceList},
		{"RetentionSettings", testRetentionSettings},
		{"User", testUser},
		{"UserList", testUserList},
		{"Bot", testBot},
		{"BotList", testBotList},
		{"Admin", testAdmin},
		{"Endpoint", testEndpoint},
		{"LongLists", testLongLists},
		{"Tags", testTags},
		{"Idempotency", testIdempotency},
		{"AccessKey", testAccessKey},
		{"Outbox", testOutbox},
		{"OutboxSeqNeverReused", testOutboxSeqNeverReused},
		{"DeleteAppInstanceCascade", testDeleteAppInstanceCascade},
		{"DeleteUserCascade", testDeleteUserCascade},
		{"DeleteBotCascade", testDeleteBotCascade},
		{"PagingWithConcurrentInserts", testPagingWithConcurrentInserts},
		{"Now", testNow},
		{"Timestamps", testTimestamps},
		{"Rollback", testRollback},
		{"RollbackOnPanic", testRollbackOnPanic},
		{"GoesOnAfterError", testGoesOnAfterError},
		{"ReadOnly", testReadOnly},
		{"ViewSnapshot", testViewSnapshot},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"Channel", testChannel},
		{"ChannelList", testChannelList},
		{"SearchChannelsByMembers", testSearchChannelsByMembers},
		{"Membership", testMembership},
		{"MembershipList", testMembershipList},
		{"MembershipsOf", testMembershipsOf},
		{"SubChannel", testSubChannel},
		{"SubChannelCounts", testSubChannelCounts},
		{"DeleteSubChannel", testDeleteSubChannel},
		{"SubChannelMembership", testSubChannelMembership},
		{"SubChannelReadOnly", testSubChannelReadOnly},
		{"Moderator", testModerator},
		{"Ban", testBan},
		{"Message", testMessage},
		{"MessageList", testMessageList},
		{"MessageListSubChannelsAndVisibility", testMessageListFilters},
		{"MessageListStatusVisibility", testMessageListStatus},
		{"MessagePagingWithConcurrentInserts", testMessagePagingWithConcurrentInserts},
		{"DeleteChannelCascade", testDeleteChannelCascade},
		{"DeleteUserMessagingCascade", testDeleteUserMessagingCascade},
		{"DeleteBotMessagingCascade", testDeleteBotMessagingCascade},
		{"DeleteAppInstanceMessagingCascade", testDeleteAppInstanceMessagingCascade},
		{"MessagingReadOnly", testMessagingReadOnly},
		{"MessagingGoesOnAfterError", testMessagingGoesOnAfterError},
		{"OutboxAudience", testOutboxAudience},
		{"ChannelFlow", testChannelFlow},
		{"ChannelFlowList", testChannelFlowList},
		{"ChannelsWithFlow", testChannelsWithFlow},
		{"Invocation", testInvocation},
		{"InvocationHeldMessage", testInvocationHeldMessage},
		{"DueInvocations", testDueInvocations},
		{"FlowCascades", testFlowCascades},
		{"FlowReadOnly", testFlowReadOnly},
		{"FlowGoesOnAfterError", testFlowGoesOnAfterError},
		{"ExpiredChannels", testExpiredChannels},
		{"ExpiredUsers", testExpiredUsers},
		{"AppInstancesWithRetention", testAppInstancesWithRetention},
		{"DeleteMessagesBefore", testDeleteMessagesBefore},
		{"StreamingConfigurations", testStreamingConfigurations},
		{"StreamingCascade", testStreamingCascade},
		{"StreamingReadOnly", testStreamingReadOnly},
		{"Lock", testLock},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := NewFakeClock(Start)
			s := open(t, clock)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			// A deadline, so that a transaction left open by a bug fails
			// the test that waits for it instead of hanging the run.
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			tt.fn(&env{t: t, ctx: ctx, s: s, clock: clock})
		})
	}
}

// env is what a test of the suite works with.
type env struct {
	t     *testing.T
	ctx   context.Context // of every Update and View
	s     carillon.Store
	clock *FakeClock
}

// update runs fn in an Update and fails the test if it returns an error.
// fn reports unexpected results with t.Errorf and returns an error only to
// stop: calling t.Fatal inside a transaction would leave it to the engine's
// clean-up.
func (e *env) update(fn func(tx carillon.Tx) error) {
	e.t.Helper()
	if err := e.s.Update(e.ctx, fn); err != nil {
		e.t.Fatalf("Update: %v", err)
	}
}

// view runs fn in a View and fails the test if it returns an error.
func (e *env) view(fn func(tx carillon.Tx) error) {
	e.t.Helper()
	if err := e.s.View(e.ctx, fn); err != nil {
		e.t.Fatalf("View: %v", err)
	}
}

// read runs fn in a View and returns its result, failing the test on error.
func read[T any](e *env, fn func(tx carillon.Tx) (T, error)) T {
	e.t.Helper()
	var v T
	e.view(func(tx carillon.Tx) error {
		var err error
		v, err = fn(tx)
		return err
	})
	return v
}

// write runs fn in an Update and returns its error.
func (e *env) write(fn func(tx carillon.Tx) error) error {
	return e.s.Update(e.ctx, fn)
}

// wantErr reports an error unless errors.Is(err, target).
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v, want %v", what, err, target)
	}
}

// noErr reports err if it is not nil.
func noErr(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: %v", what, err)
	}
}

// check reports a difference between want and got.
func check(t *testing.T, what string, got, want any) {
	t.Helper()
	if !same(reflect.ValueOf(got), reflect.ValueOf(want)) {
		t.Errorf("%s:\n got: %s\nwant: %s", what, show(got), show(want))
	}
}

// show formats v for a failure message. JSON, unlike %+v, shows what
// nested pointers point to.
func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%+v", v)
	}
	return string(b)
}

var timeType = reflect.TypeFor[time.Time]()

// same is a deep equality for the domain types that lets engines differ
// where callers cannot tell: times are compared as instants (whatever
// their *time.Location value, which engines build differently), nil and
// empty slices are the same, and so are nil and empty byte payloads.
func same(a, b reflect.Value) bool {
	if !a.IsValid() || !b.IsValid() {
		return a.IsValid() == b.IsValid()
	}
	if a.Type() != b.Type() {
		return false
	}
	if a.Type() == timeType {
		ta, tb := a.Interface().(time.Time), b.Interface().(time.Time)
		return ta.Equal(tb) && ta.IsZero() == tb.IsZero()
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return same(a.Elem(), b.Elem())
	case reflect.Struct:
		for i := range a.NumField() {
			if !same(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Map:
		if a.Len() != b.Len() {
			return false
		}
		for it := a.MapRange(); it.Next(); {
			v := b.MapIndex(it.Key())
			if !v.IsValid() || !same(it.Value(), v) {
				return false
			}
		}
		return true
	case reflect.Slice:
		if a.Type().Elem().Kind() == reflect.Uint8 {
			return bytes.Equal(a.Bytes(), b.Bytes())
		}
		if a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !same(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	default:
		return a.Equal(b)
	}
}

// Fixtures. ARNs follow the Chime layout, every resource under its
// AppInstance's ARN.

const (
	appA = "arn:aws:chime:us-east-1:111122223333:app-instance/abc"
	appB = "arn:aws:chime:us-east-1:111122223333:app-instance/other"
)

func userARN(app, id string) string { return app + "/user/" + id }
func botARN(app, id string) string  { return app + "/bot/" + id }

func newApp(arn string) *carillon.AppInstance {
	return &carillon.AppInstance{
		ARN: arn, Name: "name of " + arn, Metadata: "metadata of " + arn,
		Created: Start, Updated: Start,
	}
}

func newUser(app, id string) *carillon.AppInstanceUser {
	return &carillon.AppInstanceUser{
		ARN: userARN(app, id), AppInstanceARN: app, Name: "user " + id, Metadata: "m-" + id,
		Created: Start, Updated: Start,
	}
}

func newBot(app, id string) *carillon.AppInstanceBot {
	return &carillon.AppInstanceBot{
		ARN: botARN(app, id), AppInstanceARN: app, Name: "bot " + id, Metadata: "m-" + id,
		Lex: carillon.LexConfiguration{
			LexBotAliasARN: "arn:aws:lex:us-east-1:111122223333:bot-alias/B/A",
			LocaleID:       "en_US",
			InvokedBy:      &carillon.InvokedBy{StandardMessages: "AUTO", TargetedMessages: "ALL"},
		},
		Created: Start, Updated: Start,
	}
}

func newEndpoint(user, id string) *carillon.UserEndpoint {
	return &carillon.UserEndpoint{
		UserARN: user, ID: id, Name: "endpoint " + id, Type: "GCM",
		ResourceARN:   "arn:aws:sns:us-east-1:111122223333:app/GCM/carillon",
		DeviceToken:   "token-" + id,
		AllowMessages: "ALL", StateStatus: "ACTIVE",
		Created: Start, Updated: Start,
	}
}

func newKey(id, bearer string) *carillon.AccessKey {
	return &carillon.AccessKey{ID: id, Secret: "secret-" + id, Bearer: bearer, Created: Start}
}

// create inserts the given resources in one Update, failing the test on
// any error. It takes the pointer types the Tx create methods take.
func (e *env) create(rs ...any) {
	e.t.Helper()
	e.update(func(tx carillon.Tx) error {
		for _, r := range rs {
			var err error
			switch r := r.(type) {
			case *carillon.AppInstance:
				err = tx.CreateAppInstance(r)
			case *carillon.AppInstanceUser:
				err = tx.CreateUser(r)
			case *carillon.AppInstanceBot:
				err = tx.CreateBot(r)
			case *carillon.AppInstanceAdmin:
				err = tx.CreateAdmin(r)
			case *carillon.UserEndpoint:
				err = tx.CreateEndpoint(r)
			case *carillon.AccessKey:
				err = tx.CreateAccessKey(r)
			default:
				err = createMessaging(tx, r)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// keys returns the keys of a list, for order and paging checks.
func keys[T any](items []T, key func(T) string) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, key(it))
	}
	return out
}

// checkPaging checks a list against want, its keys in ascending order:
// the whole list, pages of every size, a cursor between two keys and past
// the end.
func checkPaging[T any](e *env, what string, want []string, list func(tx carillon.Tx, p carillon.Page) ([]T, error), key func(T) string) {
	e.t.Helper()
	e.view(func(tx carillon.Tx) error {
		for _, limit := range []int{0, -1, len(want) + 1} {
			got, err := list(tx, carillon.Page{Limit: limit})
			if err != nil {
				return err
			}
			check(e.t, fmt.Sprintf("%s with Limit %d", what, limit), keys(got, key), want)
		}
		for size := 1; size <= len(want); size++ {
			var all []string
			after := ""
			for pages := 0; ; pages++ {
				if pages > len(want)+1 {
					e.t.Errorf("%s: pages of %d do not end", what, size)
					break
				}
				got, err := list(tx, carillon.Page{After: after, Limit: size})
				if err != nil {
					return err
				}
				if len(got) > size {
					e.t.Errorf("%s: page of %d rows with Limit %d", what, len(got), size)
				}
				if len(got) == 0 {
					break
				}
				all = append(all, keys(got, key)...)
				after = key(got[len(got)-1])
			}
			check(e.t, fmt.Sprintf("%s in pages of %d", what, size), all, want)
		}
		if len(want) > 0 {
			// A cursor that is not a key: the rows after it.
			got, err := list(tx, carillon.Page{After: want[0] + "\x00"})
			if err != nil {
				return err
			}
			check(e.t, what+" after a cursor between keys", keys(got, key), want[1:])
			got, err = list(tx, carillon.Page{After: want[len(want)-1]})
			if err != nil {
				return err
			}
			check(e.t, what+" after the last key", keys(got, key), []string{})
		}
		return nil
	})
}
