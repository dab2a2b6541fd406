/** federation_domain_whitelist, as Synapse reads it: absent or null allows every server; a list only those. */
export class DomainPolicy {
  private readonly whitelist: ReadonlySet<string> | undefined;

  constructor(whitelist: readonly string[] | null | undefined) {
    this.whitelist = whitelist ? new Set(whitelist) : undefined;
  }

  isAllowed(serverName: string): boolean {
    return this.whitelist === undefined || this.whitelist.has(serverName);
  }
}
