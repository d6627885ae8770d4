package bench

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging/types"
	"github.com/google/uuid"

	"github.com/carillonhq/carillon"
	"github.com/carillonhq/carillon/carillontest"
)

// The elastic channels of the benchmarks: sub-channels of up to 1,000
// members, 20 at most, merged below 10% (none is, here).
const (
	elasticTarget  = 1000
	elasticMaxSubs = 20
	elasticMinPct  = 10
)

// BenchmarkCreateChannelMembership is one CreateChannelMembership through
// the Go SDK, by the channel's creator (a moderator), of a user who is not
// a member yet, in a channel of 100 and of 10,000 members counting the
// new one:
//
//   - regular/members=N: a channel without ElasticChannelConfiguration,
//     the baseline (10,000 is its quota of memberships).
//   - elastic/members=N: an elastic channel (TargetMembershipsPerSubChannel
//     1,000, MaximumSubChannels 20); with 10,000 members its ten
//     sub-channels are full but the one the join goes to, so the join
//     places the member without opening a sub-channel.
//
// After each op, untimed, the member leaves again (DeleteChannelMembership),
// so every op finds the channel as the first did. One server holds all
// the channels; its 10,201 users and the channels' memberships are
// inserted through the store API, as the API stores them (a second or two
// of setup, once). The members=10000 sub-benchmarks then alternate 500
// joins with 500 in the 100-member channel of the same kind and report
// the ratio of the medians (paired-x-of-100); elastic/members=10000 also
// alternates 500 with joins to the regular channel of 10,000
// (paired-x-of-regular).
//
//   - elastic-scale-out/members=10000: the join that finds the ten
//     sub-channels of an elastic channel of 10,000 full: it opens an
//     eleventh (SCALE_OUT) and moves 909 members into it, each with its
//     UPDATE_CHANNEL_MEMBERSHIP event, in the join's transaction. Every op
//     has a channel of its own, filled through the store API untimed
//     (about 0.2 s each). It reports moved (members moved per join) and
//     paired-x-of-join: its median over that of plain joins to
//     elastic/members=10000, 5 of which are made (untimed) after each op.
func BenchmarkCreateChannelMembership(b *testing.B) {
	e := newMembershipBench(b)
	for _, kind := range []string{"regular", "elastic"} {
		b.Run(kind, func(b *testing.B) {
			for _, n := range []int{100, 10_000} {
				b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
					ch := e.channels[kind][n]
					b.ReportAllocs()
					b.ResetTimer()
					for b.Loop() {
						e.joinLeave(b, ch, true)
					}
					b.StopTimer()
					if n == 100 {
						return
					}
					b.ReportMetric(e.paired(b, ch, e.channels[kind][100]), "paired-x-of-100")
					if kind == "elastic" {
						b.ReportMetric(e.paired(b, ch, e.channels["regular"][n]), "paired-x-of-regular")
					}
				})
			}
		})
	}
	b.Run("elastic-scale-out", func(b *testing.B) {
		b.Run("members=10000", func(b *testing.B) {
			var scaleOut, plain []float64
			moved := 0
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				ch, subs := e.fullElastic(b, 10)
				joiner := e.nextJoiner()
				b.StartTimer()
				t0 := time.Now()
				out, err := e.msg.CreateChannelMembership(context.Background(), &chimesdkmessaging.CreateChannelMembershipInput{
					ChannelArn: aws.String(ch), ChimeBearer: aws.String(e.creator), MemberArn: aws.String(joiner),
					Type: types.ChannelMembershipTypeDefault,
				})
				d := time.Since(t0)
				b.StopTimer()
				if err != nil {
					b.Fatal(err)
				}
				sub := aws.ToString(out.SubChannelId)
				if sub == "" || slices.Contains(subs, sub) {
					b.Fatalf("the join went to sub-channel %q, not a new one", sub)
				}
				moved += e.subChannelCount(b, ch, sub) - 1
				scaleOut = append(scaleOut, float64(d))
				for range 5 {
					plain = append(plain, float64(e.joinLeave(b, e.channels["elastic"][10_000], false)))
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(moved)/float64(b.N), "moved")
			b.ReportMetric(median(scaleOut)/median(plain), "paired-x-of-join")
		})
	})
}

