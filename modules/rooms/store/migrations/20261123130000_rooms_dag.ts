/**
 * The room DAG and what is derived from it. See ../../README.md "Storage" for the state-group scheme.
 */
import type { Knex } from 'knex';
import type { Migration } from '../../../../core/define-module.js';

export const roomsDagMigration: Migration = {
  name: '20261123130000_rooms_dag',
  formerNames: ['001-rooms-dag'],
  async up(knex: Knex) {
    await knex.schema.createTable('rooms_rooms', (t) => {
      t.string('room_id').primary();
      t.string('room_version').notNullable();
      t.string('creator').notNullable();
      /** `public` | `private`: the directory visibility asked for at creation (the directory module owns its use). */
      t.string('visibility').notNullable().defaultTo('private');
      t.bigInteger('created_ts').notNullable();
      /** The stream ordering of the room's newest event: a write compares it with its cache (other processes). */
      t.bigInteger('last_stream').notNullable().defaultTo(0);
      t.bigInteger('max_depth').notNullable().defaultTo(0);
      /** JSON array of the forward extremities (event ids with no successor yet). */
      t.text('forward_extremities').notNullable().defaultTo('[]');
      /** The state group of the current state (after the newest event). */
      t.bigInteger('state_group');
    });

    await knex.schema.createTable('rooms_events', (t) => {
      // The stream ordering: assigned by the database inside the persist transaction.
      t.bigIncrements('stream_ordering');
      t.string('event_id').notNullable().unique();
      t.string('room_id').notNullable();
      t.string('type').notNullable();
      t.string('state_key');
      t.string('sender').notNullable();
      /** The topological ordering. */
      t.bigInteger('depth').notNullable();
      t.bigInteger('origin_server_ts').notNullable();
      /** The PDU as received or built; replaced by its redacted form once redacted. */
      t.text('json').notNullable();
      /** Server-side unsigned facts (replaces_state, prev_content, prev_sender) computed at persist time. */
      t.text('unsigned_json');
      t.string('redacted_by');
      t.string('rejected_reason');
      /** The state group after this event (state before it: the group's prev_group when it is a state event). */
      t.bigInteger('state_group');
      t.string('membership');
      t.string('relates_to');
      t.string('rel_type');
      t.index(['room_id', 'stream_ordering'], 'rooms_events_room_stream');
      t.index(['room_id', 'depth', 'stream_ordering'], 'rooms_events_room_topo');
      t.index(['room_id', 'type', 'state_key'], 'rooms_events_room_type_key');
      t.index(['relates_to', 'rel_type'], 'rooms_events_relates');
      t.index(['room_id', 'origin_server_ts'], 'rooms_events_room_ts');
    });

    // prev_events (kind 'p') and auth_events (kind 'a') of each event, one table so one insert stores both.
    await knex.schema.createTable('rooms_event_edges', (t) => {
      t.string('event_id').notNullable();
      t.string('other_id').notNullable();
      t.string('kind', 1).notNullable();
      t.primary(['event_id', 'kind', 'other_id']);
      t.index(['other_id', 'kind'], 'rooms_event_edges_other');
    });

    await knex.schema.createTable('rooms_state_groups', (t) => {
      t.bigIncrements('id');
      t.string('room_id').notNullable();
      /** The group this one was derived from (null for a room's first group). */
      t.bigInteger('prev_group');
      /** True when rooms_state_group_entries holds the whole map; otherwise only the delta off prev_group. */
      t.boolean('is_snapshot').notNullable().defaultTo(false);
      /** Deltas since the last snapshot, so a chain never grows past the snapshot interval. */
      t.integer('chain_length').notNullable().defaultTo(0);
    });

    await knex.schema.createTable('rooms_state_group_entries', (t) => {
      t.bigInteger('state_group').notNullable();
      t.string('type').notNullable();
      t.string('state_key').notNullable();
      t.string('event_id').notNullable();
      t.primary(['state_group', 'type', 'state_key']);
    });

    await knex.schema.createTable('rooms_current_state', (t) => {
      t.string('room_id').notNullable();
      t.string('type').notNullable();
      t.string('state_key').notNullable();
      t.string('event_id').notNullable();
      t.primary(['room_id', 'type', 'state_key']);
    });

    await knex.schema.createTable('rooms_memberships', (t) => {
      t.string('room_id').notNullable();
      t.string('user_id').notNullable();
      t.string('membership').notNullable();
      t.string('event_id').notNullable();
      t.bigInteger('stream_ordering').notNullable();
      t.boolean('forgotten').notNullable().defaultTo(false);
      t.primary(['room_id', 'user_id']);
      t.index(['user_id', 'membership'], 'rooms_memberships_user');
    });

    await knex.schema.createTable('rooms_txns', (t) => {
      t.string('user_id').notNullable();
      t.string('device_id').notNullable();
      t.string('txn_id').notNullable();
      t.string('event_id').notNullable();
      t.bigInteger('created_ts').notNullable();
      t.primary(['user_id', 'device_id', 'txn_id']);
    });
  },
  async down(knex: Knex) {
    for (const table of [
      'rooms_txns',
      'rooms_memberships',
      'rooms_current_state',
      'rooms_state_group_entries',
      'rooms_state_groups',
      'rooms_event_edges',
      'rooms_events',
      'rooms_rooms',
    ]) {
      await knex.schema.dropTableIfExists(table);
    }
  },
};
