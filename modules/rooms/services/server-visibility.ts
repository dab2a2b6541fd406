/**
 * History visibility for another server (server-server-api "Retrieving events" and client-server-api
 * history_visibility "Server behaviour"), judged as Synapse's `filter_events_for_server` does, by the room
 * state after each event:
 * - `world_readable` and `shared`: visible (the endpoints already require the server to be in the room);
 * - `invited`: visible when one of the server's users is joined or invited at the event;
 * - `joined`: visible when one of the server's users is joined at the event.
 * An event the server may not see is served in its redacted form (the federation format keeps its place in
 * the DAG, and the signatures still verify).
 */
import type { PduJson } from '../../../core/protocol/pdu.js';
import { redactEvent } from '../../../core/protocol/redaction.js';
import type { RoomVersion } from '../../../core/protocol/room-versions.js';
import type { StoredEvent } from '../store/event-rows.js';
import type { EventStore } from '../store/event-store.js';
import type { StateStore } from '../store/state-store.js';

/** What decides visibility for one server at one point of the room. */
export interface ServerViewAt {
  /** `m.room.history_visibility` (absent or unknown: `shared`). */
  readonly visibility: string;
  /** The memberships of the server's users at that point. */
  readonly memberships: readonly string[];
}

/** The rule itself, pure: whether a server with `view` may see an event at that point. */
export function serverMaySee(view: ServerViewAt): boolean {
  if (view.visibility !== 'invited' && view.visibility !== 'joined') return true;
  if (view.memberships.includes('join')) return true;
  return view.visibility === 'invited' && view.memberships.includes('invite');
}

function visibilityOf(v: unknown): string {
  return typeof v === 'string' ? v : 'shared';
}

/** The server part of a user id (`@u:host:port` → `host:port`). */
function serverOfUser(userId: string): string {
  return userId.slice(userId.indexOf(':') + 1);
}

export class ServerVisibility {
  constructor(
    private readonly eventStore: EventStore,
    private readonly stateStore: StateStore,
  ) {}

  /** Which of `events` `server` may see (by event id); one state read per distinct state group. */
  async visibleIds(server: string, events: readonly StoredEvent[]): Promise<Set<string>> {
    const views = new Map<number, Promise<ServerViewAt>>();
    const visible = new Set<string>();
    for (const e of events) {
      // An outlier has no state of ours: judged by the default setting (shared), as Synapse does.
      if (e.stateGroup === null) {
        visible.add(e.eventId);
        continue;
      }
      let view = views.get(e.stateGroup);
      if (!view) {
        view = this.viewAt(server, e.stateGroup);
        views.set(e.stateGroup, view);
      }
      const at = await view;
      // The state after a visibility change holds the new setting; the change is also visible under the
      // one it replaced (the more permissive wins, as for clients).
      const before =
        e.type === 'm.room.history_visibility' && e.stateKey === ''
          ? { ...at, visibility: visibilityOf(e.unsigned?.prev_content?.['history_visibility']) }
          : at;
      if (serverMaySee(at) || serverMaySee(before)) visible.add(e.eventId);
    }
    return visible;
  }

  /** `events` in the federation format for `server`: the ones it may not see redacted. Order kept. */
  async forServer(server: string, events: readonly StoredEvent[], version: RoomVersion): Promise<PduJson[]> {
    const visible = await this.visibleIds(server, events);
    return events.map((e) => (visible.has(e.eventId) ? e.pdu : redactEvent(e.pdu, version)));
  }

  private async viewAt(server: string, group: number): Promise<ServerViewAt> {
    const state = await this.stateStore.stateOfGroup(group);
    const wanted: string[] = [];
    let visibilityId: string | undefined;
    for (const [key, id] of state) {
      if (key === 'm.room.history_visibility\u0000') visibilityId = id;
      else if (key.startsWith('m.room.member\u0000') && serverOfUser(key.slice(14)) === server)
        wanted.push(id);
    }
    const events = await this.eventStore.getEvents(visibilityId ? [...wanted, visibilityId] : wanted);
    const memberships: string[] = [];
    for (const id of wanted) {
      const m = events.get(id)?.membership;
      if (m) memberships.push(m);
    }
    const v =
      visibilityId === undefined ? undefined : events.get(visibilityId)?.pdu.content['history_visibility'];
    return { visibility: typeof v === 'string' ? v : 'shared', memberships };
  }
}
