/**
 * Events received over federation that passed every check but the one against the room's current state
 * (server-server-api "Soft failure"): kept, never served to clients, never a forward extremity, never state.
 */
import type { Knex } from 'knex';
import type { Migration } from '../../../../core/define-module.js';

export const roomsSoftFailedEventsMigration: Migration = {
  name: '20261207140000_rooms_soft_failed_events',
  async up(knex: Knex) {
    await knex.schema.createTable('rooms_soft_failed_events', (t) => {
      t.string('event_id').primary();
      t.string('room_id').notNullable();
      /** The PDU as accepted (its redacted form when its content hash did not match). */
      t.text('json').notNullable();
      /** Why the current state does not allow it (the auth rule's reason). */
      t.text('reason').notNullable();
      t.bigInteger('received_ts').notNullable();
      t.index(['room_id'], 'rooms_soft_failed_events_room');
    });
  },
  async down(knex: Knex) {
    await knex.schema.dropTableIfExists('rooms_soft_failed_events');
  },
};
