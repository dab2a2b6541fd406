/** The DNS the federation module uses (node:dns by default), behind an interface so tests inject answers. */
import { promises as dns } from 'node:dns';

export interface SrvAnswer {
  readonly name: string;
  readonly port: number;
  readonly priority: number;
  readonly weight: number;
}

export interface LookupAnswer {
  readonly address: string;
  readonly family: 4 | 6;
}

export interface DnsResolver {
  /** SRV records for `name`; empty when there are none (NXDOMAIN, no data, or a lookup failure). */
  resolveSrv(name: string): Promise<SrvAnswer[]>;
  /** The addresses of `host` (CNAME, AAAA and A records, as the system resolves them). */
  lookup(host: string): Promise<LookupAnswer[]>;
}

export const systemDns: DnsResolver = {
  async resolveSrv(name) {
    try {
      return await dns.resolveSrv(name);
    } catch {
      return [];
    }
  },
  async lookup(host) {
    const answers = await dns.lookup(host, { all: true, verbatim: true });
    return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
  },
};
