/** Other servers' signing keys (the key cache, which notary queries also serve) and our own retired keys. */
import type { Knex } from 'knex';
import type { Migration } from '../../../../core/define-module.js';

export const federationKeysMigration: Migration = {
  name: '20261207120000_federation_keys',
  async up(knex: Knex) {
    await knex.schema.createTable('federation_server_keys', (t) => {
      t.string('server_name').notNullable().comment('The server the key belongs to');
      t.string('key_id').notNullable().comment('ed25519:<version>');
      t.string('verify_key').notNullable().comment('Unpadded base64 of the ed25519 public key');
      t.bigInteger('valid_until_ts')
        .notNullable()
        .comment(
          'Last ms timestamp the key may be used at: valid_until_ts (at most 7 days after fetching) or expired_ts for old keys',
        );
      t.boolean('expired').notNullable().comment('True when the server listed it under old_verify_keys');
      t.string('fetched_from')
        .notNullable()
        .comment('The server that answered: the owner itself or a notary');
      t.bigInteger('fetched_ts').notNullable().comment('When it was fetched (ms since the epoch)');
      t.primary(['server_name', 'key_id']);
    });
    await knex.schema.createTable('federation_server_key_json', (t) => {
      t.string('server_name').notNullable().comment('The server whose key response this is');
      t.string('key_id').notNullable().comment('A key the response lists (one row per key it lists)');
      t.bigInteger('valid_until_ts')
        .notNullable()
        .comment('The response valid_until_ts, as the server gave it');
      t.text('key_json')
        .notNullable()
        .comment("The server's own signed /key/v2/server response, as received");
      t.primary(['server_name', 'key_id']);
    });
    await knex.schema.createTable('federation_old_signing_keys', (t) => {
      t.string('key_id').primary().comment('A signing key this server used before (ed25519:<version>)');
      t.string('verify_key').notNullable().comment('Unpadded base64 of its public key');
      t.bigInteger('expired_ts')
        .notNullable()
        .comment('When this server stopped using it (ms since the epoch)');
    });
  },
  async down(knex: Knex) {
    await knex.schema.dropTableIfExists('federation_old_signing_keys');
    await knex.schema.dropTableIfExists('federation_server_key_json');
    await knex.schema.dropTableIfExists('federation_server_keys');
  },
};
