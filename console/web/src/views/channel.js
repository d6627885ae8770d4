// A channel, seen as the user the console acts as: its messages, members,
// moderators, bans, sub-channels and settings.

import { h, replace, lastPart, when, arnParts } from '../dom.js';
import * as api from '../api.js';
import * as acting from '../acting.js';
import {
  header, tabs, table, empty, loading, errorBox, form, confirm, button, copyable, link, optional, toast, dl, section, badge,
} from '../ui.js';

export async function channelView(ctx) {
  const [channel, tabParam] = ctx.params;
  const app = arnParts(channel).app;
  const as = ctx.query.get('as');
  if (as) {
    // A link that says whom to act as (from a user's page): remember it,
    // and drop it from the address so that a later pick stands.
    if (api.isRoot()) {
      acting.setBearer(app, as);
    }
    const q = new URLSearchParams(ctx.query);
    q.delete('as');
    history.replaceState(null, '', `${location.hash.split('?')[0]}${q.size ? `?${q}` : ''}`);
    ctx.query = q;
  }
  const head = h('div', loading());
  const body = h('div.tab-body');
  replace(ctx.el, head, body);
  const bearer = await acting.bearer(app);
  if (!ctx.alive()) {
    return;
  }
  if (!bearer) {
    replace(head, empty('Nobody to act as.', 'Channels are read as a user of the AppInstance: create one first.',
      h('a.button.primary', { href: link('apps', app, 'users') }, 'Go to Users')));
    return;
  }
  let info;
  let appName = lastPart(app);
  try {
    const [c, a] = await Promise.all([
      api.messaging('DescribeChannel', { ChannelArn: channel, ChimeBearer: bearer }),
      api.isRoot() ? api.identity('DescribeAppInstance', { AppInstanceArn: app }).catch(() => null) : null,
    ]);
    info = c.Channel;
    appName = a?.AppInstance?.Name ?? appName;
  } catch (err) {
    if (ctx.alive()) {
      replace(head,
        header({ crumbs: crumbs(app, appName), title: lastPart(channel) }),
        h('div.toolbar', await acting.picker(app, bearer, () => ctx.refresh())),
        errorBox(err, err.type === 'ForbiddenException' ? 'The user the console acts as may not see this channel: act as a member, a moderator or an admin.' : undefined));
    }
    return;
  }
  if (!ctx.alive()) {
    return;
  }
  const elastic = Boolean(info.ElasticChannelConfiguration);
  const names = ['messages', 'members', 'moderators', 'bans', elastic ? 'subchannels' : null, 'settings'].filter(Boolean);
  const tab = names.includes(tabParam) ? tabParam : 'messages';
  const label = { messages: 'Messages', members: 'Members', moderators: 'Moderators', bans: 'Bans', subchannels: 'Sub-channels', settings: 'Settings' };
  replace(head,
    header({
      crumbs: crumbs(app, appName),
      title: info.Name,
      subtitle: h('span', copyable(channel, { label: 'the channel ARN' }), ' ',
        badge(info.Privacy ?? ''), ' ', badge(info.Mode ?? ''), elastic ? [' ', badge('ELASTIC')] : null,
        info.ChannelFlowArn ? [' ', badge('FLOW')] : null),
      actions: [h('a.button', { href: `#/live?app=${encodeURIComponent(app)}&user=${encodeURIComponent(bearer)}&channel=${encodeURIComponent(channel)}` }, 'Open live')],
    }),
    h('div.toolbar', await acting.picker(app, bearer, () => ctx.refresh())),
    tabs(names.map(t => [t, label[t], link('channels', channel, t)]), tab));
  const c = { ...ctx, el: body, app, channel, bearer, info, elastic };
  await { messages, members, moderators, bans, subchannels, settings }[tab](c);
}

function crumbs(app, appName) {
  return api.isRoot()
    ? [['AppInstances', '#/apps'], [appName, link('apps', app)], ['Channels', link('apps', app, 'channels')]]
    : [['My channels', '#/']];
}

