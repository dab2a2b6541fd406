/* eslint-disable @typescript-eslint/no-unnecessary-type-assertion -- knex rows are typed by assertion here, at the store boundary */
/** `federation_inbound_txns`: the answer given to each (origin, txn id), for retried transactions. */
import type { Knex } from 'knex';

export class InboundTxnStore {
  constructor(private readonly deps: { readonly db: Knex }) {}

  /** The answer given to (origin, txnId) before, if any. */
  async get(origin: string, txnId: string): Promise<unknown> {
    const row = (await this.deps
      .db('federation_inbound_txns')
      .where({ origin, txn_id: txnId })
      .first('response_json')) as { response_json: string } | undefined;
    return row ? (JSON.parse(row.response_json) as unknown) : undefined;
  }

  /** Forgets the answers to transactions received before `ts` (ms since the epoch); how many went. */
  async deleteReceivedBefore(ts: number): Promise<number> {
    return this.deps.db('federation_inbound_txns').where('received_ts', '<', ts).delete();
  }

  /** Records the answer; a concurrent second record of the same transaction is ignored. */
  async put(origin: string, txnId: string, response: unknown): Promise<void> {
    await this.deps
      .db('federation_inbound_txns')
      .insert({ origin, txn_id: txnId, response_json: JSON.stringify(response), received_ts: Date.now() })
      .onConflict(['origin', 'txn_id'])
      .ignore();
  }
}