// membershipBench is a server with 10,000 members-to-be, a pool of
// joiners, and the benchmark's channels, all created by creator.
type membershipBench struct {
	srv      *carillontest.Server
	msg      *chimesdkmessaging.Client
	app      string
	creator  string
	users    []string // 10,000 users, in ARN order
	joiners  []string
	next     int
	channels map[string]map[int]string // kind → members → channel ARN
}

func newMembershipBench(b *testing.B) *membershipBench {
	b.Helper()
	start := time.Now()
	srv := carillontest.New(b)
	ctx := context.Background()
	id := chimesdkidentity.NewFromConfig(srv.Config)
	app, users := createApp(b, id, "creator")
	e := &membershipBench{
		srv: srv, msg: chimesdkmessaging.NewFromConfig(srv.Config), app: app,
		creator:  users[0],
		channels: map[string]map[int]string{"regular": {}, "elastic": {}},
	}
	// The other users are rows like the one CreateAppInstanceUser made.
	prefix := strings.TrimSuffix(e.creator, "creator")
	for i := range 10_000 {
		e.users = append(e.users, fmt.Sprintf("%smember-%05d", prefix, i))
	}
	for i := range 200 {
		e.joiners = append(e.joiners, fmt.Sprintf("%sjoiner-%03d", prefix, i))
	}
	now := time.Now().UTC()
	if err := srv.Server.Store().Update(ctx, func(tx carillon.Tx) error {
		for _, arn := range append(slices.Clone(e.users), e.joiners...) {
			if err := tx.CreateUser(&carillon.AppInstanceUser{
				ARN: arn, AppInstanceARN: e.app, Name: "User " + arn[len(prefix):], Created: now, Updated: now,
			}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{100, 10_000} {
		// The join makes n: the regular channel's creator is a member,
		// the elastic channel's is not (it only moderates).
		e.channels["regular"][n] = e.regular(b, n-2)
		e.channels["elastic"][n] = e.elastic(b, n-1)
	}
	b.Logf("setup: %d users and 4 channels in %v", len(e.users)+len(e.joiners)+1, time.Since(start).Round(time.Millisecond))
	return e
}

// regular creates a channel whose members are the creator and the first
// n users.
func (e *membershipBench) regular(b *testing.B, n int) string {
	b.Helper()
	out, err := e.msg.CreateChannel(context.Background(), &chimesdkmessaging.CreateChannelInput{
		AppInstanceArn: aws.String(e.app), Name: aws.String("regular"), ChimeBearer: aws.String(e.creator),
	})
	if err != nil {
		b.Fatal(err)
	}
	ch := aws.ToString(out.ChannelArn)
	e.insertMembers(b, ch, e.users[:n], nil)
	return ch
}

// elastic creates an elastic channel and places the first n users in its
// sub-channels, filling each in turn, as joins one by one do.
func (e *membershipBench) elastic(b *testing.B, n int) string {
	b.Helper()
	ch, _ := e.elasticWith(b, e.users[:n])
	return ch
}

// fullElastic creates an elastic channel whose subs sub-channels hold
// 1,000 members each, and returns it with the sub-channels' IDs.
func (e *membershipBench) fullElastic(b *testing.B, subs int) (string, []string) {
	b.Helper()
	return e.elasticWith(b, e.users[:subs*elasticTarget])
}

func (e *membershipBench) elasticWith(b *testing.B, members []string) (string, []string) {
	b.Helper()
	ctx := context.Background()
	out, err := e.msg.CreateChannel(ctx, &chimesdkmessaging.CreateChannelInput{
		AppInstanceArn: aws.String(e.app), Name: aws.String("elastic"), ChimeBearer: aws.String(e.creator),
		Mode: types.ChannelModeRestricted,
		ElasticChannelConfiguration: &types.ElasticChannelConfiguration{
			MaximumSubChannels:             aws.Int32(elasticMaxSubs),
			TargetMembershipsPerSubChannel: aws.Int32(elasticTarget),
			MinimumMembershipPercentage:    aws.Int32(elasticMinPct),
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	ch := aws.ToString(out.ChannelArn)
	// CreateChannel opened the first sub-channel; the others are opened
	// here, as SCALE_OUT opens them, with UUIDv7 IDs (in ID order).
	subs, err := e.msg.ListSubChannels(ctx, &chimesdkmessaging.ListSubChannelsInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(e.creator),
	})
	if err != nil || len(subs.SubChannels) != 1 {
		b.Fatalf("ListSubChannels of a new elastic channel: %v, %v", subs, err)
	}
	ids := []string{aws.ToString(subs.SubChannels[0].SubChannelId)}
	for len(ids)*elasticTarget < len(members) {
		ids = append(ids, uuid.Must(uuid.NewV7()).String())
	}
	e.insertMembers(b, ch, members, ids)
	return ch, ids
}

// insertMembers inserts the memberships of members in ch through the
// store API, as CreateChannelMembership stores them; with subs, members
// go to the sub-channels in turn, 1,000 in each, the first ones opened
// here.
func (e *membershipBench) insertMembers(b *testing.B, ch string, members, subs []string) {
	b.Helper()
	err := e.srv.Server.Store().Update(context.Background(), func(tx carillon.Tx) error {
		now := tx.Now()
		for i, id := range subs {
			if i == 0 {
				continue
			}
			if err := tx.CreateSubChannel(&carillon.SubChannel{ChannelARN: ch, ID: id, Created: now}); err != nil {
				return err
			}
		}
		for i, m := range members {
			sub := ""
			if subs != nil {
				sub = subs[i/elasticTarget]
			}
			if err := tx.CreateMembership(&carillon.Membership{
				ChannelARN: ch, MemberARN: m, Type: "DEFAULT", InvitedBy: e.creator,
				SubChannelID: sub, Created: now, Updated: now,
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

func (e *membershipBench) nextJoiner() string {
	e.next++
	return e.joiners[e.next%len(e.joiners)]
}

// joinLeave adds the next joiner to ch and returns the time that took;
// then the joiner leaves, with the timer stopped when timed (the timer
// is left alone otherwise).
func (e *membershipBench) joinLeave(b *testing.B, ch string, timed bool) time.Duration {
	ctx := context.Background()
	joiner := e.nextJoiner()
	t0 := time.Now()
	if _, err := e.msg.CreateChannelMembership(ctx, &chimesdkmessaging.CreateChannelMembershipInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(e.creator), MemberArn: aws.String(joiner),
		Type: types.ChannelMembershipTypeDefault,
	}); err != nil {
		b.Fatal(err)
	}
	d := time.Since(t0)
	if timed {
		b.StopTimer()
		defer b.StartTimer()
	}
	if _, err := e.msg.DeleteChannelMembership(ctx, &chimesdkmessaging.DeleteChannelMembershipInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(e.creator), MemberArn: aws.String(joiner),
	}); err != nil {
		b.Fatal(err)
	}
	return d
}

// paired alternates 500 joins to ch with 500 to ref, untimed, and returns the ratio
// of their medians.
func (e *membershipBench) paired(b *testing.B, ch, ref string) float64 {
	var a, r []float64
	for range 500 {
		a = append(a, float64(e.joinLeave(b, ch, false)))
		r = append(r, float64(e.joinLeave(b, ref, false)))
	}
	return median(a) / median(r)
}

// subChannelCount is the MembershipCount of one sub-channel of ch.
func (e *membershipBench) subChannelCount(b *testing.B, ch, sub string) int {
	b.Helper()
	p := chimesdkmessaging.NewListSubChannelsPaginator(e.msg, &chimesdkmessaging.ListSubChannelsInput{
		ChannelArn: aws.String(ch), ChimeBearer: aws.String(e.creator),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		for _, s := range page.SubChannels {
			if aws.ToString(s.SubChannelId) == sub {
				return int(aws.ToInt32(s.MembershipCount))
			}
		}
	}
	b.Fatalf("no sub-channel %s", sub)
	return 0
}
