// Live: a messaging session opened as a user with amazon-chime-sdk-js's
// DefaultMessagingSession, exactly as a web app opens one (the SDK asks
// GetMessagingSessionEndpoint where to connect, and presigns the wss://
// URL with the signed-in key). Its events are listed as they arrive, and
// the user's channels can be read and written to: two tabs, live as two
// users, make a conversation.
//
// The session outlives the view: browsing elsewhere keeps it open (the
// sidebar says so) until Disconnect or sign-out.

import DefaultMessagingSession from 'amazon-chime-sdk-js/build/messagingsession/DefaultMessagingSession';
import MessagingSessionConfiguration from 'amazon-chime-sdk-js/build/messagingsession/MessagingSessionConfiguration';
import LogLevel from 'amazon-chime-sdk-js/build/logger/LogLevel';
import { h, replace, lastPart, clock, arnParts, when } from '../dom.js';
import * as api from '../api.js';
import { header, empty, loading, errorBox, badge, button, link } from '../ui.js';
import { messageComposer } from './channel.js';

const maxEvents = 500;

// live is the session's state, shared by the view and the sidebar.
const live = {
  app: '',
  user: '',
  userName: '',
  session: null,
  state: 'idle', // idle, checking, connecting, connected, reconnecting, closed, failed
  detail: '', // why it closed or failed
  endpoint: '', // host:port of the session endpoint
  certUntrusted: false,
  events: [],
  channels: [],
  channel: '', // the conversation shown
  conversation: new Map(), // MessageId → message, for live.channel
  conversationError: null,
  listeners: new Set(),
  generation: 0,
};

function changed(what) {
  for (const fn of live.listeners) {
    fn(what);
  }
}

// A Logger for the SDK that keeps its warnings and errors with the
// session's events instead of the browser console.
class PaneLogger {
  constructor() {
    this.level = LogLevel.WARN;
  }
  debug() {}
  info() {}
  warn(msg) {
    addEvent({ kind: 'log', type: 'SDK warning', text: msg });
  }
  error(msg) {
    addEvent({ kind: 'log', type: 'SDK error', text: msg });
  }
  setLogLevel(level) {
    this.level = level;
  }
  getLogLevel() {
    return this.level;
  }
}

function addEvent(e) {
  live.events.unshift({ at: new Date(), ...e });
  live.events.length = Math.min(live.events.length, maxEvents);
  changed('events');
}

function setState(state, detail = '') {
  live.state = state;
  live.detail = detail;
  changed('state');
}

// closeReason says what a close code means, as docs/compatibility.md
// and the README list them.
function closeReason(code) {
  switch (code) {
  case 4401: return 'the signature was refused (4401)';
  case 4003: return 'forbidden (4003): the user was deleted, another tab connected with the same session, or this page\'s origin is not among --cors-origins';
  case 4429: return 'the session fell behind (4429); the SDK reconnects';
  case 1012: return 'the server is restarting (1012); the SDK reconnects';
  case 1006: return 'the connection was lost (1006)';
  case 4999: return 'the SDK could not get the messaging session endpoint (4999)';
  default: return `closed with code ${code}`;
  }
}

export async function connect(app, user, userName) {
  disconnect();
  const gen = ++live.generation;
  Object.assign(live, {
    app, user, userName: userName || lastPart(user), events: [], channels: [], channel: '', conversation: new Map(),
    certUntrusted: false, endpoint: '',
  });
  setState('checking');
  const mine = () => gen === live.generation;
  try {
    // Where the SDK will connect: the TLS listener, or --public-endpoint.
    const ep = await api.messaging('GetMessagingSessionEndpoint', {});
    live.endpoint = ep.Endpoint?.Url ?? '';
    // The session is always wss://: if this browser does not trust the
    // listener's certificate, say so now rather than after the SDK's
    // silent retries. (An opaque answer is enough: only TLS matters.)
    if (!(await trusted(live.endpoint))) {
      if (mine()) {
        live.certUntrusted = true;
        setState('failed', 'the browser does not trust the certificate of the messaging endpoint');
      }
      return;
    }
  } catch (err) {
    if (mine()) {
      setState('failed', `${err.type}: ${err.message}`);
    }
    return;
  }
  if (!mine()) {
    return;
  }
  loadChannels(gen);
  const config = new MessagingSessionConfiguration(user, crypto.randomUUID(), undefined, api.messagingClient());
  const session = new DefaultMessagingSession(config, new PaneLogger());
  live.session = session;
  session.addObserver({
    messagingSessionDidStartConnecting: reconnecting => mine() && setState(reconnecting ? 'reconnecting' : 'connecting'),
    messagingSessionDidStart: () => mine() && setState('connected'),
    messagingSessionDidStop: e => mine() && setState('closed', closeReason(e.code)),
    messagingSessionDidReceiveMessage: m => mine() && receive(m),
  });
  setState('connecting');
  try {
    await session.start();
  } catch (e) {
    // Closed before SESSION_ESTABLISHED: the SDK rejects with the
    // CloseEvent, or an Error.
    if (mine()) {
      live.session = null;
      setState('failed', e?.code ? closeReason(e.code) : String(e?.message ?? e));
    }
  }
}

