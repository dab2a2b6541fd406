import { aliasTo, asClass, asFunction, asValue } from 'awilix';
import { Type, type Static } from '@sinclair/typebox';
import type { Cradle } from '../../core/container.js';
import { defineModule } from '../../core/define-module.js';
import { DEFAULT_ROOM_VERSION } from '../../core/protocol/room-versions.js';
import type { RoomsApi, RoomsFederationApi, RoomsHookRegistry } from './api.js';
import { roomsRoutes } from './routes/rooms.routes.js';
import { LocalEventBuilder } from './services/event-builder.js';
import { EventPersister } from './services/event-persister.js';
import { EventSender } from './services/event-sender.js';
import { FederatedEventReceiver } from './services/federated-event-receiver.js';
import { FederationRoomReads } from './services/federation-room-reads.js';
import { HistoryVisibility } from './services/history-visibility.js';
import { RoomHooks } from './services/hooks.js';
import { MembershipService } from './services/membership-service.js';
import { RoomCreationService } from './services/room-creation-service.js';
import { RoomEventsService } from './services/room-events-service.js';
import { RelationsBundler } from './services/relations-bundler.js';
import { RoomHeads } from './services/room-heads.js';
import { RoomReader } from './services/room-reader.js';
import { RoomsApiImpl } from './services/rooms-api.js';
import { RoomsFederationApiImpl } from './services/rooms-federation-api.js';
import { StreamTracker } from './services/stream-tracker.js';
import { TimelineService } from './services/timeline-service.js';
import { UpgradeService } from './services/upgrade-service.js';
import { roomsDagMigration } from './store/migrations/20261123130000_rooms_dag.js';
import { membershipEventsIndexMigration } from './store/migrations/20261123160000_membership_events_index.js';
import { roomsSoftFailedEventsMigration } from './store/migrations/20261207140000_rooms_soft_failed_events.js';
import { SoftFailedStore } from './store/soft-failed-store.js';
import { EventStore } from './store/event-store.js';
import { MembershipStore } from './store/membership-store.js';
import { RoomStore } from './store/room-store.js';
import { StateStore } from './store/state-store.js';
import { TimelineStore } from './store/timeline-store.js';
import { TxnStore } from './store/txn-store.js';

export const roomsConfigSchema = Type.Object({
  /** The room version of new rooms (Synapse's `default_room_version`). */
  default_room_version: Type.String({ default: DEFAULT_ROOM_VERSION }),
});
export type RoomsConfig = Static<typeof roomsConfigSchema>;

declare module '../../core/container.js' {
  interface Cradle {
    roomsConfig: RoomsConfig;
    // store: one per table group (store/table-store.ts lists them)
    roomsRoomStore: RoomStore;
    roomsEventStore: EventStore;
    roomsTimelineStore: TimelineStore;
    roomsStateStore: StateStore;
    roomsMembershipStore: MembershipStore;
    roomsTxnStore: TxnStore;
    roomsSoftFailedStore: SoftFailedStore;
    // the send path: the head cache and room lock, stream positions, then queue → build → commit
    roomsHeads: RoomHeads;
    roomsStreams: StreamTracker;
    roomsSender: EventSender;
    roomsEventBuilder: LocalEventBuilder;
    /** The one commit step every event passes (local sends today, federation's receive pipeline next). */
    roomsEventPersister: EventPersister;
    // reads
    roomsVisibility: HistoryVisibility;
    roomsReader: RoomReader;
    /** Bundled aggregations (`unsigned['m.relations']`) of the events a client is served. */
    roomsRelations: RelationsBundler;
    roomsTimeline: TimelineService;
    // behaviour behind the routes
    roomsMembership: MembershipService;
    roomsCreation: RoomCreationService;
    roomsEvents: RoomEventsService;
    roomsUpgrade: UpgradeService;
    /** The hooks other modules registered, as the rooms services read them. */
    roomsHookLists: RoomHooks;
    /** What other modules may call (api.ts `RoomsApi`) and where they plug in (`RoomsHookRegistry`). */
    roomsApi: RoomsApi;
    roomsHooks: RoomsHookRegistry;
    /** The receive pipeline for events from other servers. */
    roomsFederatedReceiver: FederatedEventReceiver;
    /** What other servers are answered about rooms (make_join, state, events). */
    roomsFederationReads: FederationRoomReads;
    /** What the federation module calls (api.ts `RoomsFederationApi`). */
    roomsFederationApi: RoomsFederationApi;
  }
}

