import t from 'tap';
import { canonicalJson } from '../../../../core/protocol/canonical-json.js';
import { parseJsonLossless } from '../../../../core/protocol/lossless-json.js';

void t.test('parses as JSON.parse does when no integer is out of range', async (t) => {
  const texts = [
    '{"a":[1,-2,3.5,1e3,true,false,null,"x\\u00e9\\n"],"b":{}}',
    ' [ ] ',
    '"s"',
    '0',
    '{"k":{"n":9007199254740991,"s":"12345678901234567890"}}',
    ' { "a" : [ 1 , { "b" : null } ] , "__proto__" : 1 } ',
  ];
  for (const text of texts) t.same(parseJsonLossless(text), JSON.parse(text), text);
});

void t.test(
  'integers outside the safe range become bigints; fractions and exponents stay numbers',
  async (t) => {
    const v = parseJsonLossless(
      '{"depth":9223372036854775807,"neg":-9007199254740992,"ok":9007199254740991,"f":12345678901234567.5,"e":1234567890123456789e0}',
    ) as Record<string, unknown>;
    t.equal(v['depth'], 9223372036854775807n);
    t.equal(v['neg'], -9007199254740992n);
    t.equal(v['ok'], 9007199254740991);
    t.equal(typeof v['f'], 'number');
    t.equal(typeof v['e'], 'number');
  },
);

void t.test('round-trips big integers through canonical JSON exactly', async (t) => {
  const text = '{"a":[18446744073709551616,-1],"depth":9223372036854775807}';
  t.equal(canonicalJson(parseJsonLossless(text), { strict: false }), text);
});

void t.test('"__proto__" is an ordinary key, as with JSON.parse', async (t) => {
  const v = parseJsonLossless('{"__proto__":{"x":1},"n":12345678901234567890}') as Record<string, unknown>;
  t.same(Object.keys(v), ['__proto__', 'n']);
  t.equal(({} as Record<string, unknown>)['x'], undefined);
});

void t.test('rejects what is not JSON, like JSON.parse', async (t) => {
  const bad = [
    '{"n":12345678901234567890,}',
    '[12345678901234567890',
    '12345678901234567890 x',
    '{"a" 12345678901234567890}',
    '[01234567890123456789]',
    "['12345678901234567890']",
    '{"a":"\u0001","n":12345678901234567890}',
    '[12345678901234567890,tru]',
  ];
  for (const text of bad) {
    t.throws(() => parseJsonLossless(text), SyntaxError, text);
    t.throws(() => JSON.parse(text), SyntaxError, `JSON.parse agrees: ${text}`);
  }
});
