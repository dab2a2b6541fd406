/**
 * Stream positions and wake-ups. A module that persists something announces "stream X advanced to N for
 * rooms R / users U"; sync long-polls, the federation sender and push listen. The in-process implementation
 * can be swapped for one over PostgreSQL LISTEN/NOTIFY when several Axon processes share a database.
 */

export interface StreamChange {
  /** The stream's name, e.g. `events`, `typing`, `receipts`, `account_data`, `to_device`. */
  readonly stream: string;
  /** The new position of that stream, from the database. */
  readonly position: number;
  /** Rooms whose members should wake. */
  readonly roomIds?: readonly string[];
  /** Users who should wake regardless of rooms. */
  readonly userIds?: readonly string[];
}

export interface WakeInterest {
  readonly userIds?: readonly string[];
  readonly roomIds?: readonly string[];
  /** Wake on every change (federation sender, tests). */
  readonly all?: boolean;
}

export type ChangeListener = (change: StreamChange) => void;

export interface Notifier {
  publish(change: StreamChange): void;
  /** Calls `listener` for each change that names one of the users or rooms of `interest`. */
  subscribe(interest: WakeInterest, listener: ChangeListener): () => void;
  /**
   * Resolves with the first change matching `interest`, or `undefined` when `timeoutMs` passes or `signal`
   * aborts. Callers re-read the database after waking: the change is a hint, not the data.
   */
  waitFor(interest: WakeInterest, timeoutMs: number, signal?: AbortSignal): Promise<StreamChange | undefined>;
  /**
   * The highest position published on `stream` by this process, or undefined before its first publish. Lets a
   * reader skip the database for "where is stream X now" (changes by other processes are not seen here).
   */
  latestPosition(stream: string): number | undefined;
}
