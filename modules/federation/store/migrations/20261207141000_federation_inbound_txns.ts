/** Inbound transactions already answered, so a retried `PUT /send/{txnId}` gets the same answer. */
import type { Knex } from 'knex';
import type { Migration } from '../../../../core/define-module.js';

export const federationInboundTxnsMigration: Migration = {
  name: '20261207141000_federation_inbound_txns',
  async up(knex: Knex) {
    await knex.schema.createTable('federation_inbound_txns', (t) => {
      t.string('origin').notNullable().comment('The server that sent the transaction');
      t.string('txn_id').notNullable().comment('Its transaction id');
      t.text('response_json').notNullable().comment('The answer we gave: {"pdus": {...}}');
      t.bigInteger('received_ts').notNullable().comment('When it was processed (ms since the epoch)');
      t.primary(['origin', 'txn_id']);
      t.index(['received_ts'], 'federation_inbound_txns_ts');
    });
  },
  async down(knex: Knex) {
    await knex.schema.dropTableIfExists('federation_inbound_txns');
  },
};
