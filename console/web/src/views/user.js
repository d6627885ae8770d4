// A user: its channels, its push endpoints, its expiration, and keys
// issued for it.

import { h, replace, lastPart, when } from '../dom.js';
import * as api from '../api.js';
import * as acting from '../acting.js';
import {
  header, table, empty, loading, errorBox, form, confirm, button, copyable, link, optional, toast, dl, section, badge, show,
} from '../ui.js';
import { createChannel } from './app.js';

export async function userView(ctx) {
  const [app, user] = ctx.params;
  const root = api.isRoot();
  const head = h('div', loading());
  const details = h('div');
  const channels = h('div', loading());
  const endpoints = h('div');
  replace(ctx.el, head, details,
    section('Channels', channels),
    root ? section('Push endpoints', endpoints) : null);

  // Identity calls need the root key; a per-user key sees its channels.
  let info = { AppInstanceUserArn: user, Name: lastPart(user) };
  let appName = lastPart(app);
  if (root) {
    try {
      const [u, a] = await Promise.all([
        api.identity('DescribeAppInstanceUser', { AppInstanceUserArn: user }),
        api.identity('DescribeAppInstance', { AppInstanceArn: app }),
      ]);
      info = u.AppInstanceUser;
      appName = a.AppInstance.Name;
    } catch (err) {
      if (ctx.alive()) {
        replace(head, header({ crumbs: [['AppInstances', '#/apps']], title: lastPart(user) }), errorBox(err));
        replace(channels);
      }
      return;
    }
  }
  if (!ctx.alive()) {
    return;
  }
  const live = h('a.button', { href: `#/live?app=${encodeURIComponent(app)}&user=${encodeURIComponent(user)}` }, `Open live as ${info.Name}`);
  const actions = [live];
  if (root) {
    actions.push(button('Issue a key', () => issueKey(user, info.Name)), button('Edit', () => edit(ctx, info)));
  }
  replace(head, header({
    crumbs: root ? [['AppInstances', '#/apps'], [appName, link('apps', app)], ['Users', link('apps', app, 'users')]] : [],
    title: info.Name,
    subtitle: copyable(user, { label: 'the user ARN' }),
    actions,
  }));
  if (root) {
    replace(details, section('Details', dl([
      ['User ID', h('code', lastPart(user))],
      ['Metadata', info.Metadata],
      ['Created', when(info.CreatedTimestamp)],
      ['Updated', when(info.LastUpdatedTimestamp)],
      ['Expires', info.ExpirationSettings
        ? `${info.ExpirationSettings.ExpirationDays} days after ${info.ExpirationSettings.ExpirationCriterion === 'CREATED_TIMESTAMP' ? 'its creation' : 'its last message'}`
        : 'never'],
    ]), h('div.toolbar',
      button('Set expiration', () => expiration(ctx, info)),
      h('span.spacer'),
      button('Delete user', () => confirm({
        title: `Delete ${info.Name}?`,
        text: 'The user leaves its channels; its messages stay. Keys issued for it stop working.',
        action: async () => {
          await api.identity('DeleteAppInstanceUser', { AppInstanceUserArn: user });
          acting.forget(app);
          toast(`${info.Name} deleted`);
          location.hash = link('apps', app, 'users');
        },
      }), { kind: 'danger' }))));
  }
  await Promise.all([memberships(ctx, channels, app, user), root ? endpointList(ctx, endpoints, user) : null]);
}

async function memberships(ctx, el, app, user) {
  let rows;
  try {
    rows = await api.listAll('messaging', 'ListChannelMembershipsForAppInstanceUser', { AppInstanceUserArn: user, ChimeBearer: user }, 'ChannelMemberships');
  } catch (err) {
    if (ctx.alive()) {
      replace(el, errorBox(err));
    }
    return;
  }
  if (!ctx.alive()) {
    return;
  }
  const create = () => createChannel(app, user);
  replace(el,
    h('div.toolbar', h('span.spacer'), button('Create channel as this user', create, { key: 'n' })),
    table({
      label: 'Channels',
      columns: [
        { title: 'Channel', cell: m => m.ChannelSummary?.Name ?? '' },
        { title: 'Membership', cell: m => badge(m.AppInstanceUserMembershipSummary?.Type ?? 'DEFAULT') },
        { title: 'Privacy', cell: m => badge(m.ChannelSummary?.Privacy ?? '') },
        { title: 'Last message', cell: m => when(m.ChannelSummary?.LastMessageTimestamp) || h('span.muted', 'none') },
        { title: 'Read up to', cell: m => when(m.AppInstanceUserMembershipSummary?.ReadMarkerTimestamp) || h('span.muted', '—') },
      ],
      rows,
      href: m => `${link('channels', m.ChannelSummary.ChannelArn)}?as=${encodeURIComponent(user)}`,
      filter: m => `${m.ChannelSummary?.Name} ${m.ChannelSummary?.ChannelArn}`,
      emptyView: empty('Not a member of any channel.', 'Create a channel as this user, or add it to a channel from the channel\'s Members tab.',
        button('Create channel as this user', create, { kind: 'primary' })),
    }));
}