// subChannel is the sub-channel of an elastic channel a view shows: the
// one in the address, or the bearer's own, or the first listed.
async function subChannel(c) {
  if (!c.elastic) {
    return { id: undefined, picker: null };
  }
  let ids = [];
  try {
    ids = (await api.listAll('messaging', 'ListSubChannels', { ChannelArn: c.channel, ChimeBearer: c.bearer }, 'SubChannels')).map(s => s.SubChannelId);
  } catch {
    // Members may not list sub-channels; they see their own.
  }
  let id = c.query.get('sub') ?? '';
  if (!id) {
    try {
      const m = await api.messaging('DescribeChannelMembershipForAppInstanceUser', { ChannelArn: c.channel, AppInstanceUserArn: c.bearer, ChimeBearer: c.bearer });
      id = m.ChannelMembership?.AppInstanceUserMembershipSummary?.SubChannelId ?? '';
    } catch {
      // not a member
    }
  }
  if (!id) {
    id = ids[0] ?? '';
  }
  if (id && !ids.includes(id)) {
    ids.unshift(id);
  }
  const picker = h('label.inline', 'Sub-channel ',
    h('select', {
      name: 'sub-channel',
      onchange: e => {
        const q = new URLSearchParams(c.query);
        q.set('sub', e.target.value);
        location.hash = `${location.hash.split('?')[0]}?${q}`;
      },
    }, ids.length ? ids.map(s => h('option', { value: s, selected: s === id }, s)) : h('option', { value: '' }, 'none yet')));
  return { id: id || undefined, picker };
}

async function messages(c) {
  const sub = await subChannel(c);
  if (!c.alive()) {
    return;
  }
  const list = h('ol.messages', { 'aria-label': 'Messages', 'aria-live': 'polite' });
  const older = h('div.older');
  const status = h('div');
  let next;

  const load = async more => {
    try {
      const out = await api.messaging('ListChannelMessages', optional({
        ChannelArn: c.channel, ChimeBearer: c.bearer, SortOrder: 'DESCENDING', MaxResults: 50, NextToken: more ? next : undefined, SubChannelId: sub.id,
      }));
      if (!c.alive()) {
        return;
      }
      next = out.NextToken;
      const items = (out.ChannelMessages ?? []).slice().reverse().map(m => messageItem(c, m, sub.id));
      if (more) {
        list.prepend(...items);
      } else {
        replace(list, items);
        if (!items.length) {
          list.append(h('li.empty-line', 'No messages yet. Write the first one below: it is sent as ',
            h('strong', lastPart(c.bearer)), '.'));
        }
        list.lastElementChild?.scrollIntoView?.({ block: 'nearest' });
      }
      replace(older, next ? button('Load older messages', () => load(true), { kind: 'small' }) : null);
      replace(status);
    } catch (err) {
      if (c.alive()) {
        replace(status, errorBox(err, err.type === 'ForbiddenException' ? 'Act as a member of the channel, a moderator or an admin to read its messages.' : undefined));
      }
    }
  };

  const composer = messageComposer({
    placeholder: `Message as ${lastPart(c.bearer)}  (Enter to send, Shift+Enter for a new line)`,
    send: async ({ content, type, persistence }) => {
      await api.messaging('SendChannelMessage', optional({
        ChannelArn: c.channel, ChimeBearer: c.bearer, Content: content, Type: type, Persistence: persistence,
        ClientRequestToken: api.token(), SubChannelId: sub.id,
      }));
      await load(false);
    },
  });
  replace(c.el,
    h('div.toolbar', sub.picker, h('span.spacer'), button('Refresh', () => load(false), { kind: 'small' })),
    older, list, status, composer);
  await load(false);
}

// messageComposer is a box that sends a message on Enter; send throws
// the API's error, shown under the box.
export function messageComposer({ placeholder, send, id }) {
  const errorSlot = h('div');
  const text = h('textarea', { rows: 2, placeholder, 'aria-label': 'Message', id, name: 'content' });
  const type = h('select', { 'aria-label': 'Type', name: 'type' }, h('option', { value: 'STANDARD' }, 'Standard'), h('option', { value: 'CONTROL' }, 'Control'));
  const persistence = h('select', { 'aria-label': 'Persistence', name: 'persistence' }, h('option', { value: 'PERSISTENT' }, 'Persistent'), h('option', { value: 'NON_PERSISTENT' }, 'Not persistent'));
  const submit = h('button.primary', { type: 'submit' }, 'Send');
  const el = h('form.composer', {
    onsubmit: async e => {
      e.preventDefault();
      const content = text.value;
      if (!content.trim()) {
        return;
      }
      submit.disabled = true;
      replace(errorSlot);
      try {
        await send({ content, type: type.value, persistence: persistence.value });
        text.value = '';
      } catch (err) {
        replace(errorSlot, errorBox(api.toApiError(err)));
      } finally {
        submit.disabled = false;
        text.focus();
      }
    },
  }, h('div.composer-row', text, h('div.composer-side', submit)),
  h('div.composer-options', type, persistence), errorSlot);
  text.addEventListener('keydown', e => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      el.requestSubmit();
    }
  });
  return el;
}

