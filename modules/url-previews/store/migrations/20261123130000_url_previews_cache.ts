import type { Migration } from '../../../../core/define-module.js';

/** url_previews_cache: one row per fetch of a URL, answered again until it expires. */
export const createUrlPreviewsCache: Migration = {
  name: '20261123130000_url_previews_cache',
  formerNames: ['001-url-previews-cache'],
  async up(knex) {
    await knex.schema.createTable('url_previews_cache', (t) => {
      t.increments('id').primary();
      // SHA-256 of the URL: indexable on both engines whatever the URL's length.
      t.string('url_hash', 64).notNullable();
      t.text('url').notNullable();
      t.bigInteger('download_ts').notNullable();
      t.bigInteger('expires_ts').notNullable();
      t.text('og').notNullable();
      t.index(['url_hash', 'download_ts'], 'url_previews_cache_url');
      t.index(['expires_ts'], 'url_previews_cache_expires');
    });
  },
  async down(knex) {
    await knex.schema.dropTableIfExists('url_previews_cache');
  },
};

export const urlPreviewMigrations: readonly Migration[] = [createUrlPreviewsCache];
