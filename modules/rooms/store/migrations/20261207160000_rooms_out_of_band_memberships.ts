/**
 * Memberships of local users in rooms this server is not in (server-server-api "Inviting to a room",
 * "Knocking upon a room", "Leaving Rooms (Rejecting Invites)"): an invite received from another server, a
 * knock sent to one, the leave that rejected either. The membership event itself is an outlier row of
 * `rooms_events` (no state group, not part of any timeline we hold) so sync sees it in the `events` stream;
 * this table says which rows are such outliers and how to reach the room.
 */
import type { Knex } from 'knex';
import type { Migration } from '../../../../core/define-module.js';

export const roomsOutOfBandMembershipsMigration: Migration = {
  name: '20261207160000_rooms_out_of_band_memberships',
  async up(knex: Knex) {
    await knex.schema.createTable('rooms_out_of_band_memberships', (t) => {
      t.string('room_id').notNullable().comment('The room this server is not in');
      t.string('user_id').notNullable().comment('The local user the membership is of');
      t.string('membership')
        .notNullable()
        .comment('invite | knock | leave (a rejected invite or retracted knock)');
      t.string('event_id').notNullable().comment('The membership event: an outlier row of rooms_events');
      t.string('room_version').notNullable().comment("The room's version, as the remote server stated it");
      t.text('servers')
        .notNullable()
        .comment('JSON array of servers to ask about the room (make_leave, make_join)');
      t.bigInteger('updated_ts').notNullable().comment('When this membership was stored');
      t.primary(['room_id', 'user_id']);
      t.index(['event_id'], 'rooms_out_of_band_memberships_event');
    });
  },
  async down(knex: Knex) {
    await knex.schema.dropTableIfExists('rooms_out_of_band_memberships');
  },
};