function messageItem(c, m, subChannelId) {
  const status = m.Status?.Value;
  const content = m.Redacted ? h('p.content.muted', 'Redacted') : h('p.content', m.Content ?? '');
  const edit = () => form({
    title: 'Edit the message',
    fields: [
      { name: 'Content', label: 'Content', type: 'textarea', required: true, value: m.Content ?? '' },
      { name: 'Metadata', label: 'Metadata', type: 'textarea', rows: 2, value: m.Metadata ?? '' },
    ],
    submit: async v => {
      await api.messaging('UpdateChannelMessage', optional({
        ChannelArn: c.channel, MessageId: m.MessageId, ChimeBearer: c.bearer, Content: v.Content, Metadata: v.Metadata, SubChannelId: subChannelId,
      }));
      toast('Message updated');
      c.refresh();
      return true;
    },
  });
  const redact = () => confirm({
    title: 'Redact the message?',
    text: 'Its content and metadata are erased; the message stays, marked redacted.',
    label: 'Redact',
    action: async () => {
      await api.messaging('RedactChannelMessage', optional({ ChannelArn: c.channel, MessageId: m.MessageId, ChimeBearer: c.bearer, SubChannelId: subChannelId }));
      c.refresh();
    },
  });
  const del = () => confirm({
    title: 'Delete the message?',
    text: 'Only AppInstanceAdmins may delete messages; the message disappears for everyone.',
    action: async () => {
      await api.messaging('DeleteChannelMessage', optional({ ChannelArn: c.channel, MessageId: m.MessageId, ChimeBearer: c.bearer, SubChannelId: subChannelId }));
      c.refresh();
    },
  });
  return h('li.message', { dataset: { messageId: m.MessageId } },
    h('div.meta',
      h('strong.sender', m.Sender?.Name ?? lastPart(m.Sender?.Arn ?? '')),
      h('span.muted', when(m.CreatedTimestamp)),
      m.LastEditedTimestamp ? h('span.muted', { title: when(m.LastEditedTimestamp) }, 'edited') : null,
      m.Type === 'CONTROL' ? badge('CONTROL') : null,
      status && status !== 'SENT' ? badge(status, status === 'DENIED' || status === 'FAILED' ? 'bad' : 'warn') : null,
      m.Target?.length ? badge('targeted') : null,
      h('span.spacer'),
      h('span.message-actions',
        m.Redacted ? null : button('Edit', edit, { kind: 'small' }),
        m.Redacted ? null : button('Redact', redact, { kind: 'small' }),
        button('Delete', del, { kind: 'small danger-text' }))),
    content,
    m.Metadata ? h('p.metadata', h('span.muted', 'Metadata: '), m.Metadata) : null,
    m.Status?.Detail ? h('p.muted', m.Status.Detail) : null);
}

// userOptions offers the AppInstance's users and bots not in exclude
// (root); a per-user key, which may not list them, types an ARN.
async function memberField(c, name, label, exclude = new Set()) {
  if (!api.isRoot()) {
    return { name, label: `${label} ARN`, required: true, placeholder: `${c.app}/user/…` };
  }
  const p = await acting.principals(c.app);
  const options = [...p.users.map(u => [u.AppInstanceUserArn, `${u.Name} (user)`]), ...p.bots.map(b => [b.AppInstanceBotArn, `${b.Name} (bot)`])]
    .filter(([arn]) => !exclude.has(arn));
  return { name, label, type: 'select', options };
}

