/**
 * Inbound `PUT /_matrix/federation/v1/send/{txnId}` of N chained message PDUs in one existing room (the
 * issue's target: 50 PDUs in ≤ 100 ms). Two Axon kernels in this process, as the federation integration
 * tests run them (tests/integration/modules/federation/test-federation.ts: HTTPS from a test CA on
 * loopback, server names `localhost:PORT`): A hosts the room, this script plays B — its user joined through
 * make_join/send_join, events built on A's head and signed with B's real key, each transaction a signed
 * request from B's federation client. A has B's keys cached after the warm-up. Reports per transaction the
 * time from the request to the answer (all PDUs checked and committed), min / p50 / max.
 *
 *   npx tsx scripts/bench/inbound-send-bench.ts [--runs 20] [--pdus 50] [--engine sqlite|pg]
 */
import { parseArgs } from 'node:util';
import type { Test } from 'tap';
import type { PduJson } from '../../core/protocol/pdu.js';
import { makeUser, openRegistrationConfig } from '../../tests/helpers/fixtures.js';
import { freshDatabase, type EngineName } from '../../tests/helpers/with-all-databases.js';
import { headAt, joinFrom, remoteEvent } from '../../tests/integration/modules/federation/remote-events.js';
import {
  makeTestCa,
  startFederatedServer,
  type FederatedServer,
} from '../../tests/integration/modules/federation/test-federation.js';
import { percentile } from './lib.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    pdus: { type: 'string', default: '50' },
    engine: { type: 'string', default: 'sqlite' },
  },
});
const RUNS = Number(args.runs);
const PDUS = Number(args.pdus);

// The helpers clean up through a tap test's teardown; here, at the end of the script.
const cleanups: (() => unknown)[] = [];
const scope = { teardown: (fn: () => unknown) => void cleanups.push(fn) } as unknown as Test;

let txn = 0;
async function send(a: FederatedServer, b: FederatedServer, pdus: PduJson[]): Promise<number> {
  const started = performance.now();
  const answer = (await b.kernel.container.cradle.federationClient.request({
    method: 'PUT',
    destination: a.serverName,
    path: `/_matrix/federation/v1/send/bench${++txn}`,
    body: { origin: b.serverName, origin_server_ts: Date.now(), pdus },
  })) as { pdus: Record<string, { error?: string }> };
  const elapsed = performance.now() - started;
  const errors = Object.values(answer.pdus).filter((r) => r.error !== undefined);
  if (errors.length > 0) throw new Error(`refused PDUs: ${JSON.stringify(errors[0])}`);
  return elapsed;
}

try {
  const ca = await makeTestCa(scope);
  const database = await freshDatabase(scope, args.engine as EngineName);
  const a = await startFederatedServer(
    scope,
    ca,
    { ...openRegistrationConfig, log_level: 'warn' },
    'localhost',
    { database },
  );
  const b = await startFederatedServer(scope, ca);
  const alice = await makeUser(a, { localpart: 'alice' });
  const created = await a.request('POST', '/_matrix/client/v3/createRoom', {
    token: alice.accessToken,
    body: { preset: 'public_chat' },
  });
  const roomId = created.body.room_id as string;
  const bob = `@bob:${b.serverName}`;
  await joinFrom(a, b, roomId, bob);

  const chain = async (n: number): Promise<PduJson[]> => {
    const base = await headAt(a, roomId);
    const pdus: PduJson[] = [];
    let prev = base.prevEvents;
    for (let i = 0; i < n; i++) {
      const e = await remoteEvent(
        a,
        b,
        roomId,
        { sender: bob, type: 'm.room.message', content: { msgtype: 'm.text', body: `bench ${txn} ${i}` } },
        { ...base, prevEvents: prev, depth: base.depth + i },
      );
      pdus.push(e.pdu);
      prev = [e.eventId];
    }
    return pdus;
  };
  await send(a, b, await chain(PDUS)); // warm-up: keys fetched and cached, statements prepared

  const times: number[] = [];
  for (let r = 0; r < RUNS; r++) times.push(await send(a, b, await chain(PDUS)));
  const fmt = (n: number): string => `${n.toFixed(1)} ms`;
  console.log(
    `inbound /send, ${PDUS} chained message PDUs in one room, ${args.engine}, ${RUNS} runs (node ${process.version}): ` +
      `min ${fmt(Math.min(...times))}, p50 ${fmt(percentile(times, 50))}, max ${fmt(Math.max(...times))}`,
  );
} finally {
  for (const fn of cleanups.reverse()) await fn();
}
