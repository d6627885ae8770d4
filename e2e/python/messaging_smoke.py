#!/usr/bin/env python3
"""Smoke test of Carillon's Chime SDK Messaging API with boto3.

Usage:
    messaging_smoke.py

Settings come from the environment: CARILLON_ENDPOINT (the REST base URL),
AWS_REGION (or AWS_DEFAULT_REGION), AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY (the root key, which may act as any user), and, for
an https:// endpoint with a self-signed certificate, AWS_CA_BUNDLE. The
script sets up an AppInstance and two users with chime-sdk-identity, then
with chime-sdk-messaging creates a channel, sends, lists, edits and
redacts a message, and checks that a forbidden call raises the modelled
ForbiddenException. It prints PASS and exits 0, or prints what failed and
exits 1.
"""

import datetime
import os
import re
import sys
import time

import boto3
import botocore.config
import botocore.exceptions


class SmokeFailure(Exception):
    pass


def check(cond, message):
    if not cond:
        raise SmokeFailure(message)


def eq(got, want, what):
    check(got == want, f"{what}: got {got!r}, want {want!r}")


def settings():
    s = {
        "endpoint": os.environ.get("CARILLON_ENDPOINT"),
        "region": os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"),
        "access_key": os.environ.get("AWS_ACCESS_KEY_ID"),
        "secret": os.environ.get("AWS_SECRET_ACCESS_KEY"),
    }
    missing = [n for n, v in s.items() if not v]
    if missing:
        raise SmokeFailure(f"missing settings: {', '.join(missing)}\n{__doc__}")
    return s