async function trusted(endpoint) {
  if (!endpoint) {
    return true;
  }
  try {
    await fetch(`https://${endpoint}/healthz`, { mode: 'no-cors', cache: 'no-store' });
    return true;
  } catch {
    return false;
  }
}

export function disconnect() {
  live.generation++;
  if (live.session) {
    live.session.stop();
    live.session = null;
  }
  if (live.state !== 'idle') {
    setState('idle');
  }
}

async function loadChannels(gen) {
  try {
    const rows = await api.listAll('messaging', 'ListChannelMembershipsForAppInstanceUser',
      { AppInstanceUserArn: live.user, ChimeBearer: live.user }, 'ChannelMemberships');
    if (gen !== live.generation) {
      return;
    }
    live.channels = rows.map(r => r.ChannelSummary).sort((a, b) => a.Name.localeCompare(b.Name));
    if (!live.channel || !live.channels.some(c => c.ChannelArn === live.channel)) {
      const wanted = new URLSearchParams(location.hash.split('?')[1] ?? '').get('channel');
      const pick = live.channels.find(c => c.ChannelArn === wanted) ?? live.channels[0];
      if (pick) {
        await openChannel(pick.ChannelArn);
      }
    }
    changed('channels');
  } catch (err) {
    addEvent({ kind: 'log', type: err.type, text: `listing the channels of ${live.userName}: ${err.message}` });
  }
}

export async function openChannel(arn) {
  live.channel = arn;
  live.conversation = new Map();
  live.conversationError = null;
  changed('conversation');
  const gen = live.generation;
  try {
    const out = await api.messaging('ListChannelMessages', { ChannelArn: arn, ChimeBearer: live.user, SortOrder: 'DESCENDING', MaxResults: 50 });
    if (gen !== live.generation || live.channel !== arn) {
      return;
    }
    // Live messages that arrived meanwhile stay; history goes before them.
    const merged = new Map();
    for (const m of (out.ChannelMessages ?? []).slice().reverse()) {
      merged.set(m.MessageId, m);
    }
    for (const [id, m] of live.conversation) {
      merged.set(id, m);
    }
    live.conversation = merged;
  } catch (err) {
    live.conversationError = err;
  }
  changed('conversation');
}

function receive(m) {
  let payload = null;
  try {
    payload = m.payload ? JSON.parse(m.payload) : null;
  } catch {
    payload = m.payload;
  }
  addEvent({ kind: 'event', type: m.type, messageType: m.headers?.['x-amz-chime-message-type'], payload });
  const channelArn = payload?.ChannelArn ?? payload?.Channel?.ChannelArn;
  switch (m.type) {
  case 'CREATE_CHANNEL_MESSAGE':
  case 'UPDATE_CHANNEL_MESSAGE':
  case 'REDACT_CHANNEL_MESSAGE':
  case 'PENDING_CREATE_CHANNEL_MESSAGE':
  case 'PENDING_UPDATE_CHANNEL_MESSAGE':
  case 'DENIED_CREATE_CHANNEL_MESSAGE':
  case 'DENIED_UPDATE_CHANNEL_MESSAGE':
  case 'FAILED_CREATE_CHANNEL_MESSAGE':
  case 'FAILED_UPDATE_CHANNEL_MESSAGE':
    if (channelArn === live.channel && payload?.MessageId) {
      live.conversation.set(payload.MessageId, payload);
      changed('conversation');
    }
    break;
  case 'DELETE_CHANNEL_MESSAGE':
    if (channelArn === live.channel && live.conversation.delete(payload?.MessageId)) {
      changed('conversation');
    }
    break;
  case 'CREATE_CHANNEL_MEMBERSHIP':
  case 'BATCH_CREATE_CHANNEL_MEMBERSHIP':
  case 'DELETE_CHANNEL_MEMBERSHIP':
  case 'UPDATE_CHANNEL':
  case 'DELETE_CHANNEL':
    loadChannels(live.generation);
    break;
  }
}

