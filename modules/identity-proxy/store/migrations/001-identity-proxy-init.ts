import type { Migration } from '../../../../core/define-module.js';

/**
 * identity_proxy_validation_sessions: one per (medium, address, client_secret, purpose), Synapse's
 * threepid_validation_session and _token in one row (a session has one live token at a time).
 * identity_proxy_user_threepids: the 3PIDs bound to local accounts; (medium, address) is the primary key,
 * so an address can never belong to two accounts.
 * identity_proxy_mail_queue: mail waiting to be sent, retried with backoff until it goes or gives up.
 */
export const identityProxyInit: Migration = {
  name: '001-identity-proxy-init',
  async up(knex) {
    await knex.schema.createTable('identity_proxy_validation_sessions', (t) => {
      t.string('session_id', 64).primary();
      t.string('purpose', 32).notNullable();
      t.string('medium', 16).notNullable();
      t.string('address', 512).notNullable();
      t.string('client_secret', 255).notNullable();
      t.integer('last_send_attempt').notNullable();
      // SHA-256 of the token mailed to the user; null once used.
      t.string('token_hash', 64).nullable();
      t.bigInteger('token_expires_ts').nullable();
      t.text('next_link').nullable();
      t.bigInteger('validated_at').nullable();
      t.bigInteger('created_ts').notNullable();
      t.unique(['medium', 'address', 'client_secret', 'purpose'], {
        indexName: 'identity_proxy_validation_sessions_key',
      });
      t.index(['created_ts'], 'identity_proxy_validation_sessions_created');
    });
    await knex.schema.createTable('identity_proxy_user_threepids', (t) => {
      t.string('medium', 16).notNullable();
      t.string('address', 512).notNullable();
      t.string('user_id', 255).notNullable();
      t.bigInteger('validated_at').notNullable();
      t.bigInteger('added_at').notNullable();
      t.primary(['medium', 'address']);
      t.index(['user_id'], 'identity_proxy_user_threepids_user');
    });
    await knex.schema.createTable('identity_proxy_mail_queue', (t) => {
      t.increments('id').primary();
      t.text('recipient').notNullable();
      t.text('subject').notNullable();
      t.text('text_body').notNullable();
      t.text('html_body').notNullable();
      t.integer('attempts').notNullable().defaultTo(0);
      t.bigInteger('next_attempt_ts').notNullable();
      t.bigInteger('created_ts').notNullable();
      t.text('last_error').nullable();
      t.index(['next_attempt_ts'], 'identity_proxy_mail_queue_due');
    });
  },
  async down(knex) {
    await knex.schema.dropTableIfExists('identity_proxy_mail_queue');
    await knex.schema.dropTableIfExists('identity_proxy_user_threepids');
    await knex.schema.dropTableIfExists('identity_proxy_validation_sessions');
  },
};
