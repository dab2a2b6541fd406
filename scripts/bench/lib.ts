/** What the benchmark scripts share. */
import { randomBytes } from 'node:crypto';
import knexFactory from 'knex';
import { databaseFromUrl } from '../../core/config/generate.js';
import type { DatabaseConfig } from '../../core/config/schema.js';

/**
 * A fresh PostgreSQL schema at `url` for one benchmark run, dropped by `drop()`; undefined (with the reason
 * printed) when no server answers.
 */
export async function benchPgDatabase(
  url: string,
): Promise<{ database: DatabaseConfig; drop: () => Promise<void> } | undefined> {
  const base = databaseFromUrl(url) as DatabaseConfig;
  const schema = `axon_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = knexFactory({
    client: 'pg',
    connection: { ...base.args, connectionTimeoutMillis: 2000 },
    pool: { min: 0, max: 1 },
  });
  try {
    await admin.raw('select 1');
  } catch (err) {
    console.log(`PostgreSQL not reachable at ${url} (${(err as Error).message}): skipping pg`);
    await admin.destroy();
    return undefined;
  }
  return {
    database: { name: 'pg', args: { ...base.args, schema } },
    drop: async () => {
      await admin.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
      await admin.destroy();
    },
  };
}
