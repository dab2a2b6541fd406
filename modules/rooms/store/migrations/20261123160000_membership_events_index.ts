/**
 * A user's own membership events by stream position: sync asks "did this user's membership change since
 * position N" on every woken long-poll, which the (room_id, type, state_key) index cannot answer without
 * a room.
 */
import type { Knex } from 'knex';
import type { Migration } from '../../../../core/define-module.js';

export const membershipEventsIndexMigration: Migration = {
  name: '20261123160000_membership_events_index',
  formerNames: ['002-membership-events-index'],
  async up(knex: Knex) {
    await knex.schema.alterTable('rooms_events', (t) => {
      t.index(['state_key', 'type', 'stream_ordering'], 'rooms_events_key_type_stream');
    });
  },
  async down(knex: Knex) {
    await knex.schema.alterTable('rooms_events', (t) => {
      t.dropIndex(['state_key', 'type', 'stream_ordering'], 'rooms_events_key_type_stream');
    });
  },
};
