package e2e

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	mtypes "github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"

	"github.com/carillonhq/carillon/stream"
)

// The streaming export against a real Kinesis-compatible server: the
// records are read back with the Kinesis client, shard by shard.

const kinesisStream = "chime-messaging-test"

func kinesisStreamARN(name string) string {
	return "arn:aws:kinesis:" + testRegion + ":000000000000:stream/" + name
}

// stKinesis starts kinesalite with a 2-shard stream and a server that
// exports to it.
func stKinesis(t *testing.T) (*stEnv, *kinesalite) {
	t.Helper()
	k := startKinesalite(t)
	k.createStream(t, kinesisStream, 2)
	cfg := k.awsConfig()
	e := stNew(t, stream.Options{KinesisEndpoint: k.endpoint(), AWSConfig: &cfg})
	return e, k
}

// stRecord is a record read back and decoded.
type stRecord struct {
	Type    string
	Payload map[string]any
}

// byChannel decodes records and groups them by channel (their partition
// key), in stream order; a record whose payload names another channel
// than its partition key fails the test.
func byChannel(t *testing.T, recs []kinesisRecord) map[string][]stRecord {
	t.Helper()
	out := map[string][]stRecord{}
	shardOf := map[string]string{}
	for _, r := range recs {
		typ, p, err := stream.ParseRecord(r.Data)
		if err != nil {
			t.Fatalf("record %s: %v", r.Data, err)
		}
		if ch, _ := p["ChannelArn"].(string); ch != r.PartitionKey {
			t.Errorf("%s record of %s has the partition key %s", typ, ch, r.PartitionKey)
		}
		if s, ok := shardOf[r.PartitionKey]; ok && s != r.Shard {
			t.Errorf("the records of %s are in shards %s and %s", r.PartitionKey, s, r.Shard)
		}
		shardOf[r.PartitionKey] = r.Shard
		out[r.PartitionKey] = append(out[r.PartitionKey], stRecord{typ, p})
	}
	return out
}

func (e *stEnv) admin(t *testing.T, id string) string {
	t.Helper()
	arn := e.user(t, id)
	_, err := e.id.CreateAppInstanceAdmin(t.Context(), &chimesdkidentity.CreateAppInstanceAdminInput{
		AppInstanceArn: aws.String(e.app), AppInstanceAdminArn: aws.String(arn),
	})
	mustOK(t, err, "CreateAppInstanceAdmin %s", id)
	return arn
}

func (e *stEnv) channel(t *testing.T, bearer, name string, members ...string) string {
	t.Helper()
	out, err := e.msg.CreateChannel(t.Context(), &chimesdkmessaging.CreateChannelInput{
		AppInstanceArn: aws.String(e.app), Name: aws.String(name), ChimeBearer: aws.String(bearer),
		ClientRequestToken: aws.String(fmt.Sprint("t", time.Now().UnixNano())), MemberArns: members,
	})
	mustOK(t, err, "CreateChannel %s", name)
	return aws.ToString(out.ChannelArn)
}

func (e *stEnv) send(t *testing.T, bearer, ch, content string, opts ...func(*chimesdkmessaging.SendChannelMessageInput)) string {
	t.Helper()
	in := &chimesdkmessaging.SendChannelMessageInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(bearer), Content: aws.String(content),
		Type: mtypes.ChannelMessageTypeStandard, Persistence: mtypes.ChannelMessagePersistenceTypePersistent,
		ClientRequestToken: aws.String(fmt.Sprint("t", time.Now().UnixNano())),
	}
	for _, o := range opts {
		o(in)
	}
	out, err := e.msg.SendChannelMessage(t.Context(), in)
	mustOK(t, err, "SendChannelMessage %q", content)
	return aws.ToString(out.MessageId)
}

func identityArn(p map[string]any, key string) string {
	m, _ := p[key].(map[string]any)
	s, _ := m["Arn"].(string)
	return s
}