async function members(c) {
  const type = c.query.get('type') === 'HIDDEN' ? 'HIDDEN' : 'DEFAULT';
  const sub = await subChannel(c);
  const list = h('div', loading());
  let rows = [];
  const add = async () => form({
    title: 'Add a member',
    fields: [
      await memberField(c, 'MemberArn', 'User', new Set(rows.map(m => m.Member.Arn))),
      { name: 'Type', label: 'Type', type: 'select', value: type, options: [['DEFAULT', 'Default: takes part'], ['HIDDEN', 'Hidden: receives, is not listed to members']] },
    ],
    submitLabel: 'Add',
    submit: async v => {
      await api.messaging('CreateChannelMembership', { ChannelArn: c.channel, MemberArn: v.MemberArn, Type: v.Type, ChimeBearer: c.bearer });
      toast('Member added');
      c.refresh();
      return true;
    },
  });
  replace(c.el,
    h('div.toolbar',
      h('div.segmented', { role: 'group', 'aria-label': 'Membership type' },
        ['DEFAULT', 'HIDDEN'].map(t => h('a', {
          href: `${link('channels', c.channel, 'members')}?type=${t}`, class: t === type ? 'active' : '', 'aria-current': t === type ? 'true' : null,
        }, t === 'DEFAULT' ? 'Default' : 'Hidden'))),
      sub.picker, h('span.spacer'), button('Add member', add, { kind: 'primary', key: 'n' })),
    list);
  try {
    rows = await api.listAll('messaging', 'ListChannelMemberships', optional({ ChannelArn: c.channel, ChimeBearer: c.bearer, Type: type, SubChannelId: sub.id }), 'ChannelMemberships');
  } catch (err) {
    if (c.alive()) {
      replace(list, errorBox(err));
    }
    return;
  }
  if (!c.alive()) {
    return;
  }
  replace(list, table({
    label: 'Members',
    columns: [
      { title: 'Name', cell: m => m.Member.Name ?? '' },
      { title: 'ID', cell: m => copyable(m.Member.Arn, { short: true, label: 'the ARN' }), class: 'arn' },
      {
        title: '', class: 'row-actions', cell: m => button('Remove', () => confirm({
          title: `Remove ${m.Member.Name} from the channel?`,
          label: 'Remove',
          action: async () => {
            await api.messaging('DeleteChannelMembership', optional({ ChannelArn: c.channel, MemberArn: m.Member.Arn, ChimeBearer: c.bearer, SubChannelId: sub.id }));
            c.refresh();
          },
        }), { kind: 'small danger-text' }),
      },
    ],
    rows,
    filter: m => `${m.Member.Name} ${m.Member.Arn}`,
    emptyView: empty(type === 'DEFAULT' ? 'No members.' : 'No hidden members.',
      'Members send and receive the channel\'s messages, live over their messaging session.',
      button('Add member', add, { kind: 'primary' })),
  }));
}

async function moderators(c) {
  const list = h('div', loading());
  let rows = [];
  const add = async () => form({
    title: 'Add a moderator',
    intro: 'Moderators manage members, bans and the channel\'s settings, and redact messages.',
    fields: [await memberField(c, 'Arn', 'User', new Set(rows.map(m => m.Moderator.Arn)))],
    submitLabel: 'Add',
    submit: async v => {
      await api.messaging('CreateChannelModerator', { ChannelArn: c.channel, ChannelModeratorArn: v.Arn, ChimeBearer: c.bearer });
      c.refresh();
      return true;
    },
  });
  replace(c.el, h('div.toolbar', h('span.spacer'), button('Add moderator', add, { kind: 'primary', key: 'n' })), list);
  try {
    rows = await api.listAll('messaging', 'ListChannelModerators', { ChannelArn: c.channel, ChimeBearer: c.bearer }, 'ChannelModerators');
  } catch (err) {
    if (c.alive()) {
      replace(list, errorBox(err));
    }
    return;
  }
  if (!c.alive()) {
    return;
  }
  replace(list, table({
    label: 'Moderators',
    columns: [
      { title: 'Name', cell: m => m.Moderator.Name ?? '' },
      { title: 'ID', cell: m => copyable(m.Moderator.Arn, { short: true, label: 'the ARN' }), class: 'arn' },
      {
        title: '', class: 'row-actions', cell: m => button('Remove', () => confirm({
          title: `Remove ${m.Moderator.Name} as moderator?`,
          label: 'Remove',
          action: async () => {
            await api.messaging('DeleteChannelModerator', { ChannelArn: c.channel, ChannelModeratorArn: m.Moderator.Arn, ChimeBearer: c.bearer });
            c.refresh();
          },
        }), { kind: 'small danger-text' }),
      },
    ],
    rows,
    filter: m => `${m.Moderator.Name} ${m.Moderator.Arn}`,
    emptyView: empty('No moderators.', 'Add a moderator to manage the channel\'s members and settings.', button('Add moderator', add, { kind: 'primary' })),
  }));
}

