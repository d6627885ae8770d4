// An AppInstance: its channels, users, bots, admins, retention and
// settings, one tab each.

import { h, replace, lastPart, when } from '../dom.js';
import * as api from '../api.js';
import * as acting from '../acting.js';
import {
  header, tabs, table, empty, loading, errorBox, form, confirm, button, copyable, link, optional, toast, dl, section, badge,
} from '../ui.js';

const tabNames = ['channels', 'users', 'bots', 'admins', 'retention', 'settings'];

export async function appView(ctx) {
  const [app, tabParam] = ctx.params;
  const tab = tabNames.includes(tabParam) ? tabParam : 'channels';
  const head = h('div', loading());
  const body = h('div.tab-body');
  replace(ctx.el, head, body);

  let info;
  try {
    info = (await api.identity('DescribeAppInstance', { AppInstanceArn: app })).AppInstance;
  } catch (err) {
    if (ctx.alive()) {
      replace(head, header({ crumbs: [['AppInstances', '#/apps']], title: lastPart(app) }), errorBox(err));
    }
    return;
  }
  if (!ctx.alive()) {
    return;
  }
  replace(head,
    header({
      crumbs: [['AppInstances', '#/apps']],
      title: info.Name,
      subtitle: copyable(app, { label: 'the AppInstance ARN' }),
      actions: [h('a.button', { href: `#/live?app=${encodeURIComponent(app)}` }, 'Open live')],
    }),
    tabs(tabNames.map(t => [t, t === 'admins' ? 'Admins' : t[0].toUpperCase() + t.slice(1), link('apps', app, t)]), tab));

  const render = { channels, users, bots, admins, retention, settings }[tab];
  await render({ ...ctx, el: body }, app, info);
}

// Channels are listed as a user sees them: ListChannels carries a bearer.
async function channels(ctx, app) {
  const bearer = await acting.bearer(app);
  if (!ctx.alive()) {
    return;
  }
  if (!bearer) {
    replace(ctx.el, empty('Nobody to act as.',
      'Channels are seen through a user: the API lists them as a user or bot of the AppInstance sees them. Create a user first.',
      h('a.button.primary', { href: link('apps', app, 'users') }, 'Go to Users')));
    return;
  }
  const privacy = ctx.query.get('privacy') === 'PRIVATE' ? 'PRIVATE' : 'PUBLIC';
  const list = h('div', loading());
  const create = () => createChannel(app, bearer);
  replace(ctx.el,
    h('div.toolbar',
      await acting.picker(app, bearer, () => ctx.refresh()),
      h('div.segmented', { role: 'group', 'aria-label': 'Privacy' },
        ['PUBLIC', 'PRIVATE'].map(p => h('a', {
          href: `${link('apps', app, 'channels')}?privacy=${p}`,
          class: p === privacy ? 'active' : '',
          'aria-current': p === privacy ? 'true' : null,
        }, p === 'PUBLIC' ? 'Public' : 'Private'))),
      h('span.spacer'),
      button('Create channel', create, { kind: 'primary', key: 'n' })),
    list);
  let rows;
  try {
    rows = await api.listAll('messaging', 'ListChannels', { AppInstanceArn: app, Privacy: privacy, ChimeBearer: bearer }, 'Channels');
  } catch (err) {
    if (ctx.alive()) {
      replace(list, errorBox(err, privacy === 'PRIVATE' && err.type === 'ForbiddenException'
        ? 'Only AppInstanceAdmins list private channels: act as an admin (see Admins), or open a user\'s page to see the channels it belongs to.'
        : undefined));
    }
    return;
  }
  if (!ctx.alive()) {
    return;
  }
  replace(list, table({
    label: 'Channels',
    columns: [
      { title: 'Name', cell: c => c.Name },
      { title: 'Mode', cell: c => badge(c.Mode ?? '') },
      { title: 'Last message', cell: c => when(c.LastMessageTimestamp) || h('span.muted', 'none') },
      { title: 'ID', cell: c => copyable(c.ChannelArn, { short: true, label: 'the channel ARN' }), class: 'arn' },
    ],
    rows,
    href: c => link('channels', c.ChannelArn),
    filter: c => `${c.Name} ${c.ChannelArn} ${c.Metadata ?? ''}`,
    emptyView: empty(`No ${privacy.toLowerCase()} channels.`,
      privacy === 'PUBLIC'
        ? 'Create a channel, and add members to it: they can then send messages, and see them live.'
        : 'Private channels are listed to AppInstanceAdmins only.',
      button('Create channel', create, { kind: 'primary' })),
  }));
}

