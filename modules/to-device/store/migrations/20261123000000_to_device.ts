/** Pending send-to-device messages, transaction ids for idempotency, and the stream's position counter. */
import type { Knex } from 'knex';
import type { Migration } from '../../../../core/define-module.js';

export const toDeviceMigration: Migration = {
  name: '20261123000000_to_device',
  async up(knex: Knex) {
    await knex.schema.createTable('to_device_messages', (t) => {
      t.string('user_id').notNullable().comment('Recipient user');
      t.string('device_id').notNullable().comment('Recipient device');
      t.bigInteger('position').notNullable().comment('Stream position of the send that queued it');
      t.string('sender').notNullable().comment('Sending user');
      t.string('type').notNullable().comment('Event type');
      t.text('content').notNullable().comment('Event content as JSON text');
      // One send puts at most one message on a device, so (device, position) identifies a message and the
      // primary key is the index a sync reads and acknowledges through.
      t.primary(['user_id', 'device_id', 'position']);
    });
    await knex.schema.createTable('to_device_txns', (t) => {
      t.string('user_id').notNullable().comment('Sending user');
      t.string('device_id').notNullable().comment("Sending device ('' for a token without a device)");
      t.string('txn_id').notNullable().comment('Client transaction id');
      t.bigInteger('created_ts').notNullable().comment('When it was first seen (ms), for pruning');
      t.primary(['user_id', 'device_id', 'txn_id']);
    });
    await knex.schema.createTable('to_device_stream', (t) => {
      t.integer('id').primary().comment('Always 1: a single-row counter');
      t.bigInteger('position').notNullable().comment('The newest position handed out');
    });
    await knex('to_device_stream').insert({ id: 1, position: 0 });
  },
  async down(knex: Knex) {
    await knex.schema.dropTableIfExists('to_device_stream');
    await knex.schema.dropTableIfExists('to_device_txns');
    await knex.schema.dropTableIfExists('to_device_messages');
  },
};
