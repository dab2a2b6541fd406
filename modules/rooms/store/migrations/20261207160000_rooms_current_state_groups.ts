/**
 * The history of each room's current state: the state group that is current from a stream position on.
 * A row is written whenever the current state changes — by a state event appended on the head, or by state
 * resolution when forks of the DAG meet (then `resolved`). Sync reads the state as of a position from it:
 * with forks, the state after the topologically latest event is not the room's state.
 */
import type { Knex } from 'knex';
import type { Migration } from '../../../../core/define-module.js';

export const roomsCurrentStateGroupsMigration: Migration = {
  name: '20261207160000_rooms_current_state_groups',
  async up(knex: Knex) {
    await knex.schema.createTable('rooms_current_state_groups', (t) => {
      t.string('room_id').notNullable().comment('The room');
      t.bigInteger('stream_ordering')
        .notNullable()
        .comment('The events stream position of the event whose persisting changed the current state');
      t.bigInteger('state_group').notNullable().comment('The current state from that position on');
      t.boolean('resolved')
        .notNullable()
        .defaultTo(false)
        .comment('Whether state resolution changed it (not only the event appended)');
      t.primary(['room_id', 'stream_ordering']);
    });
  },
  async down(knex: Knex) {
    await knex.schema.dropTableIfExists('rooms_current_state_groups');
  },
};
