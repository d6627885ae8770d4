// Helpers shared by the end-to-end scripts: settings from the
// environment, the AWS SDK clients, assertions, and Carillon's own
// credentials API.
//
// Settings (all required unless noted):
//   CARILLON_ENDPOINT      base URL of the REST API (http:// or https://)
//   AWS_REGION             the region the server signs for
//   AWS_ACCESS_KEY_ID      the root key
//   AWS_SECRET_ACCESS_KEY
//   NODE_EXTRA_CA_CERTS    (https only) PEM of the server's certificate

import { ChimeSDKIdentityClient } from '@aws-sdk/client-chime-sdk-identity';
import { ChimeSDKMessagingClient } from '@aws-sdk/client-chime-sdk-messaging';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

export class Failure extends Error {}

export function check(cond, message) {
  if (!cond) {
    throw new Failure(typeof message === 'function' ? message() : message);
  }
}

export function eq(got, want, what) {
  check(got === want, () => `${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

export function settings() {
  const s = {
    endpoint: process.env.CARILLON_ENDPOINT,
    region: process.env.AWS_REGION,
    accessKeyId: process.env.AWS_ACCESS_KEY_ID,
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
  };
  const missing = Object.entries(s).filter(([, v]) => !v).map(([k]) => k);
  check(missing.length === 0, `missing settings: ${missing.join(', ')} (see the comment at the top of common.mjs)`);
  s.endpoint = s.endpoint.replace(/\/+$/, '');
  s.root = { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey };
  return s;
}

// clientConfig points an SDK client at the server. One attempt: a test
// wants the server's answer, not the SDK's retries of it.
function clientConfig(s, credentials, maxAttempts = 1) {
  return { endpoint: s.endpoint, region: s.region, credentials, maxAttempts };
}

export function identityClient(s, credentials = s.root) {
  return new ChimeSDKIdentityClient(clientConfig(s, credentials));
}

export function messagingClient(s, credentials = s.root, maxAttempts = 1) {
  return new ChimeSDKMessagingClient(clientConfig(s, credentials, maxAttempts));
}

// expectError runs fn, which must fail with the modelled exception
// exceptionClass (checked both by err.name and instanceof) and status.
export async function expectError(fn, exceptionClass, status, what) {
  let err;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  check(err !== undefined, `${what}: succeeded, want ${exceptionClass.name}`);
  check(err.name === exceptionClass.name, () => `${what}: error name ${err.name} (${err.message}), want ${exceptionClass.name}`);
  check(err instanceof exceptionClass, () => `${what}: the SDK did not deserialize the modelled ${exceptionClass.name} (got ${err.constructor.name})`);
  eq(err.$metadata?.httpStatusCode, status, `${what}: HTTP status`);
  check(err.$metadata?.requestId, `${what}: no request id`);
  return err;
}

// createUserCredentials issues a per-user key through Carillon's
// POST /carillon/credentials, SigV4-signed with the root key like the
// AWS APIs. With expiresInSeconds the key is temporary and carries a
// session token, as AWS STS credentials do.
export async function createUserCredentials(s, bearer, expiresInSeconds) {
  const url = new URL(s.endpoint + '/carillon/credentials');
  const body = JSON.stringify(expiresInSeconds ? { Bearer: bearer, ExpiresInSeconds: expiresInSeconds } : { Bearer: bearer });
  const request = new HttpRequest({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path: url.pathname,
    headers: { host: url.host, 'content-type': 'application/json' },
    body,
  });
  const signer = new SignatureV4({ credentials: s.root, region: s.region, service: 'chime', sha256: Sha256 });
  const signed = await signer.sign(request);
  // fetch sets Host itself (to the same url.host that was signed).
  const { host: _signedHost, ...headers } = signed.headers;
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  check(res.ok, () => `POST /carillon/credentials: HTTP ${res.status}: ${text}`);
  const c = JSON.parse(text);
  check(c.AccessKeyId && c.SecretAccessKey && c.Bearer === bearer, () => `POST /carillon/credentials answered ${text}`);
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
}

export const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

// run runs main and exits 0, or prints the failure and exits 1. A
// watchdog fails the script if it has not finished within timeoutMs.
export function run(name, main, timeoutMs) {
  const watchdog = setTimeout(() => {
    console.error(`FAIL: ${name}: timed out after ${timeoutMs} ms`);
    process.exit(1);
  }, timeoutMs);
  watchdog.unref();
  main().then(
    () => {
      console.log('PASS');
      process.exit(0);
    },
    e => {
      if (e instanceof Failure) {
        console.error(`FAIL: ${name}: ${e.message}`);
      } else {
        console.error(`FAIL: ${name}: unexpected ${e?.name ?? 'error'}: ${e?.message ?? e}\n${e?.stack ?? ''}`);
      }
      process.exit(1);
    },
  );
}
