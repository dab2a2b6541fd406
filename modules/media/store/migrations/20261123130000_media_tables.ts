import type { Migration } from '../../../../core/define-module.js';

/**
 * media_items: one row per known media item, local (origin = our server name) or a cached remote one.
 * media_thumbnails: generated thumbnails, keyed by the size and method they were made for.
 * Bytes live in the storage backend under `content_hash`; several rows may share one blob.
 */
export const createMediaTables: Migration = {
  name: '20261123130000_media_tables',
  formerNames: ['001-media-tables'],
  async up(knex) {
    await knex.schema.createTable('media_items', (t) => {
      t.string('origin', 255).notNullable();
      t.string('media_id', 255).notNullable();
      t.primary(['origin', 'media_id']);
      t.string('media_type', 255).nullable(); // null until an async upload arrives
      t.bigInteger('media_length').nullable();
      t.text('upload_name').nullable();
      t.string('user_id', 255).nullable();
      t.string('content_hash', 64).nullable();
      t.bigInteger('created_ts').notNullable();
      t.bigInteger('last_access_ts').notNullable();
      t.bigInteger('unused_expires_at').nullable();
      t.string('quarantined_by', 255).nullable();
      // Uploaded while enable_authenticated_media was on: never served by the legacy endpoints.
      t.boolean('authenticated').notNullable().defaultTo(false);
      t.index(['content_hash'], 'media_items_content_hash');
      t.index(['user_id', 'created_ts'], 'media_items_user_created');
      t.index(['last_access_ts'], 'media_items_last_access');
    });
    await knex.schema.createTable('media_thumbnails', (t) => {
      t.string('origin', 255).notNullable();
      t.string('media_id', 255).notNullable();
      t.integer('width').notNullable();
      t.integer('height').notNullable();
      t.string('method', 16).notNullable();
      t.boolean('animated').notNullable();
      t.string('media_type', 64).notNullable();
      t.string('content_hash', 64).notNullable();
      t.bigInteger('media_length').notNullable();
      t.bigInteger('created_ts').notNullable();
      t.unique(['origin', 'media_id', 'width', 'height', 'method', 'animated'], {
        indexName: 'media_thumbnails_key',
      });
      t.index(['content_hash'], 'media_thumbnails_content_hash');
      t.foreign(['origin', 'media_id'])
        .references(['origin', 'media_id'])
        .inTable('media_items')
        .onDelete('CASCADE');
    });
  },
  async down(knex) {
    await knex.schema.dropTableIfExists('media_thumbnails');
    await knex.schema.dropTableIfExists('media_items');
  },
};

export const mediaMigrations: readonly Migration[] = [createMediaTables];
