package e2e

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/chimesdkidentity"

	"github.com/carillonhq/carillon/hub"
)

// TestSessionOfDeletedUser: deleting an AppInstanceUser closes its
// messaging sessions with 4003 (the client does not reconnect) instead of
// letting them receive the channels it was in; the others go on.
func TestSessionOfDeletedUser(t *testing.T) {
	t.Parallel()
	e := wsNew(t)
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	ch := e.channel(t, alice, "team", bob)
	aliceWS, bobWS := e.connect(t, alice, "alice"), e.connect(t, bob, "bob")
	e.send(t, alice, ch, "before")
	bobWS.expectMessage(t, "before")
	aliceWS.expectMessage(t, "before")

	_, err := e.id.DeleteAppInstanceUser(t.Context(), &chimesdkidentity.DeleteAppInstanceUserInput{AppInstanceUserArn: aws.String(bob)})
	mustOK(t, err, "DeleteAppInstanceUser")
	bobWS.expectClose(t, hub.CloseForbidden)
	e.send(t, alice, ch, "after")
	aliceWS.expectMessage(t, "after")
}

// TestSessionsOfDeletedAppInstance: deleting an AppInstance closes the
// sessions of all its users with 4003.
func TestSessionsOfDeletedAppInstance(t *testing.T) {
	t.Parallel()
	e := wsNew(t)
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	e.channel(t, alice, "team", bob)
	aliceWS, bobWS := e.connect(t, alice, "alice"), e.connect(t, bob, "bob")
	_, err := e.id.DeleteAppInstance(t.Context(), &chimesdkidentity.DeleteAppInstanceInput{AppInstanceArn: aws.String(e.app)})
	mustOK(t, err, "DeleteAppInstance")
	aliceWS.expectClose(t, hub.CloseForbidden)
	bobWS.expectClose(t, hub.CloseForbidden)
}
