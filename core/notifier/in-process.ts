import type { ChangeListener, Notifier, StreamChange, WakeInterest } from './notifier.js';

/**
 * Waiters are indexed by user and by room, so a message wakes only the long-polls that care about it
 * instead of every open sync.
 */
export class InProcessNotifier implements Notifier {
  private readonly byUser = new Map<string, Set<ChangeListener>>();
  private readonly byRoom = new Map<string, Set<ChangeListener>>();
  private readonly everything = new Set<ChangeListener>();
  private readonly latest = new Map<string, number>();

  publish(change: StreamChange): void {
    if (change.position > (this.latest.get(change.stream) ?? -Infinity))
      this.latest.set(change.stream, change.position);
    const woken = new Set<ChangeListener>(this.everything);
    for (const u of change.userIds ?? []) for (const l of this.byUser.get(u) ?? []) woken.add(l);
    for (const r of change.roomIds ?? []) for (const l of this.byRoom.get(r) ?? []) woken.add(l);
    for (const listener of woken) listener(change);
  }

  subscribe(interest: WakeInterest, listener: ChangeListener): () => void {
    if (interest.all) this.everything.add(listener);
    for (const u of interest.userIds ?? []) add(this.byUser, u, listener);
    for (const r of interest.roomIds ?? []) add(this.byRoom, r, listener);
    return () => {
      this.everything.delete(listener);
      for (const u of interest.userIds ?? []) remove(this.byUser, u, listener);
      for (const r of interest.roomIds ?? []) remove(this.byRoom, r, listener);
    };
  }

  latestPosition(stream: string): number | undefined {
    return this.latest.get(stream);
  }

  waitFor(
    interest: WakeInterest,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<StreamChange | undefined> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve(undefined);
      const finish = (change: StreamChange | undefined): void => {
        clearTimeout(timer);
        unsubscribe();
        signal?.removeEventListener('abort', onAbort);
        resolve(change);
      };
      const onAbort = (): void => finish(undefined);
      const unsubscribe = this.subscribe(interest, finish);
      const timer = setTimeout(finish, Math.max(0, timeoutMs), undefined);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

function add(index: Map<string, Set<ChangeListener>>, key: string, l: ChangeListener): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(l);
}

function remove(index: Map<string, Set<ChangeListener>>, key: string, l: ChangeListener): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(l);
  if (set.size === 0) index.delete(key);
}
