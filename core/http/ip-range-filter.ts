/**
 * Which IP addresses an outbound request may connect to — federation and identity servers
 * (`ip_range_blacklist` / `ip_range_whitelist`), URL previews (`url_preview_ip_range_*`), as in Synapse: blocked when inside the blacklist, or the unspecified addresses 0.0.0.0 and ::
 * (which Synapse always adds), unless inside the whitelist. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d)
 * are judged as the IPv4 address they carry.
 */
import { BlockList, isIP } from 'node:net';

/** Synapse's DEFAULT_IP_RANGE_BLACKLIST: loopback, private, link-local, CGNAT, documentation, multicast. */
export const DEFAULT_IP_RANGE_BLACKLIST: readonly string[] = [
  '127.0.0.0/8',
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  '192.0.0.0/24',
  '169.254.0.0/16',
  '192.88.99.0/24',
  '198.18.0.0/15',
  '192.0.2.0/24',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4',
  '::1/128',
  'fe80::/10',
  'fc00::/7',
  '2001:db8::/32',
  'ff00::/8',
  'fec0::/10',
];

export class IpRangeFilter {
  private readonly blocked = new BlockList();
  private readonly allowed = new BlockList();

  /** Throws an Error naming the entry when a range is not `address` or `address/prefix`. */
  constructor(blacklist: readonly string[], whitelist: readonly string[]) {
    for (const range of [...blacklist, '0.0.0.0/32', '::/128']) addRange(this.blocked, range);
    for (const range of whitelist) addRange(this.allowed, range);
  }

  isBlocked(address: string): boolean {
    const normalised = unmapIpv4(address);
    const family = isIP(normalised);
    if (family === 0) return true; // not an address at all: never connect
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (this.allowed.check(normalised, type)) return false;
    return this.blocked.check(normalised, type);
  }
}

function addRange(list: BlockList, range: string): void {
  const [rawAddress = '', prefix, ...rest] = range.trim().split('/');
  const address = unmapIpv4(rawAddress);
  const family = isIP(address);
  const bits = prefix === undefined ? (family === 4 ? 32 : 128) : Number(prefix);
  if (
    family === 0 ||
    rest.length > 0 ||
    (prefix !== undefined && !/^\d{1,3}$/.test(prefix)) ||
    bits > (family === 4 ? 32 : 128)
  ) {
    throw new Error(`"${range}" is not an IP address or CIDR range`);
  }
  list.addSubnet(address, bits, family === 4 ? 'ipv4' : 'ipv6');
}

function unmapIpv4(address: string): string {
  const match = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return match?.[1] ?? address;
}
