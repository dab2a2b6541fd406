/**
 * Synapse's `alias_creation_rules` and `room_list_publication_rules`: ordered allow/deny rules of globs over
 * the user, the room id and the room's aliases. The first rule that matches decides; when none matches the
 * action is denied; without the key everything is allowed. An alias glob of `*` matches a room without
 * aliases; any other alias glob needs one of the room's aliases to match.
 */
import type { DirectoryRuleConfig } from '../config.js';

interface Rule {
  readonly allow: boolean;
  readonly userId: RegExp;
  readonly roomId: RegExp;
  /** undefined: `*`, matching every room, with or without aliases. */
  readonly alias: RegExp | undefined;
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'is');
}

function compile(rules: readonly DirectoryRuleConfig[] | undefined): readonly Rule[] {
  if (!rules) return [{ allow: true, userId: /^/, roomId: /^/, alias: undefined }];
  return rules.map((r) => ({
    allow: r.action === 'allow',
    userId: globToRegExp(r.user_id),
    roomId: globToRegExp(r.room_id),
    alias: r.alias === '*' ? undefined : globToRegExp(r.alias),
  }));
}

function decide(rules: readonly Rule[], userId: string, roomId: string, aliases: readonly string[]): boolean {
  for (const rule of rules) {
    if (!rule.userId.test(userId) || !rule.roomId.test(roomId)) continue;
    if (rule.alias && !aliases.some((a) => rule.alias?.test(a))) continue;
    return rule.allow;
  }
  return false;
}

/** The operator's directory policy: the two rule lists and Synapse's switches beside them. */
export class DirectoryRules {
  private readonly aliasCreation: readonly Rule[];
  private readonly publication: readonly Rule[];
  /** `enable_room_list_search`: false lists nothing and publishes nothing. */
  readonly roomListEnabled: boolean;
  /** `require_membership_for_aliases`. */
  readonly aliasesNeedMembership: boolean;
  /** `allow_public_rooms_over_federation`: other servers may read the directory. */
  readonly listedOverFederation: boolean;

  constructor(config: {
    alias_creation_rules?: readonly DirectoryRuleConfig[] | undefined;
    room_list_publication_rules?: readonly DirectoryRuleConfig[] | undefined;
    enable_room_list_search?: boolean | undefined;
    require_membership_for_aliases?: boolean | undefined;
    allow_public_rooms_over_federation?: boolean | undefined;
  }) {
    this.aliasCreation = compile(config.alias_creation_rules);
    this.publication = compile(config.room_list_publication_rules);
    this.roomListEnabled = config.enable_room_list_search !== false;
    this.aliasesNeedMembership = config.require_membership_for_aliases !== false;
    this.listedOverFederation = config.allow_public_rooms_over_federation === true;
  }

  mayCreateAlias(userId: string, roomId: string, alias: string): boolean {
    return decide(this.aliasCreation, userId, roomId, [alias]);
  }

  /** `aliases`: the room's local aliases and its canonical and alternative aliases. */
  mayPublishRoom(userId: string, roomId: string, aliases: readonly string[]): boolean {
    return this.roomListEnabled && decide(this.publication, userId, roomId, aliases);
  }
}