async function bans(c) {
  const list = h('div', loading());
  let rows = [];
  const ban = async () => form({
    title: 'Ban a user',
    intro: 'A banned user is removed from the channel and may not join it again until unbanned.',
    fields: [await memberField(c, 'Arn', 'User', new Set(rows.map(b => b.Member.Arn)))],
    submitLabel: 'Ban',
    danger: true,
    submit: async v => {
      await api.messaging('CreateChannelBan', { ChannelArn: c.channel, MemberArn: v.Arn, ChimeBearer: c.bearer });
      c.refresh();
      return true;
    },
  });
  replace(c.el, h('div.toolbar', h('span.spacer'), button('Ban user', ban, { kind: 'primary', key: 'n' })), list);
  try {
    rows = await api.listAll('messaging', 'ListChannelBans', { ChannelArn: c.channel, ChimeBearer: c.bearer }, 'ChannelBans');
  } catch (err) {
    if (c.alive()) {
      replace(list, errorBox(err));
    }
    return;
  }
  if (!c.alive()) {
    return;
  }
  replace(list, table({
    label: 'Bans',
    columns: [
      { title: 'Name', cell: b => b.Member.Name ?? '' },
      { title: 'ID', cell: b => copyable(b.Member.Arn, { short: true, label: 'the ARN' }), class: 'arn' },
      {
        title: '', class: 'row-actions', cell: b => button('Unban', async () => {
          try {
            await api.messaging('DeleteChannelBan', { ChannelArn: c.channel, MemberArn: b.Member.Arn, ChimeBearer: c.bearer });
            c.refresh();
          } catch (err) {
            toast(`${err.type}: ${err.message}`, 'error');
          }
        }, { kind: 'small' }),
      },
    ],
    rows,
    filter: b => `${b.Member.Name} ${b.Member.Arn}`,
    emptyView: empty('Nobody is banned.', 'Moderators and admins ban users who must not take part in the channel.'),
  }));
}

async function subchannels(c) {
  replace(c.el, loading());
  let rows;
  try {
    rows = await api.listAll('messaging', 'ListSubChannels', { ChannelArn: c.channel, ChimeBearer: c.bearer }, 'SubChannels');
  } catch (err) {
    if (c.alive()) {
      replace(c.el, errorBox(err, err.type === 'ForbiddenException' ? 'Sub-channels are listed to the channel\'s moderators and the AppInstanceAdmins.' : undefined));
    }
    return;
  }
  if (!c.alive()) {
    return;
  }
  const cfg = c.info.ElasticChannelConfiguration;
  replace(c.el,
    dl([
      ['Maximum sub-channels', cfg.MaximumSubChannels],
      ['Target members per sub-channel', cfg.TargetMembershipsPerSubChannel],
      ['Minimum membership percentage', `${cfg.MinimumMembershipPercentage} %`],
    ]),
    table({
      label: 'Sub-channels',
      columns: [
        { title: 'Sub-channel', cell: s => h('code', s.SubChannelId) },
        { title: 'Members', cell: s => String(s.MembershipCount ?? 0) },
        { title: '', class: 'row-actions', cell: s => h('a.button.small', { href: `${link('channels', c.channel, 'messages')}?sub=${encodeURIComponent(s.SubChannelId)}` }, 'Messages') },
      ],
      rows,
      emptyView: empty('No sub-channels yet.', 'The server opens sub-channels as members join the elastic channel.'),
    }));
}

