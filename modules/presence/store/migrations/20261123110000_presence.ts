/** Each local user's presence and the position counter of the presence stream. */
import type { Knex } from 'knex';
import type { Migration } from '../../../../core/define-module.js';

export const presenceMigration: Migration = {
  name: '20261123110000_presence',
  async up(knex: Knex) {
    await knex.schema.createTable('presence_states', (t) => {
      t.string('user_id').primary().comment('The local user');
      t.string('state').notNullable().comment('online, unavailable or offline');
      t.text('status_msg').comment('The status message, if any');
      t.bigInteger('last_active_ts').notNullable().comment('Last pro-active action (ms since the epoch)');
      t.bigInteger('last_sync_ts')
        .notNullable()
        .comment('Last /sync seen from the user (ms since the epoch)');
      t.bigInteger('stream_position')
        .notNullable()
        .comment('Position of the last change in the presence stream');
      // A sync reads the changes after a position: one index range, no scan.
      t.index(['stream_position'], 'presence_states_stream');
      // The timeout sweep reads only users who are not offline.
      t.index(['state'], 'presence_states_state');
    });
    await knex.schema.createTable('presence_stream', (t) => {
      t.integer('id').primary().comment('Always 1: a single-row counter');
      t.bigInteger('position').notNullable().comment('The newest position handed out');
    });
    await knex('presence_stream').insert({ id: 1, position: 0 });
  },
  async down(knex: Knex) {
    await knex.schema.dropTableIfExists('presence_stream');
    await knex.schema.dropTableIfExists('presence_states');
  },
};
