// A chat between two users of one channel, each in a pane of its own,
// with the packages a web app uses: the AWS SDK for JavaScript v3 for the
// API and amazon-chime-sdk-js for the live messages. Only the endpoint
// says this is Carillon and not AWS.
//
// For brevity the page signs with the root key and acts as each user
// through ChimeBearer. An application gives each signed-in user a key
// that acts only as that user (carillon credentials create, or
// POST /carillon/credentials from its backend).

import {
  ChimeSDKIdentityClient,
  CreateAppInstanceCommand,
  CreateAppInstanceUserCommand,
  ListAppInstancesCommand,
  ListAppInstanceUsersCommand,
} from '@aws-sdk/client-chime-sdk-identity';
import {
  ChimeSDKMessagingClient,
  CreateChannelCommand,
  ListChannelMembershipsForAppInstanceUserCommand,
  ListChannelMessagesCommand,
  SendChannelMessageCommand,
} from '@aws-sdk/client-chime-sdk-messaging';
import {
  ConsoleLogger,
  DefaultMessagingSession,
  LogLevel,
  MessagingSessionConfiguration,
} from 'amazon-chime-sdk-js';

const $ = id => document.getElementById(id);
const fields = ['endpoint', 'region', 'accessKeyId', 'secretAccessKey'];
for (const f of fields) {
  const saved = localStorage.getItem('carillon.' + f);
  if (saved) {
    $(f).value = saved;
  }
}

function status(text, error = false) {
  $('status').textContent = text;
  $('status').className = error ? 'error' : '';
}

// setUp finds or creates the AppInstance "web-chat", its users alice and
// bob, and their channel "lobby".
async function setUp(settings) {
  const identity = new ChimeSDKIdentityClient(settings);
  const messaging = new ChimeSDKMessagingClient(settings);
  const apps = await identity.send(new ListAppInstancesCommand({}));
  let appArn = apps.AppInstances?.find(a => a.Name === 'web-chat')?.AppInstanceArn;
  if (!appArn) {
    appArn = (await identity.send(new CreateAppInstanceCommand({ Name: 'web-chat', ClientRequestToken: crypto.randomUUID() }))).AppInstanceArn;
  }
  const existing = await identity.send(new ListAppInstanceUsersCommand({ AppInstanceArn: appArn }));
  const users = {};
  for (const id of ['alice', 'bob']) {
    users[id] = existing.AppInstanceUsers?.find(u => u.Name === id)?.AppInstanceUserArn;
    if (!users[id]) {
      users[id] = (await identity.send(new CreateAppInstanceUserCommand({
        AppInstanceArn: appArn, AppInstanceUserId: id, Name: id, ClientRequestToken: crypto.randomUUID(),
      }))).AppInstanceUserArn;
    }
  }
  const mine = await messaging.send(new ListChannelMembershipsForAppInstanceUserCommand({
    AppInstanceUserArn: users.alice, ChimeBearer: users.alice,
  }));
  let channelArn = mine.ChannelMemberships?.find(m => m.ChannelSummary?.Name === 'lobby')?.ChannelSummary.ChannelArn;
  if (!channelArn) {
    channelArn = (await messaging.send(new CreateChannelCommand({
      AppInstanceArn: appArn, Name: 'lobby', ChimeBearer: users.alice, MemberArns: [users.bob],
      ClientRequestToken: crypto.randomUUID(),
    }))).ChannelArn;
  }
  return { messaging, users, channelArn };
}

// pane shows the channel as user sees it: the last messages, the live
// ones, and a box to send.
async function pane(messaging, name, userArn, channelArn) {
  const el = document.createElement('section');
  el.className = 'pane';
  el.id = `pane-${name}`;
  el.innerHTML = `<h2>${name} <span class="state">connecting…</span></h2><ul></ul>
    <form><input name="message" autocomplete="off" placeholder="Message as ${name}" aria-label="Message as ${name}"><button>Send</button></form>`;
  $('panes').appendChild(el);
  const list = el.querySelector('ul');
  const seen = new Set();
  const show = m => {
    if (seen.has(m.MessageId)) {
      return;
    }
    seen.add(m.MessageId);
    const li = document.createElement('li');
    const who = document.createElement('b');
    who.textContent = (m.Sender?.Name ?? '?') + ':';
    li.append(who, m.Content ?? '');
    list.appendChild(li);
    list.scrollTop = list.scrollHeight;
  };

  // The session's endpoint comes from GetMessagingSessionEndpoint.
  const session = new DefaultMessagingSession(
    new MessagingSessionConfiguration(userArn, null, undefined, messaging),
    new ConsoleLogger(name, LogLevel.WARN));
  session.addObserver({
    messagingSessionDidStart: () => { el.querySelector('.state').textContent = 'connected'; },
    messagingSessionDidStartConnecting: reconnecting => {
      el.querySelector('.state').textContent = reconnecting ? 'reconnecting…' : 'connecting…';
    },
    messagingSessionDidStop: e => { el.querySelector('.state').textContent = `disconnected (${e.code})`; },
    messagingSessionDidReceiveMessage: m => {
      if (m.type === 'CREATE_CHANNEL_MESSAGE') {
        const msg = JSON.parse(m.payload);
        if (msg.ChannelArn === channelArn) {
          show(msg);
        }
      }
    },
  });
  await session.start();

  const history = await messaging.send(new ListChannelMessagesCommand({
    ChannelArn: channelArn, ChimeBearer: userArn, SortOrder: 'ASCENDING', MaxResults: 50,
  }));
  (history.ChannelMessages ?? []).forEach(show);

  const input = el.querySelector('input');
  el.querySelector('form').addEventListener('submit', async e => {
    e.preventDefault();
    const content = input.value.trim();
    if (!content) {
      return;
    }
    input.value = '';
    try {
      await messaging.send(new SendChannelMessageCommand({
        ChannelArn: channelArn, ChimeBearer: userArn, Content: content,
        Type: 'STANDARD', Persistence: 'PERSISTENT', ClientRequestToken: crypto.randomUUID(),
      }));
    } catch (err) {
      status(`${name} could not send: ${err.name}: ${err.message}`, true);
    }
  });
}

$('settings').addEventListener('submit', async e => {
  e.preventDefault();
  $('connect').disabled = true;
  const s = Object.fromEntries(fields.map(f => [f, $(f).value.trim()]));
  fields.forEach(f => localStorage.setItem('carillon.' + f, s[f]));
  const settings = {
    endpoint: s.endpoint,
    region: s.region,
    credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey },
  };
  try {
    status('Setting up the AppInstance "web-chat", alice, bob and their channel…');
    const { messaging, users, channelArn } = await setUp(settings);
    await Promise.all(['alice', 'bob'].map(name => pane(messaging, name, users[name], channelArn)));
    status(`Channel ${channelArn}`);
  } catch (err) {
    // A TypeError "Failed to fetch": the browser does not trust the
    // certificate, or the server does not allow this page's origin.
    status(`${err.name}: ${err.message}`, true);
    $('connect').disabled = false;
  }
});