async function settings(c) {
  const info = c.info;
  const edit = () => form({
    title: 'Edit the channel',
    fields: [
      { name: 'Name', label: 'Name', required: true, value: info.Name },
      { name: 'Mode', label: 'Mode', type: 'select', value: info.Mode, options: [['UNRESTRICTED', 'Unrestricted'], ['RESTRICTED', 'Restricted']] },
      { name: 'Metadata', label: 'Metadata', type: 'textarea', rows: 3, value: info.Metadata ?? '' },
    ],
    submit: async v => {
      await api.messaging('UpdateChannel', { ChannelArn: c.channel, ChimeBearer: c.bearer, ...v });
      toast('Saved');
      c.refresh();
      return true;
    },
  });
  const expiration = () => form({
    title: 'Channel expiration',
    intro: 'The server\'s background jobs delete the channel once it expires. Leave the days empty to remove the setting.',
    fields: [
      { name: 'ExpirationDays', label: 'Days', type: 'number', min: 1, max: 5475, value: info.ExpirationSettings?.ExpirationDays ?? '' },
      {
        name: 'ExpirationCriterion', label: 'Counted from', type: 'select', value: info.ExpirationSettings?.ExpirationCriterion,
        options: [['CREATED_TIMESTAMP', 'the channel\'s creation'], ['LAST_MESSAGE_TIMESTAMP', 'its last message']],
      },
    ],
    submit: async v => {
      await api.messaging('PutChannelExpirationSettings', optional({
        ChannelArn: c.channel, ChimeBearer: c.bearer,
        ExpirationSettings: v.ExpirationDays ? { ExpirationDays: Number(v.ExpirationDays), ExpirationCriterion: v.ExpirationCriterion } : undefined,
      }));
      c.refresh();
      return true;
    },
  });
  const flow = async () => {
    let field = { name: 'ChannelFlowArn', label: 'Channel flow ARN', required: true, placeholder: `${c.app}/channel-flow/…` };
    if (api.isRoot()) {
      const flows = await api.listAll('messaging', 'ListChannelFlows', { AppInstanceArn: c.app }, 'ChannelFlows').catch(() => []);
      if (flows.length) {
        field = { name: 'ChannelFlowArn', label: 'Channel flow', type: 'select', options: flows.map(f => [f.ChannelFlowArn, f.Name]) };
      }
    }
    return form({
      title: 'Associate a channel flow',
      intro: 'The flow\'s processors see every message before it is delivered, and may change or deny it.',
      fields: [field],
      submitLabel: 'Associate',
      submit: async v => {
        await api.messaging('AssociateChannelFlow', { ChannelArn: c.channel, ChannelFlowArn: v.ChannelFlowArn, ChimeBearer: c.bearer });
        c.refresh();
        return true;
      },
    });
  };
  const disassociate = () => confirm({
    title: 'Disassociate the channel flow?',
    text: 'Messages are delivered without passing through its processors.',
    label: 'Disassociate',
    action: async () => {
      await api.messaging('DisassociateChannelFlow', { ChannelArn: c.channel, ChannelFlowArn: info.ChannelFlowArn, ChimeBearer: c.bearer });
      c.refresh();
    },
  });
  const del = () => confirm({
    title: `Delete ${info.Name}?`,
    text: 'Its messages and memberships are deleted with it.',
    action: async () => {
      await api.messaging('DeleteChannel', { ChannelArn: c.channel, ChimeBearer: c.bearer });
      toast(`${info.Name} deleted`);
      location.hash = link('apps', c.app, 'channels');
    },
  });
  const exp = info.ExpirationSettings;
  replace(c.el,
    section('Details', dl([
      ['Name', info.Name],
      ['Mode', info.Mode],
      ['Privacy', info.Privacy],
      ['Metadata', info.Metadata],
      ['Created by', info.CreatedBy ? `${info.CreatedBy.Name} (${lastPart(info.CreatedBy.Arn)})` : null],
      ['Created', when(info.CreatedTimestamp)],
      ['Updated', when(info.LastUpdatedTimestamp)],
      ['Last message', when(info.LastMessageTimestamp) || 'none'],
    ]), h('div.toolbar', button('Edit', edit, { key: 'n' }))),
    section('Channel flow',
      info.ChannelFlowArn ? dl([['Flow', copyable(info.ChannelFlowArn)]]) : h('p.muted', 'No channel flow: messages are delivered as sent.'),
      h('div.toolbar', info.ChannelFlowArn ? button('Disassociate', disassociate) : button('Associate a flow', flow))),
    section('Expiration',
      exp
        ? h('p', `The channel is deleted ${exp.ExpirationDays} days after ${exp.ExpirationCriterion === 'CREATED_TIMESTAMP' ? 'its creation' : 'its last message'}.`)
        : h('p.muted', 'The channel does not expire.'),
      h('div.toolbar', button(exp ? 'Change expiration' : 'Set expiration', expiration))),
    section('Danger zone', h('div.toolbar', button('Delete channel', del, { kind: 'danger' }))));
}
