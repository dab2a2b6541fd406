/** Reading `prev_events`/`auth_events`, which are plain ids from v3 and `[id, hashes]` pairs in v1–2. */

/** The id an event reference points at. */
export function referenceId(ref: unknown): string | undefined {
  if (typeof ref === 'string') return ref;
  if (Array.isArray(ref) && typeof ref[0] === 'string') return ref[0];
  return undefined;
}

/** The event ids of a reference list, tolerating either shape. */
export function referenceIds(refs: unknown): string[] {
  if (!Array.isArray(refs)) return [];
  const ids: string[] = [];
  for (const r of refs) {
    const id = referenceId(r);
    if (id !== undefined) ids.push(id);
  }
  return ids;
}
