/**
 * keyword-filter: refuses events (and room creations) whose text contains a blocked word or matches a
 * blocked pattern. See README.md.
 */
import { definePlugin, NOT_SPAM, type JsonValue, type PduJson, type SpamVerdict } from '../../core/index.js';
import { keywordFilterConfigSchema, type KeywordFilterConfig } from './config.js';

/** How deep state content is searched for strings (content is small; this bounds odd shapes). */
const MAX_DEPTH = 6;

export default definePlugin({
  name: 'keyword-filter',
  apiVersion: 1,
  config: keywordFilterConfigSchema,
  register(api, config) {
    const matcher = buildMatcher(config);
    if (!matcher) {
      api.logger.warn('no blocked_words or blocked_patterns configured: nothing will be filtered');
      return;
    }
    const refusal: SpamVerdict = { errcode: config.errcode, error: config.error };
    const exempt = async (userId: string): Promise<boolean> =>
      config.exempt_admins && (await api.helpers.isServerAdmin(userId));

    api.registerSpamChecker({
      async checkEventForSpam({ event }) {
        const hit = eventTexts(event, config).find(matcher);
        if (hit === undefined || (await exempt(event.sender))) return NOT_SPAM;
        api.logger.info(
          { sender: event.sender, room_id: event.room_id, type: event.type },
          'blocked an event',
        );
        return refusal;
      },
      async userMayCreateRoom({ userId, request }) {
        if (!config.check_room_creation) return NOT_SPAM;
        const texts = [request['name'], request['topic']].filter((v): v is string => typeof v === 'string');
        if (!texts.some(matcher) || (await exempt(userId))) return NOT_SPAM;
        api.logger.info({ user_id: userId }, 'blocked a room creation');
        return refusal;
      },
    });
  },
});

/** A predicate over text, or undefined when nothing is configured. Throws on an invalid pattern. */
export function buildMatcher(config: KeywordFilterConfig): ((text: string) => boolean) | undefined {
  const regexes: RegExp[] = config.blocked_patterns.map((source, i) => {
    try {
      return new RegExp(source, 'iu');
    } catch (err) {
      throw new Error(`blocked_patterns[${i}] is not a valid regular expression: ${(err as Error).message}`, {
        cause: err,
      });
    }
  });
  if (config.blocked_words.length > 0) {
    const words = config.blocked_words.map((w) => escapeRegExp(w.normalize('NFKC')));
    const alternatives = `(?:${words.join('|')})`;
    // Whole words: no letter, digit or underscore (in any script) on either side.
    regexes.push(
      new RegExp(
        config.match_substrings ? alternatives : `(?<![\\p{L}\\p{N}_])${alternatives}(?![\\p{L}\\p{N}_])`,
        'iu',
      ),
    );
  }
  if (regexes.length === 0) return undefined;
  return (text) => {
    const normalized = text.normalize('NFKC');
    return regexes.some((r) => r.test(normalized));
  };
}

/** The texts of an event that are checked: message bodies (and their edits), and state content. */
export function eventTexts(event: Readonly<PduJson>, config: KeywordFilterConfig): string[] {
  const texts: string[] = [];
  if (event.state_key !== undefined) {
    if (config.check_state_events) collectStrings(event.content, texts, 0);
    return texts;
  }
  const bodies = (content: unknown): void => {
    if (typeof content !== 'object' || content === null) return;
    const c = content as Record<string, unknown>;
    if (typeof c['body'] === 'string') texts.push(c['body']);
    if (typeof c['formatted_body'] === 'string') {
      texts.push(c['formatted_body'], htmlText(c['formatted_body']));
    }
  };
  bodies(event.content);
  bodies(event.content['m.new_content']);
  // Extensible events (MSC1767) carry their text under m.text.
  const mText = event.content['m.text'];
  if (Array.isArray(mText)) for (const part of mText) bodies(part);
  return texts;
}

function collectStrings(value: JsonValue | undefined, into: string[], depth: number): void {
  if (depth > MAX_DEPTH || value === null || value === undefined) return;
  if (typeof value === 'string') into.push(value);
  else if (Array.isArray(value)) for (const v of value) collectStrings(v, into, depth + 1);
  else if (typeof value === 'object')
    for (const v of Object.values(value)) collectStrings(v, into, depth + 1);
}

/** The visible text of an HTML body: tags removed, common entities decoded, so markup cannot split a word. */
export function htmlText(html: string): string {
  return html
    .replace(/<[^>]*>/g, '')
    .replace(/&#(\d{1,7});/g, (_, n: string) => codePoint(Number(n)))
    .replace(/&#x([0-9a-f]{1,6});/gi, (_, n: string) => codePoint(parseInt(n, 16)))
    .replace(/&(lt|gt|quot|apos|nbsp|amp);/g, (_, name: string) => ENTITIES[name] ?? '');
}

const codePoint = (n: number): string => (n <= 0x10ffff ? String.fromCodePoint(n) : '');

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', amp: '&' };

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