export async function createChannel(app, bearer) {
  // Root picks members among the AppInstance's users; a per-user key,
  // which may not list them, types their ARNs.
  let members = { name: 'MemberArns', label: 'Members', type: 'textarea', rows: 2, placeholder: 'user ARNs, one a line', help: 'Added with the creator, up to 10.' };
  if (api.isRoot()) {
    const p = await acting.principals(app);
    members = {
      name: 'MemberArns', label: 'Members', type: 'multiselect',
      options: p.users.filter(u => u.AppInstanceUserArn !== bearer).map(u => [u.AppInstanceUserArn, u.Name]),
      help: 'Added with the creator, up to 10 (Ctrl or Shift to pick several).',
    };
  }
  return form({
    title: 'Create a channel',
    intro: h('span', 'The channel is created by ', h('strong', lastPart(bearer)), ', who becomes its moderator and first member.'),
    fields: [
      { name: 'Name', label: 'Name', required: true },
      { name: 'Mode', label: 'Mode', type: 'select', options: [['UNRESTRICTED', 'Unrestricted: members may add members'], ['RESTRICTED', 'Restricted: only moderators add members']] },
      { name: 'Privacy', label: 'Privacy', type: 'select', options: [['PUBLIC', 'Public: listed, anyone in the AppInstance may read'], ['PRIVATE', 'Private: members only']] },
      members,
      { name: 'ChannelId', label: 'Channel ID', help: 'The last part of the ARN; by default a random one.' },
      { name: 'Metadata', label: 'Metadata', type: 'textarea', rows: 2 },
      { name: 'Elastic', label: 'Elastic channel (members spread over sub-channels)', type: 'checkbox' },
      { name: 'MaximumSubChannels', label: 'Maximum sub-channels', type: 'number', min: 2, required: true, dependsOn: 'Elastic' },
      { name: 'TargetMembershipsPerSubChannel', label: 'Target members per sub-channel', type: 'number', min: 2, required: true, dependsOn: 'Elastic' },
      { name: 'MinimumMembershipPercentage', label: 'Minimum membership percentage', type: 'number', min: 1, max: 40, required: true, dependsOn: 'Elastic' },
    ],
    submitLabel: 'Create',
    submit: async v => {
      const input = optional({
        AppInstanceArn: app, Name: v.Name, Mode: v.Mode, Privacy: v.Privacy, ChannelId: v.ChannelId, Metadata: v.Metadata,
        ChimeBearer: bearer, ClientRequestToken: api.token(),
      });
      const memberArns = Array.isArray(v.MemberArns) ? v.MemberArns : v.MemberArns.split(/\s+/).filter(Boolean);
      if (memberArns.length) {
        input.MemberArns = memberArns;
      }
      if (v.Elastic) {
        input.ElasticChannelConfiguration = {
          MaximumSubChannels: Number(v.MaximumSubChannels),
          TargetMembershipsPerSubChannel: Number(v.TargetMembershipsPerSubChannel),
          MinimumMembershipPercentage: Number(v.MinimumMembershipPercentage),
        };
      }
      const out = await api.messaging('CreateChannel', input);
      toast(`Channel ${v.Name} created`);
      location.hash = link('channels', out.ChannelArn);
      return out;
    },
  });
}

