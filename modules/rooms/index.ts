import { roomsConfigSchema, type RoomsConfig } from './config.js';
import { aliasTo, asClass, asFunction, asValue } from 'awilix';
import type { Cradle } from '../../core/container.js';
import { defineModule } from '../../core/define-module.js';
import type { RoomsApi, RoomsFederationApi, RoomsHookRegistry } from './api.js';
import { roomsRoutes } from './routes/rooms.routes.js';
import { LocalEventBuilder } from './services/event-builder.js';
import { EventPersister } from './services/event-persister.js';
import { EventSender } from './services/event-sender.js';
import { FederatedEventReceiver } from './services/federated-event-receiver.js';
import { Backfiller } from './services/backfill.js';
import { MissingEvents } from './services/missing-events.js';
import { FederationHistoryReads } from './services/federation-history-reads.js';
import { RoomStateResolver } from './services/state-resolver.js';
import { FederationRoomReads } from './services/federation-room-reads.js';
import { HistoryVisibility } from './services/history-visibility.js';
import { RoomHooks } from './services/hooks.js';
import { MembershipService } from './services/membership-service.js';
import { applyServerPolicies } from './services/server-policies.js';
import { RoomCreationService } from './services/room-creation-service.js';
import { RoomEventsService } from './services/room-events-service.js';
import { RelationsBundler } from './services/relations-bundler.js';
import { RemoteMembershipService } from './services/remote-membership-service.js';
import { RemoteRoomWriter } from './services/remote-room-writer.js';
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
import { roomsOutliersMigration } from './store/migrations/20261207160000_rooms_outliers.js';
import { roomsCurrentStateGroupsMigration } from './store/migrations/20261207160000_rooms_current_state_groups.js';
import { SoftFailedStore } from './store/soft-failed-store.js';
import { EventStore } from './store/event-store.js';
import { MembershipStore } from './store/membership-store.js';
import { RemoteRoomStore } from './store/remote-room-store.js';
import { RoomStore } from './store/room-store.js';
import { StateStore } from './store/state-store.js';
import { TimelineStore } from './store/timeline-store.js';
import { RelationStore } from './store/relation-store.js';
import { TxnStore } from './store/txn-store.js';
import { OutOfBandStore } from './store/out-of-band-store.js';
import { roomsOutOfBandMembershipsMigration } from './store/migrations/20261207160000_rooms_out_of_band_memberships.js';
import { OutOfBandMemberships } from './services/out-of-band-memberships.js';
import { FederationMemberships } from './services/federation-memberships.js';
import { RemoteMemberships } from './services/remote-memberships.js';

export { roomsConfigSchema, type RoomsConfig } from './config.js';

declare module '../../core/container.js' {
  interface Cradle {
    roomsConfig: RoomsConfig;
    // store: one per table group (store/table-store.ts lists them)
    roomsRoomStore: RoomStore;
    roomsEventStore: EventStore;
    roomsTimelineStore: TimelineStore;
    /** Reads by relation: children, threads, bundles, related_by_* matches. */
    roomsRelationStore: RelationStore;
    roomsStateStore: StateStore;
    roomsMembershipStore: MembershipStore;
    roomsTxnStore: TxnStore;
    roomsSoftFailedStore: SoftFailedStore;
    /** Bulk writes of a remote join's state (outliers, current state, memberships). */
    roomsRemoteRoomStore: RemoteRoomStore;
    roomsOutOfBandStore: OutOfBandStore;
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
    /** Fetching what a received event references and we lack (get_missing_events, state, auth chains). */
    roomsMissingEvents: MissingEvents;
    /** History before what we have of a room joined over federation, from a server in it (/messages). */
    roomsBackfill: Backfiller;
    /** State where forks of the DAG meet (state resolution per room version). */
    roomsStateResolver: RoomStateResolver;
    /** What other servers are answered about rooms (make_join, state, events). */
    roomsFederationReads: FederationRoomReads;
    /** Backfill, missing events and timestamps for other servers, with their history visibility. */
    roomsFederationHistory: FederationHistoryReads;
    /** What the federation module calls (api.ts `RoomsFederationApi`). */
    roomsFederationApi: RoomsFederationApi;
    /** Joining and leaving rooms on other servers (through federation's FederationMembershipPort). */
    roomsRemoteMembership: RemoteMembershipService;
    /** Stores a validated remote join in one transaction. */
    roomsRemoteRoomWriter: RemoteRoomWriter;
    /** Local users' memberships in rooms this server is not in (remote invites, knocks, their rejections). */
    roomsOutOfBand: OutOfBandMemberships;
    /** Invites and knocks across servers, as federation calls them. */
    roomsFederationMemberships: FederationMemberships;
    /** A local user's invites of remote users, knocks on and rejections in rooms elsewhere. */
    roomsRemoteMemberships: RemoteMemberships;
  }
}