/** Rooms: the event DAG, creating rooms, membership, sending and reading events, redactions, upgrades. */
export default defineModule({
  name: 'rooms',
  description: 'Rooms: createRoom, membership, send/state/messages/context/relations/redact/upgrade',
  enabledByDefault: true,
  requires: ['auth'],
  config: roomsConfigSchema,
  migrations: [roomsDagMigration, membershipEventsIndexMigration, roomsSoftFailedEventsMigration],
  register({ container, config }) {
    container.register({
      roomsConfig: asValue(config),
      roomsRoomStore: asClass(RoomStore).singleton(),
      roomsEventStore: asClass(EventStore).singleton(),
      roomsTimelineStore: asClass(TimelineStore).singleton(),
      roomsStateStore: asClass(StateStore).singleton(),
      roomsMembershipStore: asClass(MembershipStore).singleton(),
      roomsTxnStore: asClass(TxnStore).singleton(),
      roomsSoftFailedStore: asClass(SoftFailedStore).singleton(),
      roomsHeads: asClass(RoomHeads).singleton(),
      roomsStreams: asClass(StreamTracker).singleton(),
      roomsHookLists: asClass(RoomHooks).singleton(),
      roomsHooks: aliasTo('roomsHookLists'),
      roomsSender: asClass(EventSender).singleton(),
      roomsEventBuilder: asClass(LocalEventBuilder).singleton(),
      roomsEventPersister: asClass(EventPersister).singleton(),
      roomsVisibility: asClass(HistoryVisibility).singleton(),
      roomsReader: asClass(RoomReader).singleton(),
      roomsRelations: asFunction(
        (c: Cradle) =>
          new RelationsBundler({
            roomsTimelineStore: c.roomsTimelineStore,
            roomsReader: c.roomsReader,
            roomsVisibility: c.roomsVisibility,
            notifier: c.notifier,
            ignoredUsers: async (userId) =>
              (container.hasRegistration('accountDataApi')
                ? await container
                    .resolve<{ ignoredUsers(u: string): Promise<ReadonlySet<string>> }>('accountDataApi')
                    .ignoredUsers(userId)
                : undefined) ?? new Set<string>(),
          }),
      ).singleton(),
      roomsTimeline: asClass(TimelineService).singleton(),
      roomsMembership: asClass(MembershipService).singleton(),
      roomsCreation: asClass(RoomCreationService).singleton(),
      roomsEvents: asClass(RoomEventsService).singleton(),
      roomsUpgrade: asClass(UpgradeService).singleton(),
      roomsApi: asClass(RoomsApiImpl).singleton(),
      roomsFederatedReceiver: asClass(FederatedEventReceiver).singleton(),
      roomsFederationReads: asClass(FederationRoomReads).singleton(),
      roomsFederationApi: asClass(RoomsFederationApiImpl).singleton(),
    });
  },
  routes(router, { cradle }) {
    roomsRoutes(router, cradle);
  },
  async start(cradle) {
    const { authApi, roomsMembership, roomsApi } = cradle;
    authApi.onProfileChanged(async (change) => {
      if (change.field !== 'displayname' && change.field !== 'avatar_url') return;
      await roomsMembership.updateProfileInRooms(change.userId);
    });
    authApi.onUserDeactivated(async ({ userId }) => {
      await roomsApi.leaveAllRooms(userId);
    });
  },
});
