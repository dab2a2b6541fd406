/** Local room aliases: `#localpart:ourserver` → room id, with who created each (they may delete it). */
import type { Knex } from 'knex';
import type { Migration } from '../../../../core/define-module.js';

export const directoryAliasesMigration: Migration = {
  name: '20261123140000_directory_aliases',
  formerNames: ['001-directory-aliases'],
  async up(knex: Knex) {
    await knex.schema.createTable('directory_room_aliases', (t) => {
      t.string('room_alias').primary();
      t.string('room_id').notNullable().index();
      t.string('creator').notNullable();
      t.bigInteger('created_ts').notNullable();
    });
  },
  async down(knex: Knex) {
    await knex.schema.dropTableIfExists('directory_room_aliases');
  },
};

export const directoryMigrations: readonly Migration[] = [directoryAliasesMigration];
