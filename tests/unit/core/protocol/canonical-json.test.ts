import t from 'tap';
import {
  CanonicalJsonError,
  canonicalJson,
  canonicalJsonBytes,
  omitKeys,
} from '../../../../core/protocol/canonical-json.js';

// Every input/output pair of spec appendices "Canonical JSON" > "Examples", inputs as the spec writes them.
const SPEC_VECTORS: [input: string, output: string][] = [
  ['{}', '{}'],
  ['{\n    "one": 1,\n    "two": "Two"\n}', '{"one":1,"two":"Two"}'],
  ['{\n    "b": "2",\n    "a": "1"\n}', '{"a":"1","b":"2"}'],
  ['{"b":"2","a":"1"}', '{"a":"1","b":"2"}'],
  [
    `{
    "auth": {
        "success": true,
        "mxid": "@john.doe:example.com",
        "profile": {
            "display_name": "John Doe",
            "three_pids": [
                {
                    "medium": "email",
                    "address": "john.doe@example.org"
                },
                {
                    "medium": "msisdn",
                    "address": "123456789"
                }
            ]
        }
    }
}`,
    '{"auth":{"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe","three_pids":[{"address":"john.doe@example.org","medium":"email"},{"address":"123456789","medium":"msisdn"}]},"success":true}}',
  ],
  ['{\n    "a": "日本語"\n}', '{"a":"日本語"}'],
  ['{\n    "本": 2,\n    "日": 1\n}', '{"日":1,"本":2}'],
  ['{\n    "a": "\\u65E5"\n}', '{"a":"日"}'],
  ['{\n    "a": null\n}', '{"a":null}'],
  ['{\n    "a": -0,\n    "b": 1e10\n}', '{"a":0,"b":10000000000}'],
];

void t.test('produces the spec example outputs', async (t) => {
  for (const [input, output] of SPEC_VECTORS) t.equal(canonicalJson(JSON.parse(input)), output, input);
});

void t.test('escapes only what the grammar requires', async (t) => {
  t.equal(
    canonicalJson('"\\/\b\t\n\f\r\u0000\u0007\u000b\u000e\u001f\u007f é 😀'),
    '"\\"\\\\/\\b\\t\\n\\f\\r\\u0000\\u0007\\u000b\\u000e\\u001f\u007f é 😀"',
  );
});

void t.test('sorts keys by code point, not UTF-16 unit', async (t) => {
  // U+FF61 is one unit 0xFF61; U+1F600 is the pair D83D DE00. Code point order puts U+FF61 first.
  t.equal(canonicalJson({ '😀': 1, '｡': 2, a: 3 }), '{"a":3,"｡":2,"😀":1}');
  t.equal(canonicalJson({ b: 1, a: 2, aa: 3, A: 4 }), '{"A":4,"a":2,"aa":3,"b":1}');
});

void t.test('encodes nested arrays and scalars', async (t) => {
  t.equal(
    canonicalJson([1, 'x', [true, false, null], { z: [], y: {} }]),
    '[1,"x",[true,false,null],{"y":{},"z":[]}]',
  );
  t.equal(canonicalJson('plain'), '"plain"');
  t.equal(canonicalJson(-42), '-42');
});

void t.test('skips undefined object properties', async (t) => {
  t.equal(canonicalJson({ a: undefined, b: 1 }), '{"b":1}');
});

void t.test('accepts integers at the bounds of the safe range', async (t) => {
  t.equal(canonicalJson(2 ** 53 - 1), '9007199254740991');
  t.equal(canonicalJson(-(2 ** 53) + 1), '-9007199254740991');
});

void t.test('strict mode (the default) rejects floats and out-of-range integers with the path', async (t) => {
  t.throws(
    () => canonicalJson({ content: { n: 1.5 } }),
    new CanonicalJsonError('float 1.5 is not allowed', '$.content.n'),
  );
  t.throws(() => canonicalJson({ a: [0, 2 ** 53] }), { name: 'CanonicalJsonError', path: '$.a[1]' });
  t.throws(() => canonicalJson(-(2 ** 53)), CanonicalJsonError);
});

void t.test('lenient mode encodes floats, and big integers with every digit', async (t) => {
  t.equal(
    canonicalJson({ n: 1.5, m: 2 ** 60, k: -1e21 }, { strict: false }),
    '{"k":-1000000000000000000000,"m":1152921504606846976,"n":1.5}',
  );
});

void t.test('bigints (lossless parsing) are written with every digit; strict mode bounds them', async (t) => {
  t.equal(canonicalJson({ d: 9223372036854775807n }, { strict: false }), '{"d":9223372036854775807}');
  t.equal(canonicalJson(-18446744073709551616n, { strict: false }), '-18446744073709551616');
  t.equal(canonicalJson(10n), '10');
  t.throws(() => canonicalJson({ d: 2n ** 53n }), { name: 'CanonicalJsonError', path: '$.d' });
  t.equal(canonicalJson(2n ** 53n - 1n), '9007199254740991');
});

void t.test('rejects values JSON cannot hold, even when lenient', async (t) => {
  for (const bad of [NaN, Infinity, () => 1, Symbol('s'), undefined, [undefined]]) {
    t.throws(() => canonicalJson(bad, { strict: false }), CanonicalJsonError);
  }
});

void t.test('a failure does not leak its path into the next call', async (t) => {
  t.throws(() => canonicalJson({ deep: { er: 0.5 } }));
  t.throws(() => canonicalJson([0.5]), { name: 'CanonicalJsonError', path: '$[0]' });
});

void t.test('canonicalJsonBytes is the UTF-8 encoding', async (t) => {
  t.same([...canonicalJsonBytes({ a: 'é' })], [...Buffer.from('{"a":"é"}', 'utf8')]);
});

void t.test('omitKeys copies without the named keys', async (t) => {
  const obj = { a: 1, signatures: {}, unsigned: {} };
  t.same(omitKeys(obj, ['signatures', 'unsigned']), { a: 1 });
  t.same(obj, { a: 1, signatures: {}, unsigned: {} });
});

void t.test('a lone surrogate is written as an escape', async (t) => {
  t.equal(canonicalJson({ a: 'x\ud800y' }), '{"a":"x\\ud800y"}');
});
