import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import t, { type Test } from 'tap';
import { LocalFileBackend } from '../../../../../modules/media/backends/local-file-backend.js';
import { BlobTooLargeError } from '../../../../../modules/media/backends/storage-backend.js';

async function backend(t: Test): Promise<LocalFileBackend> {
  const dir = await mkdtemp(join(tmpdir(), 'axon-media-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return new LocalFileBackend(dir);
}

async function* chunks(...parts: string[]): AsyncIterable<Uint8Array> {
  for (const p of parts) yield Buffer.from(p);
}

async function text(stream: AsyncIterable<Uint8Array> | undefined): Promise<string> {
  const out: Uint8Array[] = [];
  for await (const c of stream ?? []) out.push(c);
  return Buffer.concat(out).toString();
}

void t.test('a blob is keyed by the SHA-256 of its content', async (t) => {
  const store = await backend(t);
  const result = await store.write(chunks('hello ', 'world'), { maxBytes: 100 });
  t.equal(result.key, createHash('sha256').update('hello world').digest('hex'));
  t.equal(result.size, 11);
  t.equal(await text(await store.read(result.key)), 'hello world');
  t.equal(await store.size(result.key), 11);
});

void t.test('identical content is stored once', async (t) => {
  const store = await backend(t);
  const a = await store.write(chunks('same'), { maxBytes: 100 });
  const b = await store.write(chunks('sa', 'me'), { maxBytes: 100 });
  t.equal(a.key, b.key);
  const [d1 = ''] = await readdir(join(store.root, 'content'));
  const [d2 = ''] = await readdir(join(store.root, 'content', d1));
  t.same(await readdir(join(store.root, 'content', d1, d2)), [a.key]);
  t.same(await readdir(join(store.root, 'tmp')), [], 'no temporary file left');
});

void t.test('too large: stops, throws, leaves nothing behind', async (t) => {
  const store = await backend(t);
  let pulled = 0;
  async function* endless(): AsyncIterable<Uint8Array> {
    for (;;) {
      pulled++;
      yield Buffer.alloc(1000);
    }
  }
  await t.rejects(store.write(endless(), { maxBytes: 2500 }), BlobTooLargeError);
  t.equal(pulled, 3, 'stopped reading at the first chunk past the limit');
  t.same(await readdir(join(store.root, 'tmp')), []);
});

void t.test('a failing source leaves nothing behind', async (t) => {
  const store = await backend(t);
  async function* failing(): AsyncIterable<Uint8Array> {
    yield Buffer.from('partial');
    throw new Error('client went away');
  }
  await t.rejects(store.write(failing(), { maxBytes: 100 }), /went away/);
  t.same(await readdir(join(store.root, 'tmp')), []);
});

void t.test('ranges, missing blobs and deletion', async (t) => {
  const store = await backend(t);
  const { key } = await store.write(chunks('0123456789'), { maxBytes: 100 });
  t.equal(await text(await store.read(key, { start: 2, end: 4 })), '234');
  await store.delete(key);
  t.equal(await store.read(key), undefined);
  t.equal(await store.size(key), undefined);
  await store.delete(key);
  t.throws(() => store.pathOf('../../etc/passwd'), /invalid blob key/);
});
