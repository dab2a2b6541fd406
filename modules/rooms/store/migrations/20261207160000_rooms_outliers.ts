/**
 * Events known outside the room's timeline (Synapse's outliers): the state and auth events fetched from
 * another server to check an event whose prev_events we lack. They are stored in `rooms_events` at negative
 * stream orderings (no stream read reaches them) with `outlier` set, so timeline reads skip them; backfilled
 * events also sit at negative stream orderings, but are part of the timeline (`outlier` false).
 */
import type { Knex } from 'knex';
import type { Migration } from '../../../../core/define-module.js';

export const roomsOutliersMigration: Migration = {
  name: '20261207160000_rooms_outliers',
  async up(knex: Knex) {
    await knex.schema.alterTable('rooms_events', (t) => {
      t.boolean('outlier')
        .notNullable()
        .defaultTo(false)
        .comment(
          'known only as state or auth of another event: in no timeline, at a negative stream ordering',
        );
    });
  },
  async down(knex: Knex) {
    await knex.schema.alterTable('rooms_events', (t) => {
      t.dropColumn('outlier');
    });
  },
};