// liveIndicator is the sidebar's line about the session: whom it is
// open as, and its state.
export function liveIndicator() {
  const el = h('a.live-indicator', { href: '#/live', hidden: true });
  const update = () => {
    el.hidden = live.state === 'idle';
    replace(el, h('span.dot', { class: live.state }), `Live as ${live.userName}`, h('span.muted', ` · ${live.state}`));
  };
  live.listeners.add(what => what === 'state' && update());
  update();
  return el;
}

const stateText = {
  idle: 'not connected',
  checking: 'checking the endpoint…',
  connecting: 'connecting…',
  connected: 'connected',
  reconnecting: 'reconnecting…',
  closed: 'closed',
  failed: 'failed',
};

export async function liveView(ctx) {
  const root = api.isRoot();
  const q = ctx.query;
  const controls = h('form.live-controls', { 'aria-label': 'Session' });
  const notice = h('div');
  const grid = h('div.live-grid');
  replace(ctx.el,
    header({
      title: 'Live',
      subtitle: 'A messaging session, as a web app opens one with amazon-chime-sdk-js. Open another tab to talk with a second user.',
      actions: [button('Open another tab', () => window.open(location.href.split('#')[0] + '#/live', '_blank'), { title: 'The new tab shares this tab\'s sign-in' })],
    }),
    controls, notice, grid);

  // Whom to connect as: any user of any AppInstance for root; the key's
  // own user otherwise.
  let app = q.get('app') ?? live.app;
  let users = [];
  let apps = [];
  if (root) {
    replace(controls, loading('Listing AppInstances…'));
    try {
      apps = await api.listAll('identity', 'ListAppInstances', {}, 'AppInstances');
    } catch (err) {
      if (ctx.alive()) {
        replace(controls, errorBox(err));
      }
      return;
    }
    if (!ctx.alive()) {
      return;
    }
    if (!apps.length) {
      replace(controls, empty('No AppInstances yet.', 'A session is opened as a user of an AppInstance: create an AppInstance and two users first.',
        h('a.button.primary', { href: '#/apps' }, 'Go to AppInstances')));
      return;
    }
    if (!apps.some(a => a.AppInstanceArn === app)) {
      app = apps[0].AppInstanceArn;
    }
    try {
      users = await api.listAll('identity', 'ListAppInstanceUsers', { AppInstanceArn: app }, 'AppInstanceUsers');
    } catch (err) {
      if (ctx.alive()) {
        replace(controls, errorBox(err));
      }
      return;
    }
  } else {
    const me = api.bearerOf();
    app = arnParts(me).app;
    users = [{ AppInstanceUserArn: me, Name: lastPart(me) }];
  }
  if (!ctx.alive()) {
    return;
  }
  const wantedUser = q.get('user');
  const selectedUser = [wantedUser, live.user].find(u => u && users.some(x => x.AppInstanceUserArn === u)) ?? users[0]?.AppInstanceUserArn ?? '';

  const appSelect = root
    ? h('select#live-app', {
      onchange: e => { location.hash = `#/live?app=${encodeURIComponent(e.target.value)}`; },
    }, apps.map(a => h('option', { value: a.AppInstanceArn, selected: a.AppInstanceArn === app }, a.Name)))
    : null;
  const userSelect = h('select#live-user', { disabled: !root },
    users.map(u => h('option', { value: u.AppInstanceUserArn, selected: u.AppInstanceUserArn === selectedUser }, u.Name)));
  const connectButton = h('button.primary#live-connect', { type: 'submit' }, 'Connect');
  const disconnectButton = button('Disconnect', () => disconnect(), { kind: '' });
  const stateEl = h('span.state#live-state', { role: 'status' });
  replace(controls,
    appSelect ? h('label', { for: 'live-app' }, 'AppInstance') : null, appSelect,
    h('label', { for: 'live-user' }, 'User'), userSelect,
    connectButton, disconnectButton, stateEl);
  controls.onsubmit = e => {
    e.preventDefault();
    const u = users.find(x => x.AppInstanceUserArn === userSelect.value);
    if (!u) {
      return;
    }
    // The address names the session, so that a reload opens it again.
    history.replaceState(null, '', `#/live?app=${encodeURIComponent(app)}&user=${encodeURIComponent(u.AppInstanceUserArn)}`);
    connect(app, u.AppInstanceUserArn, u.Name);
  };

  if (!users.length) {
    replace(grid, empty('This AppInstance has no users.', 'Create two users, and a channel with both as members; then connect as one here, and as the other in a second tab.',
      h('a.button.primary', { href: link('apps', app, 'users') }, 'Create users')));
    connectButton.disabled = true;
    return;
  }

  // The panes.
  const channelList = h('ul.channel-list', { 'aria-label': 'Channels' });
  const convTitle = h('h2');
  const conv = h('ol.messages.conversation', { 'aria-label': 'Conversation', 'aria-live': 'polite' });
  const composerSlot = h('div');
  const eventList = h('ol.events#live-events', { 'aria-label': 'Events' });
  replace(grid,
    h('section.pane.channels-pane', h('h2', 'Channels'), channelList),
    h('section.pane.conversation-pane', convTitle, conv, composerSlot),
    h('section.pane.events-pane', h('div.pane-head', h('h2', 'Events'), button('Clear', () => { live.events = []; changed('events'); }, { kind: 'small' })), eventList));

  const renderState = () => {
    const connected = live.state === 'connected' || live.state === 'reconnecting';
    replace(stateEl, live.state === 'idle' ? 'not connected' : [
      h('span.dot', { class: live.state }),
      `${stateText[live.state]} as ${live.userName}`,
      live.detail ? h('span.muted', `: ${live.detail}`) : null,
    ]);
    stateEl.dataset.state = live.state;
    disconnectButton.hidden = live.state === 'idle';
    connectButton.textContent = live.state === 'idle' || live.state === 'closed' || live.state === 'failed' ? 'Connect' : 'Reconnect';
    if (live.certUntrusted) {
      const url = `https://${live.endpoint}/healthz`;
      replace(notice, h('div.error', { role: 'alert' },
        h('p', h('strong', 'The browser does not trust the certificate of the messaging endpoint. '),
          'Messaging sessions always connect with wss:// to Carillon\'s TLS listener, ', h('code', live.endpoint), ', whose certificate this browser has not accepted.'),
        h('ol',
          h('li', 'Open ', h('a', { href: url, target: '_blank', rel: 'noopener' }, url), ' in a new tab, and accept the certificate there (the page then says ok).'),
          h('li', 'Come back and ', button('Retry', () => controls.requestSubmit(), { kind: 'small' }), '.')),
        h('p.hint', 'To avoid this step, start the server with a certificate your browser trusts (--tls-cert and --tls-key; for local development, mkcert makes one).')));
    } else if (live.state === 'failed' || live.state === 'closed') {
      replace(notice, errorBox({ type: live.state === 'failed' ? 'The session could not open' : 'The session closed', message: live.detail }));
    } else {
      replace(notice);
    }
    if (live.state === 'idle') {
      replace(eventList, h('li.empty-line', 'Connect to see the events of the user\'s channels as they happen: messages, memberships, channel changes.'));
    }
    renderComposer();
  };
  const renderChannels = () => {
    replace(channelList, live.channels.length
      ? live.channels.map(c => h('li', h('a', {
        href: '#',
        class: c.ChannelArn === live.channel ? 'active' : '',
        'aria-current': c.ChannelArn === live.channel ? 'true' : null,
        onclick: e => { e.preventDefault(); openChannel(c.ChannelArn); },
      }, c.Name, c.Privacy === 'PRIVATE' ? h('span.muted', ' · private') : null)))
      : h('li.empty-line', live.state === 'idle' ? 'Connect to list the user\'s channels.' : `${live.userName} is not a member of any channel yet. Add it to one from the channel's Members tab.`));
  };
  const renderConversation = () => {
    const c = live.channels.find(x => x.ChannelArn === live.channel);
    replace(convTitle, c ? c.Name : 'Conversation');
    if (live.conversationError) {
      replace(conv, h('li', errorBox(live.conversationError)));
    } else if (!live.channel) {
      replace(conv, h('li.empty-line', 'Pick a channel to read and write to it.'));
    } else if (!live.conversation.size) {
      replace(conv, h('li.empty-line', 'No messages yet: write one below, or from another tab.'));
    } else {
      replace(conv, [...live.conversation.values()].map(m => h('li.message', { dataset: { messageId: m.MessageId } },
        h('div.meta', h('strong.sender', m.Sender?.Name ?? ''), h('span.muted', clock(m.CreatedTimestamp)),
          m.Status?.Value && m.Status.Value !== 'SENT' ? badge(m.Status.Value, 'warn') : null,
          m.Persistence === 'NON_PERSISTENT' ? badge('not persistent') : null),
        m.Redacted ? h('p.content.muted', 'Redacted') : h('p.content', m.Content ?? ''))));
      conv.lastElementChild?.scrollIntoView?.({ block: 'nearest' });
    }
    renderComposer();
  };
  let composerFor = '';
  const renderComposer = () => {
    const key = live.channel && live.state !== 'idle' ? `${live.user}|${live.channel}` : '';
    if (key === composerFor) {
      return;
    }
    composerFor = key;
    replace(composerSlot, key ? messageComposer({
      id: 'live-message',
      placeholder: `Message as ${live.userName}  (Enter to send)`,
      send: async ({ content, type, persistence }) => {
        await api.messaging('SendChannelMessage', {
          ChannelArn: live.channel, ChimeBearer: live.user, Content: content, Type: type, Persistence: persistence, ClientRequestToken: api.token(),
        });
      },
    }) : null);
  };
  const renderEvents = () => {
    if (!live.events.length) {
      if (live.state !== 'idle') {
        replace(eventList, h('li.empty-line', 'No events yet. Send a message to one of the user\'s channels, from here or another tab.'));
      }
      return;
    }
    replace(eventList, live.events.map(eventItem));
  };
  const onChange = what => {
    if (!ctx.alive()) {
      return;
    }
    if (what === 'state') {
      renderState();
    } else if (what === 'channels') {
      renderChannels();
      renderConversation();
    } else if (what === 'conversation') {
      renderChannels();
      renderConversation();
    } else if (what === 'events') {
      renderEvents();
    }
  };
  live.listeners.add(onChange);
  ctx.onLeave(() => live.listeners.delete(onChange));
  renderState();
  renderChannels();
  renderConversation();
  renderEvents();

  // A reload, or a link from a user's page, connects at once.
  if (wantedUser && live.user !== wantedUser && users.some(u => u.AppInstanceUserArn === wantedUser)) {
    controls.requestSubmit();
  } else if (wantedUser && live.user === wantedUser && q.get('channel') && live.channels.some(c => c.ChannelArn === q.get('channel'))) {
    openChannel(q.get('channel'));
  }
}

