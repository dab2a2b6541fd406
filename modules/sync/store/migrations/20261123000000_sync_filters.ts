/** Filters uploaded through POST /user/{userId}/filter. */
import type { Knex } from 'knex';
import type { Migration } from '../../../../core/define-module.js';

export const syncFiltersMigration: Migration = {
  name: '20261123000000_sync_filters',
  async up(knex: Knex) {
    await knex.schema.createTable('sync_filters', (t) => {
      t.bigIncrements('id').comment('The filter id handed to the client (as a string)');
      t.string('user_id').notNullable().comment('Owner: only they may read or use it');
      t.text('filter_json').notNullable().comment('The filter as uploaded, JSON text');
      t.index(['user_id'], 'sync_filters_user');
    });
  },
  async down(knex: Knex) {
    await knex.schema.dropTableIfExists('sync_filters');
  },
};
