// AppInstances: the list, and creating one.

import { h, replace } from '../dom.js';
import * as api from '../api.js';
import { header, table, empty, loading, errorBox, form, button, copyable, link, optional, toast } from '../ui.js';

export async function appsView(ctx) {
  const create = () => form({
    title: 'Create an AppInstance',
    intro: 'An AppInstance holds users, bots and channels: one per application, or per environment.',
    fields: [
      { name: 'Name', label: 'Name', required: true, placeholder: 'my-app' },
      { name: 'Metadata', label: 'Metadata', type: 'textarea', rows: 2 },
    ],
    submitLabel: 'Create',
    submit: async v => {
      const out = await api.identity('CreateAppInstance', { ...optional(v), ClientRequestToken: api.token() });
      toast(`AppInstance ${v.Name} created`);
      location.hash = link('apps', out.AppInstanceArn);
      return out;
    },
  });
  const body = h('div', loading());
  replace(ctx.el,
    header({ title: 'AppInstances', actions: [button('Create AppInstance', create, { kind: 'primary', key: 'n' })] }),
    body);
  let apps;
  try {
    apps = await api.listAll('identity', 'ListAppInstances', {}, 'AppInstances');
  } catch (err) {
    if (ctx.alive()) {
      replace(body, errorBox(err, err.type === 'ForbiddenException' ? 'Listing AppInstances needs the root key.' : undefined));
    }
    return;
  }
  if (!ctx.alive()) {
    return;
  }
  apps.sort((a, b) => (a.Name ?? '').localeCompare(b.Name ?? ''));
  replace(body, table({
    label: 'AppInstances',
    columns: [
      { title: 'Name', cell: a => a.Name },
      { title: 'ID', cell: a => copyable(a.AppInstanceArn, { short: true, label: 'the ARN' }), class: 'arn' },
      { title: 'Metadata', cell: a => a.Metadata ?? '', class: 'muted clip' },
    ],
    rows: apps,
    href: a => link('apps', a.AppInstanceArn),
    filter: a => `${a.Name} ${a.AppInstanceArn} ${a.Metadata ?? ''}`,
    emptyView: empty('No AppInstances yet.',
      'An AppInstance holds the users and channels of an application. Create one, then add users to it.',
      button('Create AppInstance', create, { kind: 'primary' })),
  }));
}
