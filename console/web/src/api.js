// The console's only way to the server: the official AWS SDK for
// JavaScript clients, signing each request with the key the user signed
// in with, as any web app does; and SigV4-signed fetches, with the same
// signer, for Carillon's own API under /carillon/.
//
// The key lives in this tab's sessionStorage only: closing the tab
// forgets it, and it is never written anywhere else.

import * as Identity from '@aws-sdk/client-chime-sdk-identity';
import * as Messaging from '@aws-sdk/client-chime-sdk-messaging';
import { SignatureV4 } from '@smithy/signature-v4';

const storageKey = 'carillon.console.key';

// The server's answers to the page before sign-in: the region to sign
// for.
let serverConfig = { Region: 'us-east-1' };

export async function loadConfig() {
  try {
    const res = await fetch('config.json', { cache: 'no-cache' });
    if (res.ok) {
      serverConfig = await res.json();
    }
  } catch {
    // The default region stands; sign-in lets the user change it.
  }
  return serverConfig;
}

export function defaultRegion() {
  return serverConfig.Region || 'us-east-1';
}

// The signed-in state: the key, and who it is (GET
// /carillon/caller-identity).
let current = null;

export function savedKey() {
  try {
    return JSON.parse(sessionStorage.getItem(storageKey) ?? 'null');
  } catch {
    return null;
  }
}

export function signOut() {
  sessionStorage.removeItem(storageKey);
  current = null;
}

// signIn checks the key with the server and keeps it for this tab.
// It throws the server's error (an ApiError) when the key is refused.
export async function signIn(key) {
  const clients = makeClients(key);
  const me = await signedFetch(clients, 'GET', '/carillon/caller-identity');
  current = { key, clients, me };
  sessionStorage.setItem(storageKey, JSON.stringify(key));
  return current;
}

export function session() {
  return current;
}

// isRoot says whether the signed-in key may act as any user.
export function isRoot() {
  return Boolean(current?.me?.Root);
}

// bearerOf is the user a per-user key acts as; '' for root.
export function bearerOf() {
  return current?.me?.Bearer ?? '';
}

function makeClients(key) {
  const config = {
    region: key.region,
    endpoint: location.origin,
    credentials: {
      accessKeyId: key.accessKeyId,
      secretAccessKey: key.secretAccessKey,
      ...(key.sessionToken ? { sessionToken: key.sessionToken } : {}),
    },
    // One retry on throttling or a dropped connection; an error the
    // user caused is shown at once.
    maxAttempts: 2,
  };
  const identity = new Identity.ChimeSDKIdentityClient(config);
  const messaging = new Messaging.ChimeSDKMessagingClient(config);
  const signer = new SignatureV4({
    service: 'chime',
    region: key.region,
    credentials: config.credentials,
    sha256: messaging.config.sha256,
  });
  return { identity, messaging, signer };
}

export function messagingClient() {
  return current.clients.messaging;
}

// ApiError is an error as AWS reports it: its type (the exception's
// name, from X-Amzn-ErrorType), message, HTTP status and request id.
export class ApiError extends Error {
  constructor({ type, message, status, requestId, operation }) {
    super(message);
    this.name = type;
    this.type = type;
    this.status = status;
    this.requestId = requestId;
    this.operation = operation;
  }
}

// toApiError turns what a client threw into an ApiError.
export function toApiError(err, operation) {
  if (err instanceof ApiError) {
    return err;
  }
  const meta = err?.$metadata ?? {};
  if (err instanceof TypeError && /fetch/i.test(err.message)) {
    return new ApiError({
      type: 'NetworkError',
      message: 'The server did not answer (it may have stopped, or the connection was refused).',
      operation,
    });
  }
  return new ApiError({
    type: err?.name ?? 'Error',
    message: err?.message || String(err),
    status: meta.httpStatusCode,
    requestId: meta.requestId,
    operation,
  });
}

// identity('ListAppInstances', {…}) and messaging('ListChannels', {…})
// send one command and return its output; errors are ApiErrors.
export function identity(operation, input = {}) {
  return send(current.clients.identity, Identity, operation, input);
}

export function messaging(operation, input = {}) {
  return send(current.clients.messaging, Messaging, operation, input);
}

async function send(client, commands, operation, input) {
  const Command = commands[`${operation}Command`];
  if (!Command) {
    throw new Error(`no command ${operation}`);
  }
  try {
    return await client.send(new Command(input));
  } catch (err) {
    throw toApiError(err, operation);
  }
}

// listAll pages through a List operation, up to limit items, and returns
// the items of the field named.
export async function listAll(service, operation, input, field, limit = 1000) {
  const call = service === 'identity' ? identity : messaging;
  const out = [];
  let NextToken;
  do {
    const page = await call(operation, { ...input, MaxResults: Math.min(50, limit - out.length) || 1, NextToken });
    out.push(...(page[field] ?? []));
    NextToken = page.NextToken;
  } while (NextToken && out.length < limit);
  return out;
}

// carillon('GET', '/carillon/status') calls Carillon's own API, signed.
export function carillon(method, path, body) {
  return signedFetch(current.clients, method, path, body);
}

async function signedFetch(clients, method, path, body) {
  const url = new URL(path, location.origin);
  const payload = body === undefined ? '' : JSON.stringify(body);
  const headers = { host: url.host };
  if (payload) {
    headers['content-type'] = 'application/json';
  }
  const signed = await clients.signer.sign({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path: url.pathname,
    query: {},
    headers,
    body: payload,
  });
  const sent = { ...signed.headers };
  delete sent.host; // the browser sets it, as signed
  let res;
  try {
    res = await fetch(url, { method, headers: sent, body: payload || undefined, cache: 'no-store' });
  } catch (err) {
    throw toApiError(err, `${method} ${path}`);
  }
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: reported below
  }
  if (!res.ok) {
    throw new ApiError({
      type: res.headers.get('x-amzn-errortype')?.split(':')[0] ?? `HTTP ${res.status}`,
      message: json?.Message ?? json?.message ?? text,
      status: res.status,
      requestId: res.headers.get('x-amzn-requestid') ?? undefined,
      operation: `${method} ${path}`,
    });
  }
  return json;
}

// token makes a ClientRequestToken.
export function token() {
  return crypto.randomUUID();
}