/** Rooms: the event DAG, creating rooms, membership, sending and reading events, redactions, upgrades. */
export default defineModule({
  name: 'rooms',
  description: 'Rooms: createRoom, membership, send/state/messages/context/relations/redact/upgrade',
  enabledByDefault: true,
  requires: ['auth'],
  config: roomsConfigSchema,
  migrations: [
    roomsDagMigration,
    membershipEventsIndexMigration,
    roomsSoftFailedEventsMigration,
    roomsOutOfBandMembershipsMigration,
    roomsOutliersMigration,
    roomsCurrentStateGroupsMigration,
  ],
  register({ container, config }) {
    container.register({
      roomsConfig: asValue(config),
      roomsRoomStore: asClass(RoomStore).singleton(),
      roomsEventStore: asClass(EventStore).singleton(),
      roomsTimelineStore: asClass(TimelineStore).singleton(),
      roomsRelationStore: asClass(RelationStore).singleton(),
      roomsStateStore: asClass(StateStore).singleton(),
      roomsMembershipStore: asClass(MembershipStore).singleton(),
      roomsTxnStore: asClass(TxnStore).singleton(),
      roomsSoftFailedStore: asClass(SoftFailedStore).singleton(),
      roomsRemoteRoomStore: asClass(RemoteRoomStore).singleton(),
      roomsOutOfBandStore: asClass(OutOfBandStore).singleton(),
      roomsOutOfBand: asClass(OutOfBandMemberships).singleton(),
      roomsFederationMemberships: asClass(FederationMemberships).singleton(),
      roomsRemoteMemberships: asClass(RemoteMemberships).singleton(),
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
            roomsRelationStore: c.roomsRelationStore,
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
      roomsStateResolver: asClass(RoomStateResolver).singleton(),
      roomsFederatedReceiver: asClass(FederatedEventReceiver).singleton(),
      roomsMissingEvents: asClass(MissingEvents).singleton(),
      roomsBackfill: asClass(Backfiller).singleton(),
      roomsFederationReads: asClass(FederationRoomReads).singleton(),
      roomsFederationHistory: asClass(FederationHistoryReads).singleton(),
      roomsFederationApi: asClass(RoomsFederationApiImpl).singleton(),
      roomsRemoteMembership: asClass(RemoteMembershipService).singleton(),
      roomsRemoteRoomWriter: asClass(RemoteRoomWriter).singleton(),
    });
  },
  routes(router, { cradle }) {
    roomsRoutes(router, cradle);
  },
  async start(cradle) {
    const { authApi, roomsMembership, roomsApi } = cradle;
    applyServerPolicies(cradle); // block_non_admin_invites, forget_rooms_on_leave, auto_join_rooms
    authApi.registerSharedRoomsCheck(async (a, b) => {
      const theirs = new Set(await roomsApi.joinedRooms(b));
      return (await roomsApi.joinedRooms(a)).some((room) => theirs.has(room));
    });
    authApi.onProfileChanged(async (change) => {
      if (change.field !== 'displayname' && change.field !== 'avatar_url') return;
      await roomsMembership.updateProfileInRooms(change.userId);
    });
    authApi.onUserDeactivated(async ({ userId }) => {
      await roomsApi.leaveAllRooms(userId);
    });
  },
});
