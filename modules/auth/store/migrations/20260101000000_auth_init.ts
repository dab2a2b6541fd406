import type { Knex } from 'knex';
import type { Migration } from '../../../../core/define-module.js';

/** Accounts, devices, tokens, profiles, UIA sessions and registration tokens. */
export const authInit: Migration = {
  name: '20260101000000_auth_init',
  async up(knex: Knex) {
    await knex.schema.createTable('auth_users', (t) => {
      t.string('user_id', 255)
        .primary()
        .comment('Full user id; the row stays after deactivation so the id is never reused');
      t.text('password_hash')
        .nullable()
        .comment('Argon2id (or a bcrypt hash imported from Synapse); null: no password');
      t.boolean('admin').notNullable().defaultTo(false).comment('Server admin');
      t.boolean('is_guest').notNullable().defaultTo(false).comment('Guest account (kind=guest)');
      t.boolean('deactivated').notNullable().defaultTo(false).comment('Deactivated: cannot log in');
      t.boolean('shadow_banned')
        .notNullable()
        .defaultTo(false)
        .comment('Set by a SHADOW_BAN registration verdict');
      t.string('user_type', 64).nullable().comment("Synapse's user_type (e.g. bot, support)");
      t.bigInteger('creation_ts').notNullable().comment('Registration time, ms since the epoch');
    });
    await knex.schema.createTable('auth_devices', (t) => {
      t.string('user_id', 255)
        .notNullable()
        .references('user_id')
        .inTable('auth_users')
        .onDelete('CASCADE')
        .comment('Owner');
      t.string('device_id', 255).notNullable().comment('Device id, unique per user');
      t.text('display_name').nullable().comment('User-set display name');
      t.text('last_seen_ip').nullable().comment('IP of the last request (flushed in batches)');
      t.text('last_seen_user_agent').nullable().comment('User agent of the last request');
      t.bigInteger('last_seen_ts').nullable().comment('Time of the last request, ms');
      t.bigInteger('creation_ts').notNullable().comment('Creation time, ms');
      t.primary(['user_id', 'device_id']);
    });
    await knex.schema.createTable('auth_access_tokens', (t) => {
      t.bigIncrements('id').primary().comment('Token id (safe to log and to name in requesters)');
      t.string('token_hash', 64)
        .notNullable()
        .unique()
        .comment('sha256 of the token, hex; the token itself is never stored');
      t.string('user_id', 255).notNullable().index().comment('Owner');
      t.string('device_id', 255).nullable().comment('Device the token belongs to');
      t.bigInteger('valid_until_ms').nullable().comment('Expiry, ms; null: does not expire');
      t.bigInteger('refresh_token_id').nullable().comment('The refresh token minted with this token');
      t.boolean('used')
        .notNullable()
        .defaultTo(false)
        .comment('Used at least once (revokes the previous refresh token)');
      t.bigInteger('creation_ts').notNullable().comment('Creation time, ms');
      t.index(['user_id', 'device_id']);
    });
    await knex.schema.createTable('auth_refresh_tokens', (t) => {
      t.bigIncrements('id').primary().comment('Refresh token id');
      t.string('token_hash', 64).notNullable().unique().comment('sha256 of the token, hex');
      t.string('user_id', 255).notNullable().comment('Owner');
      t.string('device_id', 255).notNullable().comment('Device');
      t.bigInteger('next_token_id').nullable().comment('The refresh token this one was exchanged for');
      t.bigInteger('expiry_ts').nullable().comment('Expiry, ms; null: never');
      t.bigInteger('ultimate_session_expiry_ts').nullable().comment('session_lifetime bound, ms; null: none');
      t.bigInteger('creation_ts').notNullable().comment('Creation time, ms');
      t.index(['user_id', 'device_id']);
    });
    await knex.schema.createTable('auth_login_tokens', (t) => {
      t.string('token_hash', 64).primary().comment('sha256 of the m.login.token token, hex');
      t.string('user_id', 255).notNullable().comment('User the token logs in');
      t.bigInteger('expiry_ts').notNullable().comment('Expiry, ms');
      t.bigInteger('used_ts').nullable().comment('When it was used (single use)');
    });
    await knex.schema.createTable('auth_profiles', (t) => {
      t.string('user_id', 255).notNullable().comment('Local user');
      t.string('field', 255).notNullable().comment('Profile key (displayname, avatar_url, m.tz, custom)');
      t.text('value').notNullable().comment('The value as JSON text');
      t.primary(['user_id', 'field']);
    });
    await knex.schema.createTable('auth_uia_sessions', (t) => {
      t.string('session_id', 64).primary().comment('UIA session id given to the client');
      t.bigInteger('creation_ts').notNullable().comment('Creation time, ms (sessions expire)');
      t.text('uri').notNullable().comment('Request path the session was created for');
      t.string('method', 16).notNullable().comment('HTTP method the session was created for');
      t.text('description').notNullable().comment('What the session authorises (logged)');
      t.text('clientdict').notNullable().comment('Request body (minus auth and password), JSON');
      t.text('completed').notNullable().comment('Completed stages and their results, JSON object');
      t.text('serverdict')
        .notNullable()
        .comment('Server-side session data (e.g. password hash), JSON object');
    });
    await knex.schema.createTable('auth_registration_tokens', (t) => {
      t.string('token', 64).primary().comment('The registration token');
      t.integer('uses_allowed').nullable().comment('Uses allowed; null: unlimited');
      t.integer('pending').notNullable().defaultTo(0).comment('Registrations under way with this token');
      t.integer('completed').notNullable().defaultTo(0).comment('Registrations completed with this token');
      t.bigInteger('expiry_time').nullable().comment('Expiry, ms; null: never');
    });
  },
  async down(knex: Knex) {
    for (const table of [
      'auth_registration_tokens',
      'auth_uia_sessions',
      'auth_profiles',
      'auth_login_tokens',
      'auth_refresh_tokens',
      'auth_access_tokens',
      'auth_devices',
      'auth_users',
    ]) {
      await knex.schema.dropTableIfExists(table);
    }
  },
};