async function users(ctx, app) {
  const create = () => form({
    title: 'Create a user',
    fields: [
      { name: 'AppInstanceUserId', label: 'User ID', required: true, placeholder: 'alice', help: 'Your application\'s id for the user; the last part of its ARN.' },
      { name: 'Name', label: 'Name', required: true, placeholder: 'Alice' },
      { name: 'Metadata', label: 'Metadata', type: 'textarea', rows: 2 },
    ],
    submitLabel: 'Create',
    submit: async v => {
      const out = await api.identity('CreateAppInstanceUser', { AppInstanceArn: app, ...optional(v), ClientRequestToken: api.token() });
      acting.forget(app);
      toast(`User ${v.Name} created`);
      ctx.refresh();
      return out;
    },
  });
  const list = h('div', loading());
  replace(ctx.el, h('div.toolbar', h('span.spacer'), button('Create user', create, { kind: 'primary', key: 'n' })), list);
  let rows;
  try {
    rows = await api.listAll('identity', 'ListAppInstanceUsers', { AppInstanceArn: app }, 'AppInstanceUsers');
  } catch (err) {
    if (ctx.alive()) {
      replace(list, errorBox(err));
    }
    return;
  }
  if (!ctx.alive()) {
    return;
  }
  replace(list, table({
    label: 'Users',
    columns: [
      { title: 'Name', cell: u => u.Name },
      { title: 'User ID', cell: u => h('code', lastPart(u.AppInstanceUserArn)) },
      { title: 'Metadata', cell: u => u.Metadata ?? '', class: 'muted clip' },
      {
        title: '', class: 'row-actions', cell: u => [
          h('a.button.small', { href: `#/live?app=${encodeURIComponent(app)}&user=${encodeURIComponent(u.AppInstanceUserArn)}` }, 'Live'),
          button('Delete', () => confirm({
            title: `Delete ${u.Name}?`,
            text: 'The user leaves its channels; its messages stay. Keys issued for it stop working.',
            action: async () => {
              await api.identity('DeleteAppInstanceUser', { AppInstanceUserArn: u.AppInstanceUserArn });
              acting.forget(app);
              toast(`${u.Name} deleted`);
              ctx.refresh();
            },
          }), { kind: 'small danger-text' }),
        ],
      },
    ],
    rows,
    href: u => link('apps', app, 'users', u.AppInstanceUserArn),
    filter: u => `${u.Name} ${u.AppInstanceUserArn} ${u.Metadata ?? ''}`,
    emptyView: empty('No users yet.', 'Users send and receive messages. Create one for each person (or test persona) of your application.',
      button('Create user', create, { kind: 'primary' })),
  }));
}