function eventItem(e) {
  if (e.kind === 'log') {
    return h('li.event.log', h('div.meta', h('span.muted', clock(e.at)), badge(e.type, 'warn')), h('p', e.text));
  }
  const p = e.payload ?? {};
  const channelArn = p.ChannelArn ?? p.Channel?.ChannelArn;
  const channelName = live.channels.find(c => c.ChannelArn === channelArn)?.Name ?? p.Channel?.Name ?? (channelArn ? lastPart(channelArn) : '');
  let summary = '';
  if (p.MessageId) {
    summary = p.Redacted ? `${p.Sender?.Name ?? ''}: (redacted)` : `${p.Sender?.Name ?? ''}: ${p.Content ?? ''}`;
  } else if (p.Member) {
    summary = `${p.Member.Name ?? lastPart(p.Member.Arn)}${p.Type ? ` (${p.Type})` : ''}`;
  } else if (p.Members) {
    summary = p.Members.map(m => m.Name ?? lastPart(m.Arn)).join(', ');
  } else if (p.Channel?.Name) {
    summary = p.Channel.Name;
  } else if (p.Name) {
    summary = p.Name;
  }
  return h('li.event', { dataset: { type: e.type } },
    h('div.meta',
      h('span.muted', { title: when(e.at) }, clock(e.at)),
      badge(e.type, e.type.startsWith('DENIED') || e.type.startsWith('FAILED') ? 'bad' : e.type.startsWith('DELETE') ? 'warn' : ''),
      channelName ? h('span.channel', channelName) : null),
    summary ? h('p.summary', summary) : null,
    e.payload ? h('details', h('summary', 'Payload'), h('pre', JSON.stringify(e.payload, null, 2))) : null);
}
