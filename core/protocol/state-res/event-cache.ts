/** A per-resolution cache in front of the loader, so each event is fetched at most once. */
import type { AuthEvent } from '../auth-rules/types.js';
import type { StateResLoader } from './types.js';

export class EventCache {
  private readonly events = new Map<string, AuthEvent>();
  private readonly absent = new Set<string>();

  constructor(private readonly loader: StateResLoader) {}

  /** Loads whichever of `ids` are not known yet, in one batch. */
  async load(ids: Iterable<string>): Promise<void> {
    const wanted: string[] = [];
    const queued = new Set<string>();
    for (const id of ids) {
      if (!this.events.has(id) && !this.absent.has(id) && !queued.has(id)) {
        queued.add(id);
        wanted.push(id);
      }
    }
    if (wanted.length === 0) return;
    const found = await this.loader.loadEvents(wanted);
    for (const id of wanted) {
      const e = found.get(id);
      if (e) this.events.set(id, e);
      else this.absent.add(id);
    }
  }

  /** The event if it has been loaded and exists. */
  get(id: string): AuthEvent | undefined {
    return this.events.get(id);
  }

  has(id: string): boolean {
    return this.events.has(id);
  }
}
