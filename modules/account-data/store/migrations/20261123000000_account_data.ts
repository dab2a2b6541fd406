/** Account data (global and per room) and the position counter of its stream. */
import type { Knex } from 'knex';
import type { Migration } from '../../../../core/define-module.js';

export const accountDataMigration: Migration = {
  name: '20261123000000_account_data',
  async up(knex: Knex) {
    await knex.schema.createTable('account_data_entries', (t) => {
      t.string('user_id').notNullable().comment('Owner of the account data');
      t.string('room_id').notNullable().comment("The room, or '' for global account data");
      t.string('type').notNullable().comment('Event type of the account data');
      t.text('content').notNullable().comment('The content as JSON text');
      t.bigInteger('stream_position')
        .notNullable()
        .comment('Position of the last change in the account_data stream');
      t.primary(['user_id', 'room_id', 'type']);
      // A sync reads one user's changes after a position: one index range, no scan.
      t.index(['user_id', 'stream_position'], 'account_data_entries_user_stream');
    });
    await knex.schema.createTable('account_data_stream', (t) => {
      t.integer('id').primary().comment('Always 1: a single-row counter');
      t.bigInteger('position').notNullable().comment('The newest position handed out');
    });
    await knex('account_data_stream').insert({ id: 1, position: 0 });
  },
  async down(knex: Knex) {
    await knex.schema.dropTableIfExists('account_data_stream');
    await knex.schema.dropTableIfExists('account_data_entries');
  },
};
