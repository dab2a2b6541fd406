/**
 * The one-file spam checker of the plugin-author guide (plugins/README.md), taken from the guide verbatim,
 * saved beside a homeserver.yaml with the guide's `plugins:` block, must load and refuse as the guide says.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { PROJECT_ROOT } from '../../../../core/plugins/resolve-module.js';
import { bootFromYaml, SERVER_NAME } from '../../../helpers/plugin-fixtures/boot-from-yaml.js';
import { fakeBackends, fakeBackendsModule } from '../../../helpers/plugin-fixtures/probe-module.js';

async function guideExample(): Promise<{ code: string; yaml: string }> {
  const guide = await readFile(join(PROJECT_ROOT, 'plugins/README.md'), 'utf8');
  const section = guide.slice(guide.indexOf('## A complete spam checker in one file'));
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  if (!code || !yaml) throw new Error('the guide lost its one-file example');
  return { code, yaml };
}

void t.test(
  'the guide example, imported from "axon" beside homeserver.yaml, refuses as documented',
  async (t) => {
    const { code, yaml } = await guideExample();
    t.match(code, /from 'axon'/, 'the example imports the package by name');
    const backends = fakeBackends(SERVER_NAME);
    const server = await bootFromYaml(t, yaml, {
      files: { 'no-casino.mts': code },
      modules: [fakeBackendsModule(backends)],
    });
    const check = (callback: string, body: unknown) =>
      server.request('POST', `/_matrix/client/v3/x.plugin_probe/check/${callback}`, { body });
    const sender = `@alice:${SERVER_NAME}`;
    const message = (body: string) => ({
      event: {
        type: 'm.room.message',
        sender,
        room_id: '!r:plugins.test',
        content: { msgtype: 'm.text', body },
      },
    });

    const casino = await check('checkEventForSpam', message('Big JACKPOT tonight'));
    t.equal(casino.status, 403);
    t.same(casino.body, { errcode: 'M_FORBIDDEN', error: 'No casinos here.' });
    t.equal((await check('checkEventForSpam', message('book club at 8'))).status, 200);
    t.ok(server.logs.some((l) => l['plugin'] === 'no-casino' && l['msg'] === 'refused a casino message'));

    const lonely = await check('userMayInvite', {
      inviter: sender,
      invitee: '@bob:plugins.test',
      roomId: '!r:plugins.test',
    });
    t.same(lonely.body, { errcode: 'M_FORBIDDEN', error: 'Join a room first.' });
    backends.joined.set(sender, ['!r:plugins.test']);
    const joined = await check('userMayInvite', {
      inviter: sender,
      invitee: '@bob:plugins.test',
      roomId: '!r:plugins.test',
    });
    t.equal(joined.status, 200);
  },
);
