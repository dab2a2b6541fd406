/**
 * The outbound side of federation: the backoff registry (Synapse's `destinations`), the per-destination
 * outbox of PDUs not yet delivered (the role of Synapse's `destination_rooms` +
 * `last_successful_stream_ordering`, one row per event and destination), EDUs that must survive a restart
 * (to-device, device lists), and the sender's own positions (the fan-out position, the txn id epoch).
 */
import type { Knex } from 'knex';
import type { Migration } from '../../../../core/define-module.js';

export const federationOutboundMigration: Migration = {
  name: '20261207160000_federation_outbound',
  async up(knex: Knex) {
    await knex.schema.createTable('federation_destinations', (t) => {
      t.string('destination').primary().comment('A server name we send to');
      t.bigInteger('retry_last_ts').notNullable().comment('When the last failed attempt was (ms), 0 when up');
      t.bigInteger('retry_interval').notNullable().comment('How long to wait after it (ms), 0 when up');
      t.bigInteger('failure_ts').nullable().comment('When the current run of failures began (ms)');
    });
    await knex.schema.createTable('federation_outbound_pdus', (t) => {
      t.string('destination').notNullable().comment('The server the event must reach');
      t.bigInteger('stream_ordering').notNullable().comment('rooms_events.stream_ordering of the event');
      t.string('room_id').notNullable().comment('The event’s room (catch-up sends the latest per room)');
      t.string('event_id').notNullable().comment('The event');
      t.primary(['destination', 'stream_ordering']);
    });
    await knex.schema.createTable('federation_outbound_edus', (t) => {
      t.increments('id').primary().comment('Order of sending');
      t.string('destination').notNullable().comment('The server the EDU must reach');
      t.string('edu_type')
        .notNullable()
        .comment('The EDU type (m.direct_to_device, m.device_list_update, …)');
      t.text('content_json').notNullable().comment('The EDU content');
      t.bigInteger('created_ts').notNullable().comment('When it was queued (ms)');
      t.index(['destination', 'id'], 'federation_outbound_edus_destination');
    });
    await knex.schema.createTable('federation_outbound_positions', (t) => {
      t.string('name').primary().comment('fanout: the last stream ordering fanned out; txn_epoch: boots');
      t.bigInteger('value').notNullable().comment('The position');
    });
  },
  async down(knex: Knex) {
    await knex.schema.dropTableIfExists('federation_outbound_positions');
    await knex.schema.dropTableIfExists('federation_outbound_edus');
    await knex.schema.dropTableIfExists('federation_outbound_pdus');
    await knex.schema.dropTableIfExists('federation_destinations');
  },
};