def client(s, service):
    return boto3.session.Session().client(
        service,
        endpoint_url=s["endpoint"],
        region_name=s["region"],
        aws_access_key_id=s["access_key"],
        aws_secret_access_key=s["secret"],
        # One attempt: the test wants the server's answer, not retries.
        config=botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def recent(ts):
    now = datetime.datetime.now(datetime.timezone.utc)
    return isinstance(ts, datetime.datetime) and abs((now - ts).total_seconds()) < 120


def smoke(s):
    identity = client(s, "chime-sdk-identity")
    msg = client(s, "chime-sdk-messaging")

    # Setup: an AppInstance and two users.
    ai = identity.create_app_instance(Name="Python messaging smoke")["AppInstanceArn"]

    def user(uid, name):
        return identity.create_app_instance_user(AppInstanceArn=ai, AppInstanceUserId=uid, Name=name)["AppInstanceUserArn"]

    alice, bob = user("alice", "Alice"), user("bob", "Bob")

    # A PRIVATE channel of Alice's with Bob in it.
    out = msg.create_channel(AppInstanceArn=ai, Name="py-smoke", Mode="RESTRICTED", Privacy="PRIVATE",
                             MemberArns=[bob], ChimeBearer=alice)
    eq(out["ResponseMetadata"]["HTTPStatusCode"], 201, "CreateChannel status")
    ch = out["ChannelArn"]
    check(re.fullmatch(re.escape(ai) + r"/channel/[0-9a-zA-Z-]+", ch), f"Channel ARN {ch!r}")
    members = msg.list_channel_memberships(ChannelArn=ch, ChimeBearer=alice)["ChannelMemberships"]
    eq(sorted(m["Member"]["Arn"] for m in members), sorted([alice, bob]), "ListChannelMemberships")

    # Bob writes, then Alice.
    out = msg.send_channel_message(ChannelArn=ch, Content="hello from boto3", Metadata="m1", Type="STANDARD",
                                   Persistence="PERSISTENT", ChimeBearer=bob)
    eq(out["ResponseMetadata"]["HTTPStatusCode"], 201, "SendChannelMessage status")
    eq(out["ChannelArn"], ch, "SendChannelMessage ChannelArn")
    eq(out["Status"]["Value"], "SENT", "SendChannelMessage Status.Value")
    mid = out["MessageId"]
    time.sleep(0.005)  # creation times have millisecond precision
    second = msg.send_channel_message(ChannelArn=ch, Content="second", Type="STANDARD", Persistence="PERSISTENT",
                                      ChimeBearer=alice)["MessageId"]

    def listed():
        return msg.list_channel_messages(ChannelArn=ch, SortOrder="ASCENDING", ChimeBearer=alice)["ChannelMessages"]

    msgs = listed()
    eq([m["MessageId"] for m in msgs], [mid, second], "ListChannelMessages ids (ascending)")
    m = msgs[0]
    eq(m["Content"], "hello from boto3", "listed Content")
    eq(m["Metadata"], "m1", "listed Metadata")
    eq(m["Type"], "STANDARD", "listed Type")
    eq(m["Sender"], {"Arn": bob, "Name": "Bob"}, "listed Sender")
    eq(m["Redacted"], False, "listed Redacted")
    check(recent(m["CreatedTimestamp"]), f"listed CreatedTimestamp {m['CreatedTimestamp']!r} is not a recent datetime")
    check("LastEditedTimestamp" not in m, f"a new message has LastEditedTimestamp {m.get('LastEditedTimestamp')!r}")

    # Bob edits his message.
    out = msg.update_channel_message(ChannelArn=ch, MessageId=mid, Content="edited", Metadata="m2", ChimeBearer=bob)
    eq(out["MessageId"], mid, "UpdateChannelMessage MessageId")
    eq(out["Status"]["Value"], "SENT", "UpdateChannelMessage Status.Value")
    got = msg.get_channel_message(ChannelArn=ch, MessageId=mid, ChimeBearer=alice)["ChannelMessage"]
    eq(got["Content"], "edited", "Content after UpdateChannelMessage")
    eq(got["Metadata"], "m2", "Metadata after UpdateChannelMessage")
    check(recent(got.get("LastEditedTimestamp")), f"LastEditedTimestamp {got.get('LastEditedTimestamp')!r}")
    check(got["LastEditedTimestamp"] >= got["CreatedTimestamp"], "LastEditedTimestamp before CreatedTimestamp")

    # Bob redacts it: still listed, blank.
    out = msg.redact_channel_message(ChannelArn=ch, MessageId=mid, ChimeBearer=bob)
    eq((out["ChannelArn"], out["MessageId"]), (ch, mid), "RedactChannelMessage response")
    msgs = listed()
    eq([m["MessageId"] for m in msgs], [mid, second], "ListChannelMessages ids after the redaction")
    eq(msgs[0]["Redacted"], True, "Redacted after RedactChannelMessage")
    eq(msgs[0].get("Content", ""), "", "Content after RedactChannelMessage")
    eq(msgs[0].get("Metadata", ""), "", "Metadata after RedactChannelMessage")
    eq((msgs[1]["Content"], msgs[1]["Redacted"]), ("second", False), "the other message after the redaction")

    # A typed error: Bob is no member of Alice's other PRIVATE channel.
    secret = msg.create_channel(AppInstanceArn=ai, Name="secret", Mode="RESTRICTED", Privacy="PRIVATE",
                                ChimeBearer=alice)["ChannelArn"]
    eq(msg.describe_channel(ChannelArn=secret, ChimeBearer=alice)["Channel"]["Privacy"], "PRIVATE", "DescribeChannel Privacy")
    try:
        msg.describe_channel(ChannelArn=secret, ChimeBearer=bob)
    except msg.exceptions.ForbiddenException as e:
        eq(e.response["Error"]["Code"], "ForbiddenException", "error code")
        eq(e.response["ResponseMetadata"]["HTTPStatusCode"], 403, "HTTP status")
        check(e.response["ResponseMetadata"].get("RequestId"), "no request id")
    except botocore.exceptions.ClientError as e:
        raise SmokeFailure(f"DescribeChannel by a non-member raised {type(e).__name__} "
                           f"({e.response.get('Error')}), not the modelled ForbiddenException")
    else:
        raise SmokeFailure("DescribeChannel by a non-member of a PRIVATE channel succeeded")


def main():
    try:
        smoke(settings())
    except SmokeFailure as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # an unexpected error is a failure too
        print(f"FAIL: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
