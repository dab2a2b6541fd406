import t from 'tap';
import {
  crossSigningPublicKey,
  hasValidSignature,
  sameSignedContent,
  withSignatures,
} from '../../../../../modules/e2ee/services/signed-json.js';
import { ed25519Key, sign } from '../../../../integration/modules/e2ee/e2ee-fixtures.js';

void t.test('a signature verifies only for its signer, key id and content', async (t) => {
  const key = ed25519Key('DEV');
  const obj = sign({ user_id: '@a:x', keys: { k: 'v' } }, '@a:x', key);
  t.ok(hasValidSignature(obj, '@a:x', 'ed25519:DEV', key.publicKeyB64));
  t.notOk(hasValidSignature(obj, '@b:x', 'ed25519:DEV', key.publicKeyB64), 'other signer');
  t.notOk(
    hasValidSignature({ ...obj, extra: 1 }, '@a:x', 'ed25519:DEV', key.publicKeyB64),
    'changed content',
  );
  t.notOk(hasValidSignature(obj, '@a:x', 'ed25519:DEV', ed25519Key().publicKeyB64), 'other key');
  t.notOk(hasValidSignature(obj, '@a:x', 'ed25519:DEV', '!!!'), 'bad base64');
  t.ok(
    hasValidSignature({ ...obj, unsigned: { x: 1 } }, '@a:x', 'ed25519:DEV', key.publicKeyB64),
    'unsigned is not covered',
  );
});

void t.test('sameSignedContent ignores signatures and unsigned only', async (t) => {
  t.ok(sameSignedContent({ a: 1, signatures: { x: {} } }, { a: 1, unsigned: { y: 2 } }));
  t.notOk(sameSignedContent({ a: 1 }, { a: 2 }));
});

void t.test('a cross-signing key has exactly one ed25519 key named by itself', async (t) => {
  t.equal(crossSigningPublicKey({ keys: { 'ed25519:abc': 'abc' } }), 'abc');
  t.equal(crossSigningPublicKey({ keys: { 'ed25519:abc': 'abd' } }), undefined);
  t.equal(crossSigningPublicKey({ keys: { 'ed25519:a': 'a', 'ed25519:b': 'b' } }), undefined);
  t.equal(crossSigningPublicKey({}), undefined);
});

void t.test('withSignatures merges without dropping existing signatures', async (t) => {
  const merged = withSignatures({ signatures: { '@a:x': { 'ed25519:A': 's1' } } }, [
    { signer: '@a:x', keyId: 'ed25519:B', signature: 's2' },
    { signer: '@b:x', keyId: 'ed25519:C', signature: 's3' },
  ]);
  t.same(merged['signatures'], {
    '@a:x': { 'ed25519:A': 's1', 'ed25519:B': 's2' },
    '@b:x': { 'ed25519:C': 's3' },
  });
});
