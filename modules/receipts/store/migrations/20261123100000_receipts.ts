/** Read receipts (public and private, threaded and unthreaded) and the position counter of their stream. */
import type { Knex } from 'knex';
import type { Migration } from '../../../../core/define-module.js';

export const receiptsMigration: Migration = {
  name: '20261123100000_receipts',
  async up(knex: Knex) {
    await knex.schema.createTable('receipts_receipts', (t) => {
      t.string('room_id').notNullable().comment('The room the receipt is in');
      t.string('receipt_type').notNullable().comment('m.read or m.read.private');
      t.string('user_id').notNullable().comment('Who sent the receipt');
      t.string('thread_id')
        .notNullable()
        .comment("'' for an unthreaded receipt, 'main' or a thread root's event id for a threaded one");
      t.string('event_id').notNullable().comment('The event read up to');
      t.bigInteger('event_stream_ordering')
        .notNullable()
        .comment("The event's position in the room's stream, so a receipt never moves backwards");
      t.bigInteger('ts').notNullable().comment('When the receipt was sent (ms since the epoch)');
      t.bigInteger('stream_position')
        .notNullable()
        .comment('Position of the last change in the receipts stream');
      t.primary(['room_id', 'receipt_type', 'user_id', 'thread_id']);
      // A sync reads the changes of its rooms after a position: one index range per room, no scan.
      t.index(['room_id', 'stream_position'], 'receipts_receipts_room_stream');
    });
    await knex.schema.createTable('receipts_stream', (t) => {
      t.integer('id').primary().comment('Always 1: a single-row counter');
      t.bigInteger('position').notNullable().comment('The newest position handed out');
    });
    await knex('receipts_stream').insert({ id: 1, position: 0 });
  },
  async down(knex: Knex) {
    await knex.schema.dropTableIfExists('receipts_stream');
    await knex.schema.dropTableIfExists('receipts_receipts');
  },
};
