/**
 * The `m.room.member` auth rules (rule 4/5 depending on the room version): join, invite (including
 * third-party invites), leave, ban and knock, with the restricted join rules of v8+.
 */
import { thirdPartyInviteToken } from '../auth-events-selection.js';
import { powerLevelsFromContent, userPowerLevelFrom } from '../power-levels.js';
import type { RoomVersion } from '../room-versions.js';
import { serverNameOf as domainOf } from '../identifiers.js';
import { referenceIds } from '../event-references.js';
import {
  ALLOWED,
  reject,
  type AuthCheckOptions,
  type AuthEvent,
  type AuthResult,
  type AuthStateLookup,
} from './types.js';

/** Formats a level for reasons shown to clients; creators' infinite power reads as such. */
export function formatLevel(level: number): string {
  return level === Infinity ? 'infinite (room creator)' : String(level);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A user's current membership in `state`, or undefined when they have no member event. */
export function membershipOf(state: AuthStateLookup, userId: string): string | undefined {
  const m = state('m.room.member', userId)?.pdu.content['membership'];
  return typeof m === 'string' ? m : undefined;
}

/** The room's join rule; a room without `m.room.join_rules` is treated as `invite`. */
function joinRuleOf(state: AuthStateLookup): string {
  const rule = state('m.room.join_rules', '')?.pdu.content['join_rule'];
  return typeof rule === 'string' ? rule : 'invite';
}

interface MemberContext {
  readonly event: AuthEvent;
  readonly state: AuthStateLookup;
  readonly version: RoomVersion;
  readonly options: AuthCheckOptions;
  readonly target: string;
  readonly levelOf: (userId: string) => number;
}

/** Auth rules for `m.room.member`; always decides (every branch allows or rejects). */
export function checkMemberEvent(
  event: AuthEvent,
  state: AuthStateLookup,
  version: RoomVersion,
  options: AuthCheckOptions,
): AuthResult {
  const { pdu } = event;
  const membership = pdu.content['membership'];
  if (typeof pdu.state_key !== 'string' || typeof membership !== 'string') {
    return reject('member.malformed', 'm.room.member: the event has no state_key or no content.membership');
  }

  if (version.restrictedJoinRule && pdu.content['join_authorised_via_users_server'] !== undefined) {
    const authoriser = pdu.content['join_authorised_via_users_server'];
    const server = typeof authoriser === 'string' ? domainOf(authoriser) : undefined;
    // Only a verifier can say an event is validly signed: without one (or with a malformed event, e.g.
    // no `signatures`), the event is not signed, and the rule fails rather than throwing.
    const signed = server !== undefined && options.isSignedBy?.(event, server) === true;
    if (!signed) {
      return reject(
        'member.authoriser_signature',
        'm.room.member: the event is not signed by the server of join_authorised_via_users_server',
      );
    }
  }

  const create = state('m.room.create', '');
  const powerLevels = state('m.room.power_levels', '');
  const ctx: MemberContext = {
    event,
    state,
    version,
    options,
    target: pdu.state_key,
    levelOf: (userId) => userPowerLevelFrom(powerLevels, create, userId, version),
  };
  switch (membership) {
    case 'join':
      return checkJoin(ctx, create);
    case 'invite':
      return checkInvite(ctx);
    case 'leave':
      return checkLeave(ctx);
    case 'ban':
      return checkBan(ctx);
    case 'knock':
      if (version.knockJoinRule) return checkKnock(ctx);
      break;
  }
  return reject('member.unknown_membership', `m.room.member: unknown membership "${membership}"`);
}

function levels(ctx: MemberContext) {
  return powerLevelsFromContent(ctx.state('m.room.power_levels', '')?.pdu.content, ctx.version);
}

function checkJoin(ctx: MemberContext, create: AuthEvent | undefined): AuthResult {
  const { pdu } = ctx.event;
  const prev = referenceIds(pdu.prev_events);
  if (create && prev.length === 1 && prev[0] === create.eventId) {
    // The creator's own first join, straight after the create event.
    const creator = ctx.version.implicitRoomCreator ? create.pdu.sender : create.pdu.content['creator'];
    if (ctx.target === creator) return ALLOWED;
  }
  if (pdu.sender !== ctx.target) {
    return reject('member.join.not_self', 'm.room.member join: the sender does not match the state_key');
  }
  const current = membershipOf(ctx.state, pdu.sender);
  if (current === 'ban')
    return reject('member.join.banned', 'm.room.member join: the sender is banned from the room');

  const joinRule = joinRuleOf(ctx.state);
  if (joinRule === 'invite' || (ctx.version.knockJoinRule && joinRule === 'knock')) {
    if (current === 'invite' || current === 'join') return ALLOWED;
    return reject(
      'member.join.not_invited',
      `m.room.member join: the join rule is ${joinRule} and the sender is not invited`,
    );
  }
  if (
    (ctx.version.restrictedJoinRule && joinRule === 'restricted') ||
    (ctx.version.knockRestrictedJoinRule && joinRule === 'knock_restricted')
  ) {
    if (current === 'invite' || current === 'join') return ALLOWED;
    const authoriser = pdu.content['join_authorised_via_users_server'];
    if (typeof authoriser !== 'string') {
      return reject(
        'member.join.restricted_no_authoriser',
        `m.room.member join: the join rule is ${joinRule} and no join_authorised_via_users_server was given`,
      );
    }
    if (membershipOf(ctx.state, authoriser) !== 'join') {
      return reject(
        'member.join.authoriser_not_joined',
        `m.room.member join: join_authorised_via_users_server ${authoriser} is not joined to the room`,
      );
    }
    const needed = levels(ctx).invite;
    const has = ctx.levelOf(authoriser);
    if (has < needed) {
      return reject(
        'member.join.authoriser_power',
        `m.room.member join: join_authorised_via_users_server ${authoriser} has power level ${formatLevel(has)} but inviting needs ${needed}`,
      );
    }
    return ALLOWED;
  }
  if (joinRule === 'public') return ALLOWED;
  return reject(
    'member.join.join_rule',
    `m.room.member join: the join rule "${joinRule}" does not allow joining`,
  );
}

function checkThirdPartyInvite(ctx: MemberContext, tpi: unknown): AuthResult {
  const { pdu } = ctx.event;
  if (membershipOf(ctx.state, ctx.target) === 'ban') {
    return reject('member.invite.3pid_target_banned', 'm.room.member invite: the target user is banned');
  }
  const signed = isRecord(tpi) ? tpi['signed'] : undefined;
  if (!isRecord(signed)) {
    return reject(
      'member.invite.3pid_no_signed',
      'm.room.member invite: third_party_invite has no signed property',
    );
  }
  const token = thirdPartyInviteToken(tpi);
  if (typeof signed['mxid'] !== 'string' || token === undefined) {
    return reject('member.invite.3pid_signed_fields', 'm.room.member invite: signed lacks mxid or token');
  }
  if (signed['mxid'] !== ctx.target) {
    return reject(
      'member.invite.3pid_mxid',
      'm.room.member invite: signed.mxid does not match the state_key',
    );
  }
  const invite = ctx.state('m.room.third_party_invite', token);
  if (!invite) {
    return reject(
      'member.invite.3pid_no_invite_event',
      'm.room.member invite: no m.room.third_party_invite event matches the token',
    );
  }
  if (invite.pdu.sender !== pdu.sender) {
    return reject(
      'member.invite.3pid_sender',
      'm.room.member invite: the sender did not send the matching m.room.third_party_invite',
    );
  }
  const keys: string[] = [];
  const single = invite.pdu.content['public_key'];
  if (typeof single === 'string') keys.push(single);
  const many = invite.pdu.content['public_keys'];
  if (Array.isArray(many)) {
    for (const k of many) if (isRecord(k) && typeof k['public_key'] === 'string') keys.push(k['public_key']);
  }
  const signatures = signed['signatures'];
  const verify = ctx.options.verifySignature;
  if (verify && isRecord(signatures)) {
    for (const server of Object.keys(signatures)) {
      for (const key of keys) if (verify(signed, server, key)) return ALLOWED;
    }
  }
  return reject(
    'member.invite.3pid_signature',
    'm.room.member invite: no signature in signed matches a public key of the m.room.third_party_invite',
  );
}

function checkInvite(ctx: MemberContext): AuthResult {
  const { pdu } = ctx.event;
  const tpi = pdu.content['third_party_invite'];
  if (tpi !== undefined) return checkThirdPartyInvite(ctx, tpi);
  if (membershipOf(ctx.state, pdu.sender) !== 'join') {
    return reject(
      'member.invite.sender_not_joined',
      'm.room.member invite: the sender is not joined to the room',
    );
  }
  const targetMembership = membershipOf(ctx.state, ctx.target);
  if (targetMembership === 'join' || targetMembership === 'ban') {
    return reject(
      'member.invite.target_state',
      `m.room.member invite: the target user is already ${targetMembership === 'ban' ? 'banned' : 'joined'}`,
    );
  }
  const needed = levels(ctx).invite;
  const has = ctx.levelOf(pdu.sender);
  if (has >= needed) return ALLOWED;
  return reject(
    'member.invite.power',
    `m.room.member invite: inviting needs power level ${needed} but the sender has ${formatLevel(has)}`,
  );
}

function checkLeave(ctx: MemberContext): AuthResult {
  const { pdu } = ctx.event;
  if (pdu.sender === ctx.target) {
    const current = membershipOf(ctx.state, pdu.sender);
    if (current === 'invite' || current === 'join' || (ctx.version.knockJoinRule && current === 'knock')) {
      return ALLOWED;
    }
    return reject(
      'member.leave.not_member',
      `m.room.member leave: the sender's membership is ${current ?? 'absent'}`,
    );
  }
  if (membershipOf(ctx.state, pdu.sender) !== 'join') {
    return reject(
      'member.leave.sender_not_joined',
      'm.room.member leave: the sender is not joined to the room',
    );
  }
  const pl = levels(ctx);
  const has = ctx.levelOf(pdu.sender);
  if (membershipOf(ctx.state, ctx.target) === 'ban' && has < pl.ban) {
    return reject(
      'member.leave.unban_power',
      `m.room.member leave: unbanning needs power level ${pl.ban} but the sender has ${formatLevel(has)}`,
    );
  }
  if (has < pl.kick) {
    return reject(
      'member.leave.kick_power',
      `m.room.member leave: kicking needs power level ${pl.kick} but the sender has ${formatLevel(has)}`,
    );
  }
  const targetLevel = ctx.levelOf(ctx.target);
  if (targetLevel >= has) {
    return reject(
      'member.leave.target_power',
      `m.room.member leave: the target's power level ${formatLevel(targetLevel)} is not below the sender's ${formatLevel(has)}`,
    );
  }
  return ALLOWED;
}

function checkBan(ctx: MemberContext): AuthResult {
  const { pdu } = ctx.event;
  if (membershipOf(ctx.state, pdu.sender) !== 'join') {
    return reject('member.ban.sender_not_joined', 'm.room.member ban: the sender is not joined to the room');
  }
  const needed = levels(ctx).ban;
  const has = ctx.levelOf(pdu.sender);
  if (has < needed) {
    return reject(
      'member.ban.power',
      `m.room.member ban: banning needs power level ${needed} but the sender has ${formatLevel(has)}`,
    );
  }
  const targetLevel = ctx.levelOf(ctx.target);
  if (targetLevel >= has) {
    return reject(
      'member.ban.target_power',
      `m.room.member ban: the target's power level ${formatLevel(targetLevel)} is not below the sender's ${formatLevel(has)}`,
    );
  }
  return ALLOWED;
}

function checkKnock(ctx: MemberContext): AuthResult {
  const { pdu } = ctx.event;
  const joinRule = joinRuleOf(ctx.state);
  if (joinRule !== 'knock' && !(ctx.version.knockRestrictedJoinRule && joinRule === 'knock_restricted')) {
    return reject(
      'member.knock.join_rule',
      `m.room.member knock: the join rule "${joinRule}" does not allow knocking`,
    );
  }
  if (pdu.sender !== ctx.target) {
    return reject('member.knock.not_self', 'm.room.member knock: the sender does not match the state_key');
  }
  const current = membershipOf(ctx.state, pdu.sender);
  if (current === 'ban' || current === 'invite' || current === 'join') {
    return reject(
      'member.knock.membership',
      `m.room.member knock: the sender's membership is already ${current}`,
    );
  }
  return ALLOWED;
}
