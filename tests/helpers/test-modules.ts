/** Tiny modules used by the kernel's own tests: they exercise the contract without any Matrix feature. */
import { Type } from '@sinclair/typebox';
import { defineModule, type Migration } from '../../core/define-module.js';
import { readBody, readJson } from '../../core/http/body.js';
import { MatrixError } from '../../core/errors.js';

const createNotes: Migration = {
  name: '20260101000000_create_notes',
  async up(knex) {
    await knex.schema.createTable('echo_notes', (table) => {
      table.increments('id').comment('Stream-like position assigned by the database');
      table.string('text', 255).notNullable().unique().comment('The note');
    });
  },
  async down(knex) {
    await knex.schema.dropTable('echo_notes');
  },
};

/** Echoes JSON, fails on demand, and stores notes: a stand-in for a real module. */
export const echoModule = defineModule({
  name: 'echo',
  description: 'test module',
  enabledByDefault: true,
  config: Type.Object({ echo_prefix: Type.String({ default: 'echo:' }) }),
  migrations: [createNotes],
  register() {},
  routes(router, { config, cradle }) {
    router.post('/_matrix/client/v3/echo', async (ctx) => {
      ctx.body = { prefix: config.echo_prefix, got: await readJson(ctx) };
    });
    router.post('/_matrix/client/v3/echo/typed', async (ctx) => {
      ctx.body = await readBody(ctx, Type.Object({ n: Type.Integer() }));
    });
    router.get('/_matrix/client/v3/echo/boom', async () => {
      throw new Error('secret internal detail');
    });
    router.get('/_matrix/client/v3/echo/forbidden', async () => {
      throw new MatrixError(403, 'M_FORBIDDEN', 'no');
    });
    router.get('/_matrix/client/v3/echo/slow', async (ctx) => {
      await new Promise((r) => setTimeout(r, 300));
      ctx.body = { slow: true };
    });
    router.get('/_matrix/client/v3/echo/whoami', { auth: 'required' }, async (ctx) => {
      ctx.body = { user: ctx.state.requester?.userId };
    });
    router.post('/_matrix/client/v3/echo/notes', async (ctx) => {
      const { text } = await readBody(ctx, Type.Object({ text: Type.String() }));
      const [row] = await cradle.db('echo_notes').insert({ text }).returning('id');
      ctx.body = { id: typeof row === 'object' ? (row as { id: number }).id : row };
    });
  },
});

/** Requires a module that tests disable. */
export const needsEchoModule = defineModule({
  name: 'needs-echo',
  description: 'test module that requires echo',
  enabledByDefault: true,
  requires: ['echo'],
  register() {},
});
