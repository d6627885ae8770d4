// Package loadkit is the client side the load tools in bench/ share: the
// users and memberships they create, the messaging sessions they open
// the way amazon-chime-sdk-js does (a presigned GET /connect, then
// SESSION_ESTABLISHED), and the descriptor limit they raise.
package loadkit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkmessaging"
	"github.com/gorilla/websocket"
)

// CreateUsers creates n AppInstanceUsers named prefix-00000… in app,
// eight requests at a time, and returns their ARNs in order. progress,
// when not nil, is called every 2,000 users.
func CreateUsers(ctx context.Context, id *chimesdkidentity.Client, app, prefix string, n int, progress func(done int)) ([]string, error) {
	users := make([]string, n)
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	for range min(8, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				u, err := id.CreateAppInstanceUser(ctx, &chimesdkidentity.CreateAppInstanceUserInput{
					AppInstanceArn:    aws.String(app),
					AppInstanceUserId: aws.String(fmt.Sprintf("%s-%05d", prefix, i)),
					Name:              aws.String(fmt.Sprintf("%s %d", prefix, i)),
				})
				if err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("CreateAppInstanceUser: %w", err) })
					next.Store(int64(n))
					return
				}
				users[i] = aws.ToString(u.AppInstanceUserArn)
				if progress != nil && (i+1)%2000 == 0 {
					progress(i + 1)
				}
			}
		})
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	return users, firstErr
}

// AddMembers makes members members of channel, 100 per
// BatchCreateChannelMembership (the most it takes), acting as bearer.
func AddMembers(ctx context.Context, msg *chimesdkmessaging.Client, channel, bearer string, members []string) error {
	for i := 0; i < len(members); i += 100 {
		out, err := msg.BatchCreateChannelMembership(ctx, &chimesdkmessaging.BatchCreateChannelMembershipInput{
			ChannelArn:  aws.String(channel),
			ChimeBearer: aws.String(bearer),
			MemberArns:  members[i:min(i+100, len(members))],
		})
		if err != nil {
			return fmt.Errorf("BatchCreateChannelMembership: %w", err)
		}
		if len(out.Errors) > 0 {
			return fmt.Errorf("BatchCreateChannelMembership: %s: %s", aws.ToString(out.Errors[0].MemberArn), aws.ToString(out.Errors[0].ErrorMessage))
		}
	}
	return nil
}

var emptySHA256 = func() string { s := sha256.Sum256(nil); return hex.EncodeToString(s[:]) }()

// ConnectURL presigns GET <scheme>://host/connect for user, as
// amazon-chime-sdk-js does; scheme is "wss" or "ws" (the signature does
// not cover it: a server's plain listener accepts the same URL).
func ConnectURL(ctx context.Context, creds aws.Credentials, region, scheme, host, user, sessionID string) (string, error) {
	q := url.Values{"userArn": {user}, "sessionId": {sessionID}, "X-Amz-Expires": {"10"}}
	req, err := http.NewRequest(http.MethodGet, scheme+"://"+host+"/connect?"+q.Encode(), nil)
	if err != nil {
		return "", err
	}
	signed, _, err := v4.NewSigner().PresignHTTP(ctx, creds, req, emptySHA256, "chime", region, time.Now())
	return signed, err
}

// Dial opens the session at the presigned url and waits for its
// SESSION_ESTABLISHED frame.
func Dial(ctx context.Context, dialer *websocket.Dialer, url string) (*websocket.Conn, error) {
	conn, _, err := dialer.DialContext(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, frame, err := conn.ReadMessage()
	if err == nil && !strings.Contains(string(frame), `"x-amz-chime-event-type":"SESSION_ESTABLISHED"`) {
		err = fmt.Errorf("first frame is not SESSION_ESTABLISHED: %.200s", frame)
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	_ = conn.SetReadDeadline(time.Time{})
	return conn, nil
}

// CloseClass names how a session ended: its close code, or the network
// error of a connection that ended without one.
func CloseClass(err error) string {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return fmt.Sprintf("%d %s", ce.Code, ce.Text)
	}
	return "no close frame: " + ErrorClass(err)
}

// ErrorClass shortens an error for counting: without the addresses that
// make every instance unique.
func ErrorClass(err error) string {
	s := err.Error()
	for _, cut := range []string{"dial tcp ", "read tcp ", "write tcp "} {
		if i := strings.Index(s, cut); i >= 0 {
			if j := strings.LastIndex(s, ": "); j > i {
				return strings.TrimSpace(cut) + ": " + s[j+2:]
			}
		}
	}
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
