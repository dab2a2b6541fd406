/**
 * Server ACLs (`m.room.server_acl`, client-server spec "Server Access Control Lists"): whether a server may
 * take part in a room. Names are compared without their port; `*` and `?` are wildcards.
 */
import { parseServerName } from '../../../core/protocol/identifiers.js';

/** True when the ACL `content` lets `serverName` in (no ACL: everyone). */
export function isServerAllowedByAcl(serverName: string, content: unknown): boolean {
  if (typeof content !== 'object' || content === null) return true;
  const acl = content as Record<string, unknown>;
  const parsed = parseServerName(serverName);
  const host = (parsed?.host ?? serverName).toLowerCase();
  const isIpLiteral = host.startsWith('[') || /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
  if (acl['allow_ip_literals'] === false && isIpLiteral) return false;
  if (globs(acl['deny']).some((g) => g.test(host))) return false;
  return globs(acl['allow']).some((g) => g.test(host));
}

function globs(list: unknown): RegExp[] {
  if (!Array.isArray(list)) return [];
  return list
    .filter((g): g is string => typeof g === 'string')
    .map(
      (g) =>
        new RegExp(
          '^' +
            g
              .toLowerCase()
              .replace(/[.+^${}()|[\]\\]/g, '\\$&')
              .replace(/\*/g, '.*')
              .replace(/\?/g, '.') +
            '$',
        ),
    );
}