func TestStreamingKinesis(t *testing.T) {
	e, k := stKinesis(t)
	ctx := t.Context()
	alice, bob, carol, dave := e.admin(t, "alice"), e.user(t, "bob"), e.user(t, "carol"), e.user(t, "dave")

	// Before streaming is configured: not exported (no back-fill).
	before := e.channel(t, alice, "before")
	e.send(t, alice, before, "not exported")

	arn := kinesisStreamARN(kinesisStream)
	_, err := e.put(t, e.app, stConfig(mtypes.MessagingDataTypeChannel, arn), stConfig(mtypes.MessagingDataTypeChannelMessage, arn))
	mustOK(t, err, "PutMessagingStreamingConfigurations")
	e.send(t, alice, before, "exported")

	ch1 := e.channel(t, alice, "one", bob)
	ch2 := e.channel(t, bob, "two")
	var ch2Messages []string
	sendCh2 := func() {
		content := fmt.Sprint("two-", len(ch2Messages))
		e.send(t, bob, ch2, content)
		ch2Messages = append(ch2Messages, content)
	}
	m1 := e.send(t, alice, ch1, "m1")
	sendCh2()
	m2 := e.send(t, bob, ch1, "m2")
	sendCh2()
	_, err = e.msg.UpdateChannelMessage(ctx, &chimesdkmessaging.UpdateChannelMessageInput{
		ChannelArn: aws.String(ch1), MessageId: aws.String(m1), Content: aws.String("m1 edited"), ChimeBearer: aws.String(alice),
	})
	mustOK(t, err, "UpdateChannelMessage")
	_, err = e.msg.RedactChannelMessage(ctx, &chimesdkmessaging.RedactChannelMessageInput{
		ChannelArn: aws.String(ch1), MessageId: aws.String(m2), ChimeBearer: aws.String(bob),
	})
	mustOK(t, err, "RedactChannelMessage")
	sendCh2()
	_, err = e.msg.CreateChannelModerator(ctx, &chimesdkmessaging.CreateChannelModeratorInput{
		ChannelArn: aws.String(ch1), ChannelModeratorArn: aws.String(bob), ChimeBearer: aws.String(alice),
	})
	mustOK(t, err, "CreateChannelModerator")
	_, err = e.msg.DeleteChannelModerator(ctx, &chimesdkmessaging.DeleteChannelModeratorInput{
		ChannelArn: aws.String(ch1), ChannelModeratorArn: aws.String(bob), ChimeBearer: aws.String(alice),
	})
	mustOK(t, err, "DeleteChannelModerator")
	_, err = e.msg.CreateChannelBan(ctx, &chimesdkmessaging.CreateChannelBanInput{
		ChannelArn: aws.String(ch1), MemberArn: aws.String(carol), ChimeBearer: aws.String(alice),
	})
	mustOK(t, err, "CreateChannelBan")
	sendCh2()
	_, err = e.msg.DeleteChannelBan(ctx, &chimesdkmessaging.DeleteChannelBanInput{
		ChannelArn: aws.String(ch1), MemberArn: aws.String(carol), ChimeBearer: aws.String(alice),
	})
	mustOK(t, err, "DeleteChannelBan")
	_, err = e.msg.BatchCreateChannelMembership(ctx, &chimesdkmessaging.BatchCreateChannelMembershipInput{
		ChannelArn: aws.String(ch1), MemberArns: []string{carol, dave}, ChimeBearer: aws.String(alice),
	})
	mustOK(t, err, "BatchCreateChannelMembership")
	_, err = e.msg.DeleteChannelMembership(ctx, &chimesdkmessaging.DeleteChannelMembershipInput{
		ChannelArn: aws.String(ch1), MemberArn: aws.String(dave), ChimeBearer: aws.String(alice),
	})
	mustOK(t, err, "DeleteChannelMembership")
	sendCh2()
	_, err = e.msg.UpdateChannel(ctx, &chimesdkmessaging.UpdateChannelInput{
		ChannelArn: aws.String(ch1), Name: aws.String("one renamed"), Mode: mtypes.ChannelModeUnrestricted, ChimeBearer: aws.String(alice),
	})
	mustOK(t, err, "UpdateChannel")
	_, err = e.msg.PutChannelExpirationSettings(ctx, &chimesdkmessaging.PutChannelExpirationSettingsInput{
		ChannelArn: aws.String(ch1), ChimeBearer: aws.String(alice),
		ExpirationSettings: &mtypes.ExpirationSettings{ExpirationDays: aws.Int32(7), ExpirationCriterion: mtypes.ExpirationCriterionCreatedTimestamp},
	})
	mustOK(t, err, "PutChannelExpirationSettings")
	_, err = e.msg.DeleteChannelMessage(ctx, &chimesdkmessaging.DeleteChannelMessageInput{
		ChannelArn: aws.String(ch1), MessageId: aws.String(m1), ChimeBearer: aws.String(alice),
	})
	mustOK(t, err, "DeleteChannelMessage")
	e.send(t, bob, ch1, "typing", func(in *chimesdkmessaging.SendChannelMessageInput) {
		in.Type, in.Persistence = mtypes.ChannelMessageTypeControl, mtypes.ChannelMessagePersistenceTypeNonPersistent
	})
	sendCh2()
	_, err = e.msg.DeleteChannel(ctx, &chimesdkmessaging.DeleteChannelInput{ChannelArn: aws.String(ch1), ChimeBearer: aws.String(alice)})
	mustOK(t, err, "DeleteChannel")

	want := map[string][]string{
		before: {"CREATE_CHANNEL_MESSAGE"},
		ch1: {
			"CREATE_CHANNEL", "CREATE_CHANNEL_MODERATOR", "CREATE_CHANNEL_MEMBERSHIP", "CREATE_CHANNEL_MEMBERSHIP",
			"CREATE_CHANNEL_MESSAGE", "CREATE_CHANNEL_MESSAGE", "UPDATE_CHANNEL_MESSAGE", "REDACT_CHANNEL_MESSAGE",
			"CREATE_CHANNEL_MODERATOR", "DELETE_CHANNEL_MODERATOR", "CREATE_CHANNEL_BAN", "DELETE_CHANNEL_BAN",
			"CREATE_CHANNEL_MEMBERSHIP", "CREATE_CHANNEL_MEMBERSHIP", "DELETE_CHANNEL_MEMBERSHIP",
			"UPDATE_CHANNEL", "UPDATE_CHANNEL_EXPIRATION_SETTINGS", "DELETE_CHANNEL_MESSAGE", "CREATE_CHANNEL_MESSAGE",
			"DELETE_CHANNEL",
		},
		ch2: {"CREATE_CHANNEL", "CREATE_CHANNEL_MODERATOR", "CREATE_CHANNEL_MEMBERSHIP"},
	}
	for range ch2Messages {
		want[ch2] = append(want[ch2], "CREATE_CHANNEL_MESSAGE")
	}
	total := 0
	for _, w := range want {
		total += len(w)
	}
	var got map[string][]stRecord
	k.waitRecords(t, kinesisStream, func(recs []kinesisRecord) error {
		if len(recs) < total {
			return notYet("%d of %d records", len(recs), total)
		}
		got = byChannel(t, recs)
		return nil
	})
	for ch, types := range want {
		var gotTypes []string
		for _, r := range got[ch] {
			gotTypes = append(gotTypes, r.Type)
		}
		if !slices.Equal(gotTypes, types) {
			t.Errorf("records of %s:\n got %v\nwant %v", ch, gotTypes, types)
		}
	}
	if len(got) != len(want) {
		t.Errorf("records of %d channels, want %d", len(got), len(want))
	}
	if t.Failed() {
		return
	}

	// The payloads are the API shapes.
	r := got[ch1]
	if r[0].Payload["Name"] != "one" || identityArn(r[0].Payload, "CreatedBy") != alice || r[0].Payload["Mode"] != "UNRESTRICTED" {
		t.Errorf("CREATE_CHANNEL payload %v", r[0].Payload)
	}
	if identityArn(r[1].Payload, "Moderator") != alice || identityArn(r[1].Payload, "CreatedBy") != alice {
		t.Errorf("CREATE_CHANNEL_MODERATOR payload %v", r[1].Payload)
	}
	if identityArn(r[3].Payload, "Member") != bob || identityArn(r[3].Payload, "InvitedBy") != alice || r[3].Payload["Type"] != "DEFAULT" {
		t.Errorf("CREATE_CHANNEL_MEMBERSHIP payload %v", r[3].Payload)
	}
	if r[4].Payload["Content"] != "m1" || r[4].Payload["MessageId"] != m1 || identityArn(r[4].Payload, "Sender") != alice || !isoTimestamp.MatchString(fmt.Sprint(r[4].Payload["CreatedTimestamp"])) {
		t.Errorf("CREATE_CHANNEL_MESSAGE payload %v", r[4].Payload)
	}
	if r[6].Payload["Content"] != "m1 edited" || r[7].Payload["Redacted"] != true || r[7].Payload["MessageId"] != m2 {
		t.Errorf("UPDATE/REDACT payloads %v %v", r[6].Payload, r[7].Payload)
	}
	if identityArn(r[8].Payload, "Moderator") != bob || identityArn(r[9].Payload, "Moderator") != bob {
		t.Errorf("moderator payloads %v %v", r[8].Payload, r[9].Payload)
	}
	if identityArn(r[10].Payload, "Member") != carol || identityArn(r[10].Payload, "CreatedBy") != alice || identityArn(r[11].Payload, "Member") != carol {
		t.Errorf("ban payloads %v %v", r[10].Payload, r[11].Payload)
	}
	if identityArn(r[12].Payload, "Member") != carol || identityArn(r[13].Payload, "Member") != dave || identityArn(r[14].Payload, "Member") != dave {
		t.Errorf("batch membership payloads %v %v %v", r[12].Payload, r[13].Payload, r[14].Payload)
	}
	if r[15].Payload["Name"] != "one renamed" {
		t.Errorf("UPDATE_CHANNEL payload %v", r[15].Payload)
	}
	if exp, _ := r[16].Payload["ExpirationSettings"].(map[string]any); exp["ExpirationDays"] != float64(7) || exp["ExpirationCriterion"] != "CREATED_TIMESTAMP" {
		t.Errorf("UPDATE_CHANNEL_EXPIRATION_SETTINGS payload %v", r[16].Payload)
	}
	if r[17].Payload["MessageId"] != m1 || r[18].Payload["Persistence"] != "NON_PERSISTENT" || r[18].Payload["Type"] != "CONTROL" {
		t.Errorf("DELETE and NON_PERSISTENT message payloads %v %v", r[17].Payload, r[18].Payload)
	}
	var contents []string
	for _, rec := range got[ch2][3:] {
		contents = append(contents, rec.Payload["Content"].(string))
	}
	if !slices.Equal(contents, ch2Messages) {
		t.Errorf("messages of the second channel %v, want %v", contents, ch2Messages)
	}
	if got[before][0].Payload["Content"] != "exported" {
		t.Errorf("the message sent before the configuration was exported: %v", got[before])
	}
}

