import t from 'tap';
import { isServerAllowedByAcl } from '../../../../modules/federation/services/server-acl.js';

void t.test('server ACLs (m.room.server_acl)', async (t) => {
  t.ok(isServerAllowedByAcl('a.example', undefined), 'no ACL: everyone');
  t.notOk(isServerAllowedByAcl('a.example', {}), 'no allow list: no one');
  const acl = { allow: ['*'], deny: ['*.evil.com', 'evil.com', 'b?d.org'] };
  t.ok(isServerAllowedByAcl('good.org:8448', acl));
  t.notOk(isServerAllowedByAcl('evil.com', acl));
  t.notOk(isServerAllowedByAcl('evil.com:8448', acl), 'the port is ignored');
  t.notOk(isServerAllowedByAcl('sub.evil.com', acl));
  t.notOk(isServerAllowedByAcl('bad.org', acl), '? matches one character');
  t.ok(isServerAllowedByAcl('baad.org', acl));
  t.notOk(isServerAllowedByAcl('EVIL.COM', acl), 'case-insensitive');
  t.ok(isServerAllowedByAcl('notevil.com', acl), 'globs match the whole name');
  t.ok(isServerAllowedByAcl('a.b', { allow: ['a.*'] }));
  t.notOk(isServerAllowedByAcl('ab', { allow: ['a.b'] }), 'dots are literal');
  t.ok(isServerAllowedByAcl('1.2.3.4:8448', { allow: ['*'] }), 'IP literals allowed by default');
  t.notOk(isServerAllowedByAcl('1.2.3.4', { allow: ['*'], allow_ip_literals: false }));
  t.notOk(isServerAllowedByAcl('[::1]:8448', { allow: ['*'], allow_ip_literals: false }));
  t.ok(isServerAllowedByAcl('a.example', { allow: ['*'], deny: 'not a list' }), 'bad deny: ignored');
});
