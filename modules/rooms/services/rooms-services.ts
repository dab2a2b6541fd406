/**
 * Wires the rooms services together once per server: one store, one head cache and room lock, one
 * sender. Registered in the container as `roomsServices`; routes and `roomsApi` use it.
 */
import type { Cradle } from '../../../core/container.js';
import { RoomStore } from '../store/room-store.js';
import { EventSender } from './event-sender.js';
import { HistoryVisibility } from './history-visibility.js';
import { RoomHooks } from './hooks.js';
import { MembershipService } from './membership-service.js';
import { RoomCreationService } from './room-creation-service.js';
import { RoomEventsService } from './room-events-service.js';
import { RoomHeads } from './room-heads.js';
import { RoomReader } from './room-reader.js';
import { TimelineService } from './timeline-service.js';
import { UpgradeService } from './upgrade-service.js';

export interface RoomsServices {
  readonly store: RoomStore;
  readonly heads: RoomHeads;
  readonly sender: EventSender;
  readonly reader: RoomReader;
  readonly visibility: HistoryVisibility;
  readonly hooks: RoomHooks;
  readonly membership: MembershipService;
  readonly creation: RoomCreationService;
  readonly events: RoomEventsService;
  readonly timeline: TimelineService;
  readonly upgrade: UpgradeService;
}

export type RoomsDeps = Pick<
  Cradle,
  'db' | 'serverName' | 'signingKey' | 'notifier' | 'spamCheckers' | 'logger'
>;

export function createRoomsServices(deps: RoomsDeps, options: { defaultRoomVersion: string }): RoomsServices {
  const store = new RoomStore(deps);
  const heads = new RoomHeads(store);
  const sender = new EventSender(deps, store, heads);
  const visibility = new HistoryVisibility(store, heads);
  const reader = new RoomReader(store, heads, visibility);
  const hooks = new RoomHooks();
  const membership = new MembershipService(deps, store, sender, reader, hooks);
  const creation = new RoomCreationService(deps, sender, membership, hooks, options.defaultRoomVersion);
  const events = new RoomEventsService(deps, store, sender, reader, hooks);
  const timeline = new TimelineService(store, reader, visibility);
  const upgrade = new UpgradeService(sender, reader, creation, membership);
  return { store, heads, sender, reader, visibility, hooks, membership, creation, events, timeline, upgrade };
}