async function endpointList(ctx, el, user) {
  const register = () => form({
    title: 'Register a push endpoint',
    intro: 'A device the user receives push notifications on (sent with --push-webhook or --push-pinpoint-endpoint).',
    fields: [
      { name: 'Name', label: 'Name' },
      { name: 'Type', label: 'Type', type: 'select', options: [['GCM', 'GCM (Firebase)'], ['APNS', 'APNS'], ['APNS_SANDBOX', 'APNS sandbox']] },
      { name: 'ResourceArn', label: 'Pinpoint application ARN', required: true, placeholder: 'arn:aws:mobiletargeting:…:apps/…' },
      { name: 'DeviceToken', label: 'Device token', required: true },
      { name: 'AllowMessages', label: 'Allow messages', type: 'select', options: [['ALL', 'ALL'], ['NONE', 'NONE']] },
    ],
    submitLabel: 'Register',
    submit: async v => {
      await api.identity('RegisterAppInstanceUserEndpoint', optional({
        AppInstanceUserArn: user, Name: v.Name, Type: v.Type, ResourceArn: v.ResourceArn, AllowMessages: v.AllowMessages,
        EndpointAttributes: { DeviceToken: v.DeviceToken }, ClientRequestToken: api.token(),
      }));
      ctx.refresh();
      return true;
    },
  });
  let rows;
  try {
    rows = await api.listAll('identity', 'ListAppInstanceUserEndpoints', { AppInstanceUserArn: user }, 'AppInstanceUserEndpoints');
  } catch (err) {
    if (ctx.alive()) {
      replace(el, errorBox(err));
    }
    return;
  }
  if (!ctx.alive()) {
    return;
  }
  replace(el,
    h('div.toolbar', h('span.spacer'), button('Register endpoint', register)),
    table({
      label: 'Push endpoints',
      columns: [
        { title: 'Name', cell: e => e.Name ?? h('span.muted', 'unnamed') },
        { title: 'Type', cell: e => badge(e.Type ?? '') },
        { title: 'State', cell: e => badge(e.EndpointState?.Status ?? '', e.EndpointState?.Status === 'ACTIVE' ? 'ok' : 'warn') },
        { title: 'Messages', cell: e => e.AllowMessages ?? '' },
        { title: 'Endpoint ID', cell: e => h('code', e.EndpointId) },
        {
          title: '', class: 'row-actions', cell: e => button('Deregister', () => confirm({
            title: 'Deregister the endpoint?',
            text: 'The device stops receiving push notifications.',
            label: 'Deregister',
            action: async () => {
              await api.identity('DeregisterAppInstanceUserEndpoint', { AppInstanceUserArn: user, EndpointId: e.EndpointId });
              ctx.refresh();
            },
          }), { kind: 'small danger-text' }),
        },
      ],
      rows,
      emptyView: empty('No push endpoints.', 'Mobile apps register their device here to get push notifications of new messages.'),
    }));
}

function issueKey(user, name) {
  return form({
    title: `Issue a key for ${name}`,
    intro: 'The key may act only as this user, as an application would give each signed-in person. Sign in with it (in another browser profile or a private window) to see the console as this user.',
    fields: [{ name: 'ExpiresInSeconds', label: 'Expires after (seconds)', type: 'number', min: 0, value: '43200', help: '0: never. A key that expires comes with a session token.' }],
    submitLabel: 'Issue key',
    submit: async v => {
      const out = await api.carillon('POST', '/carillon/credentials', { Bearer: user, ExpiresInSeconds: Number(v.ExpiresInSeconds || 0) });
      setTimeout(() => show({
        title: 'The new key',
        body: h('div',
          h('p', 'It is shown this once: copy it now. ', h('code', 'carillon credentials delete --id …'), ' revokes it.'),
          dl([
            ['Access key ID', copyable(out.AccessKeyId)],
            ['Secret access key', copyable(out.SecretAccessKey, { label: 'the secret' })],
            ['Session token', out.SessionToken ? copyable(out.SessionToken, { label: 'the session token' }) : null],
            ['Expires', out.Expiration ? when(out.Expiration) : 'never'],
          ]),
          h('details', h('summary', 'As JSON (credential_process format)'), h('pre', JSON.stringify(out, null, 2)))),
      }));
      return out;
    },
  });
}

function edit(ctx, info) {
  return form({
    title: `Edit ${info.Name}`,
    fields: [
      { name: 'Name', label: 'Name', required: true, value: info.Name },
      { name: 'Metadata', label: 'Metadata', type: 'textarea', rows: 3, value: info.Metadata ?? '' },
    ],
    submit: async v => {
      await api.identity('UpdateAppInstanceUser', { AppInstanceUserArn: info.AppInstanceUserArn, Name: v.Name, Metadata: v.Metadata });
      toast('Saved');
      ctx.refresh();
      return true;
    },
  });
}

function expiration(ctx, info) {
  const cur = info.ExpirationSettings;
  return form({
    title: `Expiration of ${info.Name}`,
    intro: 'The server\'s background jobs delete the user once it expires. Leave the days empty to remove the setting.',
    fields: [
      { name: 'ExpirationDays', label: 'Days', type: 'number', min: 1, max: 5475, value: cur?.ExpirationDays ?? '' },
      { name: 'ExpirationCriterion', label: 'Counted from', type: 'select', value: cur?.ExpirationCriterion, options: [['CREATED_TIMESTAMP', 'its creation']] },
    ],
    submit: async v => {
      await api.identity('PutAppInstanceUserExpirationSettings', optional({
        AppInstanceUserArn: info.AppInstanceUserArn,
        ExpirationSettings: v.ExpirationDays ? { ExpirationDays: Number(v.ExpirationDays), ExpirationCriterion: v.ExpirationCriterion } : undefined,
      }));
      ctx.refresh();
      return true;
    },
  });
}
