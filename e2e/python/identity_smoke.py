#!/usr/bin/env python3
"""Smoke test of Carillon's Chime SDK Identity API with boto3.

Usage:
    identity_smoke.py [ENDPOINT [REGION [ACCESS_KEY_ID [SECRET_ACCESS_KEY]]]]

Arguments left out are read from CARILLON_ENDPOINT, AWS_REGION (or
AWS_DEFAULT_REGION), AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; the key
must be the root key. On success the script prints the ARN of the
AppInstance it created on a line of its own, "APP_INSTANCE_ARN=<arn>", and
exits 0; on any failure it prints what failed and exits 1.
"""

import datetime
import os
import re
import sys

import boto3
import botocore.config
import botocore.exceptions

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


class SmokeFailure(Exception):
    pass


def check(cond, message):
    if not cond:
        raise SmokeFailure(message)


def expect_client_error(fn, code, status, what):
    """Runs fn, which must raise a ClientError with code and HTTP status."""
    try:
        fn()
    except botocore.exceptions.ClientError as e:
        got = e.response.get("Error", {}).get("Code")
        got_status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        check(got == code, f"{what}: error code {got!r}, want {code!r} ({e})")
        check(got_status == status, f"{what}: HTTP status {got_status}, want {status}")
        check(e.response.get("ResponseMetadata", {}).get("RequestId"), f"{what}: no request id")
        return e
    raise SmokeFailure(f"{what}: succeeded, want {code}")


def settings(argv):
    names = ["endpoint", "region", "access_key", "secret"]
    env = {
        "endpoint": os.environ.get("CARILLON_ENDPOINT"),
        "region": os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"),
        "access_key": os.environ.get("AWS_ACCESS_KEY_ID"),
        "secret": os.environ.get("AWS_SECRET_ACCESS_KEY"),
    }
    if len(argv) > len(names):
        raise SmokeFailure(__doc__)
    for name, value in zip(names, argv):
        env[name] = value
    missing = [n for n in names if not env[n]]
    if missing:
        raise SmokeFailure(f"missing settings: {', '.join(missing)}\n{__doc__}")
    return env


def client(s, secret=None):
    return boto3.session.Session().client(
        "chime-sdk-identity",
        endpoint_url=s["endpoint"],
        region_name=s["region"],
        aws_access_key_id=s["access_key"],
        aws_secret_access_key=secret or s["secret"],
        config=botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def smoke(s):
    c = client(s)

    # AppInstance.
    out = c.create_app_instance(Name="Python smoke", Metadata="boto3")
    check(out["ResponseMetadata"]["HTTPStatusCode"] == 201, f"CreateAppInstance status {out['ResponseMetadata']['HTTPStatusCode']}")
    ai = out["AppInstanceArn"]
    account_region = re.escape(f"arn:aws:chime:{s['region']}:000000000000:")
    check(re.fullmatch(account_region + "app-instance/" + UUID, ai), f"AppInstance ARN {ai!r}")
    d = c.describe_app_instance(AppInstanceArn=ai)["AppInstance"]
    check(d["AppInstanceArn"] == ai and d["Name"] == "Python smoke" and d["Metadata"] == "boto3", f"DescribeAppInstance {d}")
    check(isinstance(d["CreatedTimestamp"], datetime.datetime), f"CreatedTimestamp {d['CreatedTimestamp']!r}")
    now = datetime.datetime.now(datetime.timezone.utc)
    check(abs((now - d["CreatedTimestamp"]).total_seconds()) < 120, f"CreatedTimestamp {d['CreatedTimestamp']} is not now ({now})")

    # User: create, list, describe, update, delete.
    user_id = "py.user@example.com"
    out = c.create_app_instance_user(AppInstanceArn=ai, AppInstanceUserId=user_id, Name="Py User")
    user = out["AppInstanceUserArn"]
    check(user == f"{ai}/user/{user_id}", f"AppInstanceUser ARN {user!r}")

    expect_client_error(
        lambda: c.create_app_instance_user(AppInstanceArn=ai, AppInstanceUserId=user_id, Name="Twin"),
        "ConflictException", 409, "CreateAppInstanceUser with a taken id")
    expect_client_error(
        lambda: c.create_app_instance_user(AppInstanceArn=ai, AppInstanceUserId="long", Name="n" * 101),
        "BadRequestException", 400, "CreateAppInstanceUser with a 101-character name")

    users = c.list_app_instance_users(AppInstanceArn=ai)
    check(users["AppInstanceArn"] == ai, f"ListAppInstanceUsers AppInstanceArn {users.get('AppInstanceArn')!r}")
    check([u["AppInstanceUserArn"] for u in users["AppInstanceUsers"]] == [user], f"ListAppInstanceUsers {users['AppInstanceUsers']}")
    check("NextToken" not in users, f"ListAppInstanceUsers NextToken {users.get('NextToken')!r}")

    u = c.describe_app_instance_user(AppInstanceUserArn=user)["AppInstanceUser"]
    check(u["AppInstanceUserArn"] == user and u["Name"] == "Py User", f"DescribeAppInstanceUser {u}")
    check("Metadata" not in u and "ExpirationSettings" not in u, f"DescribeAppInstanceUser has members never set: {u}")
    created = u["CreatedTimestamp"]

    out = c.update_app_instance_user(AppInstanceUserArn=user, Name="Py User 2", Metadata="updated")
    check(out["AppInstanceUserArn"] == user, f"UpdateAppInstanceUser {out}")
    u = c.describe_app_instance_user(AppInstanceUserArn=user)["AppInstanceUser"]
    check(u["Name"] == "Py User 2" and u["Metadata"] == "updated", f"after UpdateAppInstanceUser: {u}")
    check(u["CreatedTimestamp"] == created, f"CreatedTimestamp changed from {created} to {u['CreatedTimestamp']}")
    check(u["LastUpdatedTimestamp"] >= created, f"LastUpdatedTimestamp {u['LastUpdatedTimestamp']} before CreatedTimestamp {created}")

    out = c.delete_app_instance_user(AppInstanceUserArn=user)
    check(out["ResponseMetadata"]["HTTPStatusCode"] == 204, f"DeleteAppInstanceUser status {out['ResponseMetadata']['HTTPStatusCode']}")
    e = expect_client_error(lambda: c.describe_app_instance_user(AppInstanceUserArn=user),
                            "ForbiddenException", 403, "DescribeAppInstanceUser after delete")
    check(isinstance(e, c.exceptions.ForbiddenException), f"botocore raised {type(e).__name__}, not the modelled ForbiddenException")
    users = c.list_app_instance_users(AppInstanceArn=ai)
    check(users["AppInstanceUsers"] == [], f"ListAppInstanceUsers after delete {users['AppInstanceUsers']}")

    # A request signed with the wrong secret.
    wrong = s["secret"][:-1] + ("A" if s["secret"][-1] != "A" else "B")
    bad = client(s, secret=wrong)
    expect_client_error(lambda: bad.list_app_instances(), "InvalidSignatureException", 403, "ListAppInstances with a wrong secret")

    return ai


def main(argv):
    try:
        s = settings(argv)
        ai = smoke(s)
    except SmokeFailure as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # an unexpected error is a failure too
        print(f"FAIL: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(f"APP_INSTANCE_ARN={ai}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