// The sink goes down mid-way: kinesalite is killed while messages are
// sent, the API stays fast, and when kinesalite is back (on the same
// port and data) every message is in the stream, in order per channel,
// none missing; some may be there twice.
func TestStreamingKinesisSinkRestart(t *testing.T) {
	e, k := stKinesis(t)
	alice := e.user(t, "alice")
	arn := kinesisStreamARN(kinesisStream)
	_, err := e.put(t, e.app, stConfig(mtypes.MessagingDataTypeChannelMessage, arn))
	mustOK(t, err, "PutMessagingStreamingConfigurations")
	channels := []string{e.channel(t, alice, "a"), e.channel(t, alice, "b"), e.channel(t, alice, "c")}
	want := map[string][]string{}
	// send sends n messages to each channel, round robin, and returns the
	// slowest call's time; after the message number at (if any) it runs
	// then.
	send := func(phase string, n, at int, then func()) time.Duration {
		var slowest time.Duration
		for i := range n {
			if i == at {
				then()
			}
			for ci, ch := range channels {
				content := fmt.Sprintf("%s-%d-%d", phase, ci, i)
				start := time.Now()
				e.send(t, alice, ch, content)
				slowest = max(slowest, time.Since(start))
				want[ch] = append(want[ch], content)
			}
		}
		return slowest
	}
	count := func() int {
		n := 0
		for _, w := range want {
			n += len(w)
		}
		return n
	}
	check := func(final bool) func([]kinesisRecord) error {
		return func(recs []kinesisRecord) error {
			if len(recs) < count() {
				return notYet("%d of %d records", len(recs), count())
			}
			got := byChannel(t, recs)
			for ch, w := range want {
				var contents []string
				for _, r := range got[ch] {
					contents = append(contents, r.Payload["Content"].(string))
				}
				i := 0
				for _, c := range contents {
					if i < len(w) && c == w[i] {
						i++
					} else if !slices.Contains(w, c) {
						t.Errorf("unexpected record %q in %s", c, ch)
					}
				}
				if i < len(w) {
					return notYet("%s: %d records do not hold the %d messages in order (missing from %s on)", ch, len(contents), len(w), w[i])
				}
				if final && len(contents) > len(w) {
					t.Logf("%s: %d records for %d messages (at least once)", ch, len(contents), len(w))
				}
			}
			return nil
		}
	}

	send("up", 10, -1, nil)
	k.waitRecords(t, kinesisStream, check(false))

	// Killed mid-way through a burst, while the export is putting it.
	if slowest := send("down", 10, 3, k.kill); slowest > 2*time.Second {
		t.Errorf("with the sink down, a SendChannelMessage took %v", slowest)
	}
	// The export is stuck, and says so.
	time.Sleep(300 * time.Millisecond)
	if lag := metric(t, e, `carillon_stream_lag_events{app_instance="`+e.app+`",sink="`+arn+`"}`); lag < 21 {
		t.Errorf("lag %v with at least 21 messages not exported", lag)
	}
	if failed := metric(t, e, `carillon_stream_records_failed_total{sink="`+arn+`"}`); failed == 0 {
		t.Errorf("no failed records counted while the sink is down")
	}

	k.start(t)
	send("back", 10, -1, nil)
	k.waitRecords(t, kinesisStream, check(true))
	deadline := time.Now().Add(10 * time.Second)
	for metric(t, e, `carillon_stream_lag_events{app_instance="`+e.app+`",sink="`+arn+`"}`) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the lag does not come back to 0")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if exported := metric(t, e, `carillon_stream_records_exported_total{sink="`+arn+`"}`); exported < 90 {
		t.Errorf("%v records exported, want at least 90", exported)
	}
}

// metric reads one sample of the server's /metrics.
func metric(t *testing.T, e *stEnv, series string) float64 {
	t.Helper()
	resp, err := http.Get(e.srv.Endpoint + "/metrics")
	mustOK(t, err, "GET /metrics")
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	mustOK(t, err, "reading /metrics")
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindSubmatch(body)
	if m == nil {
		if strings.Contains(series, "lag") {
			return 0
		}
		t.Fatalf("no %s in /metrics", series)
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	mustOK(t, err, "parsing %s", series)
	return v
}