async function bots(ctx, app) {
  const create = () => form({
    title: 'Create a bot',
    intro: 'An AppInstanceBot answers in channels through an Amazon Lex V2 bot (the server calls Lex at --lex-endpoint).',
    fields: [
      { name: 'Name', label: 'Name', required: true },
      { name: 'LexBotAliasArn', label: 'Lex bot alias ARN', required: true, placeholder: 'arn:aws:lex:us-east-1:…:bot-alias/…/…' },
      { name: 'LocaleId', label: 'Locale', required: true, value: 'en_US' },
      { name: 'StandardMessages', label: 'Invoked by standard messages', type: 'select', options: [['AUTO', 'AUTO'], ['ALL', 'ALL'], ['MENTIONS', 'MENTIONS'], ['NONE', 'NONE']] },
      { name: 'TargetedMessages', label: 'Invoked by targeted messages', type: 'select', options: [['ALL', 'ALL'], ['NONE', 'NONE']] },
      { name: 'WelcomeIntent', label: 'Welcome intent' },
      { name: 'Metadata', label: 'Metadata', type: 'textarea', rows: 2 },
    ],
    submitLabel: 'Create',
    submit: async v => {
      const out = await api.identity('CreateAppInstanceBot', optional({
        AppInstanceArn: app, Name: v.Name, Metadata: v.Metadata, ClientRequestToken: api.token(),
        Configuration: {
          Lex: optional({
            LexBotAliasArn: v.LexBotAliasArn, LocaleId: v.LocaleId, WelcomeIntent: v.WelcomeIntent,
            InvokedBy: { StandardMessages: v.StandardMessages, TargetedMessages: v.TargetedMessages },
          }),
        },
      }));
      acting.forget(app);
      toast(`Bot ${v.Name} created`);
      ctx.refresh();
      return out;
    },
  });
  const list = h('div', loading());
  replace(ctx.el, h('div.toolbar', h('span.spacer'), button('Create bot', create, { kind: 'primary', key: 'n' })), list);
  let rows;
  try {
    rows = await api.listAll('identity', 'ListAppInstanceBots', { AppInstanceArn: app }, 'AppInstanceBots');
  } catch (err) {
    if (ctx.alive()) {
      replace(list, errorBox(err));
    }
    return;
  }
  if (!ctx.alive()) {
    return;
  }
  replace(list, table({
    label: 'Bots',
    columns: [
      { title: 'Name', cell: b => b.Name ?? '' },
      { title: 'ID', cell: b => copyable(b.AppInstanceBotArn, { short: true, label: 'the bot ARN' }), class: 'arn' },
      { title: 'Metadata', cell: b => b.Metadata ?? '', class: 'muted clip' },
      {
        title: '', class: 'row-actions', cell: b => button('Delete', () => confirm({
          title: `Delete ${b.Name ?? 'the bot'}?`,
          text: 'The bot leaves its channels and stops answering.',
          action: async () => {
            await api.identity('DeleteAppInstanceBot', { AppInstanceBotArn: b.AppInstanceBotArn });
            acting.forget(app);
            ctx.refresh();
          },
        }), { kind: 'small danger-text' }),
      },
    ],
    rows,
    filter: b => `${b.Name} ${b.AppInstanceBotArn}`,
    emptyView: empty('No bots.', 'A bot answers messages in channels with an Amazon Lex V2 bot. Create one when you have a Lex bot alias.',
      button('Create bot', create, { kind: 'primary' })),
  }));
}

async function admins(ctx, app) {
  const list = h('div', loading());
  const add = async () => {
    const p = await acting.principals(app);
    const taken = new Set(p.admins.map(a => a.Admin.Arn));
    const options = [...p.users.map(u => [u.AppInstanceUserArn, `${u.Name} (user)`]), ...p.bots.map(b => [b.AppInstanceBotArn, `${b.Name} (bot)`])]
      .filter(([arn]) => !taken.has(arn));
    if (!options.length) {
      toast('Every user and bot is already an admin; create a user first.');
      return;
    }
    return form({
      title: 'Add an AppInstanceAdmin',
      intro: 'An admin has a moderator\'s rights in every channel of the AppInstance, lists private channels, and may delete messages.',
      fields: [{ name: 'Arn', label: 'User or bot', type: 'select', options }],
      submitLabel: 'Add admin',
      submit: async v => {
        await api.identity('CreateAppInstanceAdmin', { AppInstanceArn: app, AppInstanceAdminArn: v.Arn });
        acting.forget(app);
        ctx.refresh();
        return true;
      },
    });
  };
  replace(ctx.el, h('div.toolbar', h('span.spacer'), button('Add admin', add, { kind: 'primary', key: 'n' })), list);
  let rows;
  try {
    rows = await api.listAll('identity', 'ListAppInstanceAdmins', { AppInstanceArn: app }, 'AppInstanceAdmins');
  } catch (err) {
    if (ctx.alive()) {
      replace(list, errorBox(err));
    }
    return;
  }
  if (!ctx.alive()) {
    return;
  }
  replace(list, table({
    label: 'Admins',
    columns: [
      { title: 'Name', cell: a => a.Admin.Name ?? '' },
      { title: 'ID', cell: a => copyable(a.Admin.Arn, { short: true, label: 'the ARN' }), class: 'arn' },
      {
        title: '', class: 'row-actions', cell: a => button('Remove', () => confirm({
          title: `Remove ${a.Admin.Name} as admin?`,
          text: 'It keeps its memberships and the roles it has in channels.',
          label: 'Remove',
          action: async () => {
            await api.identity('DeleteAppInstanceAdmin', { AppInstanceArn: app, AppInstanceAdminArn: a.Admin.Arn });
            acting.forget(app);
            ctx.refresh();
          },
        }), { kind: 'small danger-text' }),
      },
    ],
    rows,
    filter: a => `${a.Admin.Name} ${a.Admin.Arn}`,
    emptyView: empty('No admins.', 'Promote a user or bot to AppInstanceAdmin to moderate every channel, list private channels and delete messages.',
      button('Add admin', add, { kind: 'primary' })),
  }));
}

