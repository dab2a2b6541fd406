/** The spec's ordering of a space's children (client-server-api modules/spaces.md "Ordering of children"). */

/** The fields of an m.space.child event the ordering reads. */
export interface SpaceChildLike {
  readonly state_key?: string;
  readonly origin_server_ts: number;
  readonly content: Readonly<Record<string, unknown>>;
}

/** A valid `order`: at most 50 characters, each between `\x20` and `\x7E`. */
export function validOrder(order: unknown): string | undefined {
  return typeof order === 'string' && order.length <= 50 && /^[\x20-\x7e]*$/.test(order) ? order : undefined;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Children with a valid `order` first, by it; then by timestamp; then by room id. */
export function compareSpaceChildren(a: SpaceChildLike, b: SpaceChildLike): number {
  const oa = validOrder(a.content['order']);
  const ob = validOrder(b.content['order']);
  if (oa !== undefined && ob !== undefined && oa !== ob) return compareStrings(oa, ob);
  if (oa !== undefined && ob === undefined) return -1;
  if (oa === undefined && ob !== undefined) return 1;
  if (a.origin_server_ts !== b.origin_server_ts) return a.origin_server_ts - b.origin_server_ts;
  return compareStrings(a.state_key ?? '', b.state_key ?? '');
}
