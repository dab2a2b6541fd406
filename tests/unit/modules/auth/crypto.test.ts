import t from 'tap';
import { PasswordHasher } from '../../../../modules/auth/services/password-hasher.js';
import {
  crc32,
  generateDeviceId,
  generateToken,
  sha256Hex,
} from '../../../../modules/auth/services/tokens.js';
import { sharedSecretMac } from '../../../../modules/auth/services/registration-service.js';

void t.test('Argon2id hashes verify, wrong passwords do not', async (t) => {
  const hasher = new PasswordHasher();
  const hash = await hasher.hash('hunter2');
  t.match(hash, /^\$argon2id\$v=19\$m=65536,t=2,p=1\$/);
  t.equal(await hasher.verify('hunter2', hash), true);
  t.equal(await hasher.verify('hunter3', hash), false);
  t.not(await hasher.hash('hunter2'), hash, 'salted');
});

void t.test(
  'the configured cost is the cost of new hashes; old hashes verify at their own cost',
  async (t) => {
    const cheap = new PasswordHasher({ opslimit: 1, memlimit: 8192 });
    const hash = await cheap.hash('hunter2');
    t.match(hash, /^\$argon2id\$v=19\$m=8,t=1,p=1\$/);
    t.equal(await new PasswordHasher().verify('hunter2', hash), true);
    t.equal(await cheap.verify('hunter3', hash), false);
  },
);

void t.test('bcrypt hashes as Synapse writes them ($2b$) verify (OpenBSD test vector)', async (t) => {
  const hasher = new PasswordHasher();
  const vector = '$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW';
  t.equal(await hasher.verify('U*U', vector), true);
  t.equal(await hasher.verify('U*V', vector), false);
});

void t.test('unknown hash formats never verify', async (t) => {
  const hasher = new PasswordHasher();
  t.equal(await hasher.verify('x', 'plaintext'), false);
  t.equal(await hasher.verify('x', ''), false);
});

void t.test('access tokens look like Synapse tokens and carry a valid checksum', async (t) => {
  const token = generateToken('syt', 'alice');
  const match = /^syt_([A-Za-z0-9_-]+)_([A-Za-z0-9]{20})_([A-Za-z0-9]{6})$/.exec(token);
  t.ok(match, token);
  t.equal(Buffer.from(match![1]!, 'base64url').toString(), 'alice');
  t.not(generateToken('syt', 'alice'), token);
});

void t.test('crc32 matches the standard check value', async (t) => {
  t.equal(crc32('123456789'), 0xcbf43926);
});

void t.test('sha256Hex and device ids', async (t) => {
  t.equal(sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  t.match(generateDeviceId(), /^[A-Z]{10}$/);
});

void t.test(
  "the shared-secret MAC is Synapse's HMAC-SHA1 (vectors computed with Python's hmac)",
  async (t) => {
    t.equal(
      sharedSecretMac('secret', { nonce: 'abcdef', username: 'alice', password: 'pw', admin: true }),
      '27d92c551df71fa52ac0fea32e01186c13165765',
    );
    t.equal(
      sharedSecretMac('secret', {
        nonce: 'abcdef',
        username: 'bot',
        password: 'pw',
        admin: false,
        userType: 'bot',
      }),
      '79cd43dfd6364738aba6ed55a5c6172ce961e291',
    );
  },
);
