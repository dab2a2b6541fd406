/**
 * Device keys, one-time and fallback keys, cross-signing keys and signatures, the device-list stream, and
 * server-side key backups.
 */
import type { Knex } from 'knex';
import type { Migration } from '../../../../core/define-module.js';

export const e2eeMigration: Migration = {
  name: '20261123000000_e2ee',
  async up(knex: Knex) {
    await knex.schema.createTable('e2ee_device_keys', (t) => {
      t.string('user_id').notNullable();
      t.string('device_id').notNullable();
      t.string('ed25519_key').notNullable().comment('The device signing key, to verify its other uploads');
      t.text('key_json').notNullable().comment('The signed device keys object as uploaded');
      t.primary(['user_id', 'device_id']);
    });
    await knex.schema.createTable('e2ee_one_time_keys', (t) => {
      t.string('user_id').notNullable();
      t.string('device_id').notNullable();
      t.string('algorithm').notNullable();
      t.string('key_id').notNullable();
      t.text('key_json').notNullable().comment('The key: a JSON string or a signed key object');
      t.bigInteger('uploaded_ts').notNullable().comment('Claims hand keys out oldest upload first');
      t.primary(['user_id', 'device_id', 'algorithm', 'key_id']);
      t.index(['user_id', 'device_id', 'algorithm', 'uploaded_ts'], 'e2ee_one_time_keys_claim_order');
    });
    await knex.schema.createTable('e2ee_fallback_keys', (t) => {
      t.string('user_id').notNullable();
      t.string('device_id').notNullable();
      t.string('algorithm').notNullable();
      t.string('key_id').notNullable();
      t.text('key_json').notNullable();
      t.boolean('used').notNullable().defaultTo(false).comment('Handed out by a claim since it was uploaded');
      t.primary(['user_id', 'device_id', 'algorithm']);
    });
    await knex.schema.createTable('e2ee_cross_signing_keys', (t) => {
      t.string('user_id').notNullable();
      t.string('key_type').notNullable().comment('master, self_signing or user_signing');
      t.string('public_key').notNullable().comment('Unpadded base64 ed25519 public key');
      t.text('key_json').notNullable().comment('The key object as uploaded');
      t.primary(['user_id', 'key_type']);
    });
    await knex.schema.createTable('e2ee_signatures', (t) => {
      t.string('signer_user_id').notNullable();
      t.string('signer_key_id').notNullable().comment('e.g. ed25519:<device id or public key>');
      t.string('target_user_id').notNullable();
      t.string('target_key_id').notNullable().comment('A device id, or a cross-signing public key');
      t.text('signature').notNullable();
      t.primary(['target_user_id', 'target_key_id', 'signer_user_id', 'signer_key_id']);
    });
    await knex.schema.createTable('e2ee_device_list_changes', (t) => {
      t.bigInteger('position').notNullable().comment('Position on the device_lists stream');
      t.string('kind')
        .notNullable()
        .comment("'device' (seen by users sharing a room), 'self' (the user only), 'join', 'leave'");
      t.string('user_id').notNullable().comment('Whose devices changed, or who joined or left');
      t.string('room_id').nullable().comment('For join/leave: the room');
      t.index(['user_id', 'position'], 'e2ee_device_list_changes_user');
      t.index(['room_id', 'position'], 'e2ee_device_list_changes_room');
    });
    await knex.schema.createTable('e2ee_device_list_stream', (t) => {
      t.integer('id').primary().comment('Always 1: a single-row counter');
      t.bigInteger('position').notNullable().comment('The newest position handed out');
    });
    await knex('e2ee_device_list_stream').insert({ id: 1, position: 0 });
    await knex.schema.createTable('e2ee_backup_versions', (t) => {
      t.string('user_id').notNullable();
      t.bigInteger('version').notNullable();
      t.string('algorithm').notNullable();
      t.text('auth_data').notNullable();
      t.bigInteger('etag').notNullable().defaultTo(0).comment('Bumped whenever the stored keys change');
      t.boolean('deleted').notNullable().defaultTo(false).comment('Kept so version numbers are never reused');
      t.primary(['user_id', 'version']);
    });
    await knex.schema.createTable('e2ee_backup_keys', (t) => {
      t.string('user_id').notNullable();
      t.bigInteger('version').notNullable();
      t.string('room_id').notNullable();
      t.string('session_id').notNullable();
      t.integer('first_message_index').notNullable();
      t.integer('forwarded_count').notNullable();
      t.boolean('is_verified').notNullable();
      t.text('session_data').notNullable();
      t.primary(['user_id', 'version', 'room_id', 'session_id']);
    });
  },
  async down(knex: Knex) {
    for (const table of [
      'e2ee_backup_keys',
      'e2ee_backup_versions',
      'e2ee_device_list_stream',
      'e2ee_device_list_changes',
      'e2ee_signatures',
      'e2ee_cross_signing_keys',
      'e2ee_fallback_keys',
      'e2ee_one_time_keys',
      'e2ee_device_keys',
    ])
      await knex.schema.dropTableIfExists(table);
  },
};