async function retention(ctx, app) {
  replace(ctx.el, loading());
  let out;
  try {
    out = await api.identity('GetAppInstanceRetentionSettings', { AppInstanceArn: app });
  } catch (err) {
    if (ctx.alive()) {
      replace(ctx.el, errorBox(err));
    }
    return;
  }
  if (!ctx.alive()) {
    return;
  }
  const days = out.AppInstanceRetentionSettings?.ChannelRetentionSettings?.RetentionDays;
  const edit = () => form({
    title: 'Message retention',
    intro: 'Messages older than this are deleted by the server\'s background jobs. Without a setting, messages are kept.',
    fields: [{ name: 'RetentionDays', label: 'Days to keep messages', type: 'number', min: 1, max: 5475, required: true, value: days ?? '' }],
    submit: async v => {
      await api.identity('PutAppInstanceRetentionSettings', {
        AppInstanceArn: app,
        AppInstanceRetentionSettings: { ChannelRetentionSettings: { RetentionDays: Number(v.RetentionDays) } },
      });
      toast('Retention saved');
      ctx.refresh();
      return true;
    },
  });
  replace(ctx.el, section('Message retention',
    days
      ? dl([['Messages are kept for', `${days} days`], ['Deletion began', when(out.InitiateDeletionTimestamp)]])
      : empty('Messages are kept forever.', 'Set a retention period to have old messages deleted.'),
    h('div.toolbar', button(days ? 'Change retention' : 'Set retention', edit, { kind: 'primary', key: 'n' }))));
}

async function settings(ctx, app, info) {
  const edit = () => form({
    title: 'Edit the AppInstance',
    fields: [
      { name: 'Name', label: 'Name', required: true, value: info.Name },
      { name: 'Metadata', label: 'Metadata', type: 'textarea', rows: 3, value: info.Metadata ?? '' },
    ],
    submit: async v => {
      await api.identity('UpdateAppInstance', { AppInstanceArn: app, Name: v.Name, Metadata: v.Metadata });
      toast('Saved');
      ctx.refresh();
      return true;
    },
  });
  const del = () => confirm({
    title: `Delete ${info.Name}?`,
    text: 'Its users, bots, channels and messages are deleted with it. This cannot be undone.',
    action: async () => {
      await api.identity('DeleteAppInstance', { AppInstanceArn: app });
      toast(`${info.Name} deleted`);
      location.hash = '#/apps';
    },
  });
  replace(ctx.el,
    section('Details', dl([
      ['Name', info.Name],
      ['ARN', copyable(app)],
      ['Metadata', info.Metadata],
      ['Created', when(info.CreatedTimestamp)],
      ['Updated', when(info.LastUpdatedTimestamp)],
    ]), h('div.toolbar', button('Edit', edit, { key: 'n' }))),
    section('Danger zone', h('div.toolbar', button('Delete AppInstance', del, { kind: 'danger' }))));
}
