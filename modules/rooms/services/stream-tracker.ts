/**
 * Which stream position is safe to read up to. On PostgreSQL, transactions of different rooms run at once
 * and may commit out of stream order: a reader that took the highest committed stream ordering could skip
 * a lower one that commits a moment later, and a sync would miss that event forever. Writers therefore
 * reserve their stream ordering (`nextval`) before inserting and register it here until they commit or
 * roll back; the safe position stays below every reservation still in flight. (Across processes this
 * needs a shared table of positions, as Synapse keeps; one process is covered.) SQLite has one writer,
 * so commit order is stream order there and nothing is reserved.
 */
export class StreamTracker {
  private readonly inFlight = new Set<number>();
  private pending = 0;
  private lastSafe = 0;
  /** The highest stream ordering known committed: read from the database once, then advanced by commits. */
  private committedMax: number | undefined;

  /** The highest stream ordering known committed, if it has been read yet. */
  knownMax(): number | undefined {
    return this.committedMax;
  }

  /** An event at `n` committed (called after COMMIT, before it is announced). */
  committed(n: number): void {
    if (this.committedMax !== undefined && n > this.committedMax) this.committedMax = n;
  }

  /**
   * The safe position without a query when the committed maximum is known; `readMax` (the database's
   * maximum) is asked the first time, and whenever the caller wants to see other processes' commits.
   */
  async current(readMax: () => Promise<number>, fresh = false): Promise<number> {
    if (this.committedMax === undefined || fresh) {
      const max = await readMax();
      this.committedMax = Math.max(this.committedMax ?? 0, max);
    }
    return this.safePosition(this.committedMax);
  }

  /** Runs `reserve` (which obtains a stream ordering) and registers the result as in flight. */
  async reserve(reserve: () => Promise<number>): Promise<number> {
    this.pending++;
    try {
      const n = await reserve();
      this.inFlight.add(n);
      return n;
    } finally {
      this.pending--;
    }
  }

  /** The reservation committed or rolled back. */
  release(n: number): void {
    this.inFlight.delete(n);
  }

  /** The highest position every event at or below which is committed, given the database's maximum. */
  safePosition(databaseMax: number): number {
    if (this.pending > 0) return this.lastSafe; // a reservation is being made: its number is not known yet
    let safe = databaseMax;
    for (const n of this.inFlight) safe = Math.min(safe, n - 1);
    this.lastSafe = Math.max(this.lastSafe, safe);
    return safe;
  }
}
