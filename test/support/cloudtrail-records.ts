/**
 * Generated CloudTrail records, as JSON text, for the lossless-CloudTrail tests (issue 7, item 4): every
 * record is one CloudTrail could write, and each carries the edge cases that JSON.parse cannot keep or
 * that the app-event guard refuses: integers beyond 2^53, exponents (`1e400`, `1e-400`), `-0`, deep
 * nesting (up to EventBridge's 1,100 levels), and any Unicode (astral characters, control characters,
 * `\uXXXX` escapes of lone surrogates, member names such as `__proto__`), with any JSON whitespace.
 *
 * A record is generated as `(eventId) => text`, so a test gives each one a unique id.
 */
import fc from 'fast-check';
import { MAX_RECORD_DEPTH } from '../../shared/events/limits.ts';

/** Any JSON whitespace run, including none. */
const ws = fc.constantFrom('', '', ' ', '\n', '\t', '\r\n  ', '  ');

/** A JSON string literal for `s`: `JSON.stringify` (lone surrogates become `\udXXX`), or all `\u` escapes. */
function stringLiteral(s: string, escapeAll: boolean): string {
  if (!escapeAll) return JSON.stringify(s);
  let text = '"';
  for (let i = 0; i < s.length; i++) text += `\\u${s.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return `${text}"`;
}

/** Strings with any code point, and UTF-16 code units alone (lone surrogates). */
const anyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc
    .array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 6 })
    .map((units) => String.fromCharCode(...units)),
  fc.constantFrom('😀', '\u0000', '\u2028', 'é', 'e\u0301', '\uD800', '\uDC00x', '\uDBFF\uDFFF', '/'),
);

/** Any Unicode, as a JSON string literal. */
export const unicodeText: fc.Arbitrary<string> = fc
  .tuple(anyString, fc.boolean())
  .map(([s, escapeAll]) => stringLiteral(s, escapeAll));

/** Integers beyond ±(2^53 − 1), as CloudTrail writes 64-bit ids and sizes. */
export const bigIntegerText: fc.Arbitrary<string> = fc
  .oneof(
    fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n }),
    fc.bigInt({ min: -(2n ** 64n), max: -(2n ** 53n) }),
    fc.bigInt({ min: 10n ** 20n, max: 10n ** 40n }),
  )
  .map(String);

/** Numbers with an exponent, overflowing or underflowing a double among them. */
export const exponentText: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(
      fc.integer({ min: -9, max: 9 }),
      fc.nat({ max: 99_999 }),
      fc.constantFrom('e', 'E'),
      fc.constantFrom('', '+', '-'),
      fc.integer({ min: 0, max: 999 }),
    )
    .map(([whole, fraction, e, sign, exponent]) => `${whole}.${fraction}${e}${sign}${exponent}`),
  fc.constantFrom('1e400', '-1E+400', '1e-400', '5e-324', '2.5e-324', '1.7976931348623157e308', '1e300'),
);

/** Negative zero, in each spelling. */
export const negativeZeroText: fc.Arbitrary<string> = fc.constantFrom(
  '-0',
  '-0.0',
  '-0e0',
  '-0E-5',
  '-0.000',
);

/** Ordinary numbers, some with digits a double does not keep. */
const plainNumberText: fc.Arbitrary<string> = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
  fc.integer().map(String),
  fc.constantFrom('0', '1.0', '1.50', '0.30000000000000001', '9007199254740993', '100'),
);

const numberText = fc.oneof(bigIntegerText, exponentText, negativeZeroText, plainNumberText);

/** Member names: any Unicode, and the names that are prototype-pollution vectors in JavaScript. */
const keyText = fc.oneof(
  { arbitrary: unicodeText, weight: 3 },
  {
    arbitrary: fc.constantFrom('"__proto__"', '"constructor"', '"prototype"', '"toString"', '""', '"a"'),
    weight: 1,
  },
);

const leafText = fc.oneof(numberText, unicodeText, fc.constantFrom('true', 'false', 'null'));

/** Any JSON value text, a few levels deep, made of the leaves above and any whitespace. */
export const valueText: fc.Arbitrary<string> = fc.letrec<{ value: string; array: string; object: string }>(
  (tie) => ({
    value: fc.oneof({ depthSize: 'small' }, leafText, tie('array'), tie('object')),
    array: fc
      .tuple(fc.array(fc.tuple(ws, tie('value'), ws), { maxLength: 4 }), ws)
      .map(([items, w]) => `[${items.map(([a, v, b]) => `${a}${v}${b}`).join(',')}${w}]`),
    object: fc
      .tuple(fc.array(fc.tuple(ws, keyText, ws, tie('value')), { maxLength: 4 }), ws)
      .map(([members, w]) => `{${members.map(([a, k, b, v]) => `${a}${k}${b}:${v}`).join(',')}${w}}`),
  }),
).value;

/**
 * Nesting from 30 levels to as deep as a record can be: the record is level 1 and its
 * `requestParameters` object level 2, so a payload of `depth` levels in it makes the record `2 + depth`
 * deep, at most EventBridge's 1,100.
 */
export const deepText: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 30, max: MAX_RECORD_DEPTH - 2 }), numberText, fc.boolean())
  .map(([depth, leaf, arrays]) =>
    arrays
      ? `${'['.repeat(depth)}${leaf}${']'.repeat(depth)}`
      : `${'{"d":'.repeat(depth - 1)}{"n":${leaf}}${'}'.repeat(depth - 1)}`,
  );

/** The edge cases of issue 7 item 4, each as a JSON value text to put in a record. */
export const EDGE_CASES: ReadonlyArray<readonly [string, fc.Arbitrary<string>]> = [
  ['integers beyond 2^53', bigIntegerText],
  ['exponents', exponentText],
  ['-0', negativeZeroText],
  ['deep nesting', deepText],
  ['any Unicode', fc.oneof(unicodeText, valueText)],
];

/** Event times are drawn from [fromMs, toMs). */
export interface TimeWindow {
  readonly fromMs: number;
  readonly toMs: number;
}

const ANY_TIME: TimeWindow = {
  fromMs: Date.parse('2013-11-13T00:00:00Z'),
  toMs: Date.parse('2030-01-01T00:00:00Z'),
};

const SOURCES = ['ec2.amazonaws.com', 's3.amazonaws.com', 'iam.amazonaws.com', 'kms.amazonaws.com'] as const;

/**
 * A CloudTrail record around `payload` (a JSON value text, put in `requestParameters.payload`), with its
 * members in CloudTrail's order, other generated values in `responseElements` and
 * `additionalEventData`, and a `userAgent` of any Unicode.
 */
export function cloudTrailRecord(
  payload: fc.Arbitrary<string> = valueText,
  window: TimeWindow = ANY_TIME,
): fc.Arbitrary<(eventId: string) => string> {
  return fc
    .record({
      eventTime: fc.date({
        min: new Date(window.fromMs),
        max: new Date(window.toMs - 1000),
        noInvalidDate: true,
      }),
      eventSource: fc.constantFrom(...SOURCES),
      eventName: fc.constantFrom('RunInstances', 'GetObject', 'CreateRole', 'Decrypt'),
      userAgent: unicodeText,
      payload,
      response: fc.oneof(valueText, fc.constant('null')),
      additional: valueText,
      readOnly: fc.boolean(),
      w: fc.array(ws, { minLength: 16, maxLength: 16 }),
    })
    .map((r) => (eventId: string) => {
      const members: [string, string][] = [
        ['eventVersion', '"1.09"'],
        [
          'userIdentity',
          '{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::123456789012:user/alice","accountId":"123456789012","accessKeyId":"AKIAEXAMPLE","userName":"alice"}',
        ],
        ['eventTime', JSON.stringify(r.eventTime.toISOString().replace(/\.\d{3}Z$/, 'Z'))],
        ['eventSource', JSON.stringify(r.eventSource)],
        ['eventName', JSON.stringify(r.eventName)],
        ['awsRegion', '"eu-west-1"'],
        ['sourceIPAddress', '"198.51.100.7"'],
        ['userAgent', r.userAgent],
        ['requestParameters', `{${r.w[1]}"payload":${r.payload}${r.w[2]}}`],
        ['responseElements', r.response],
        ['additionalEventData', r.additional],
        ['requestID', '"4a5b6c7d-0000-4000-8000-000000000000"'],
        ['eventID', JSON.stringify(eventId)],
        ['readOnly', String(r.readOnly)],
        ['eventType', '"AwsApiCall"'],
        ['recipientAccountId', '"123456789012"'],
      ];
      const body = members.map(([k, v], i) => `${r.w[i]}${JSON.stringify(k)}${r.w[15 - i]}:${v}`).join(',');
      return `{${body}${r.w[0]}}`;
    });
}

/** An eventID for the `n`th generated record: a UUID, as CloudTrail's are. */
export function eventIdOf(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

/**
 * `count` records sampled with a fixed seed, so every run sees the same ones: each holds one of the edge
 * cases (or generated values with several of them) in `requestParameters`, and more around it.
 */
export function sampleRecords(count: number, window: TimeWindow = ANY_TIME, seed = 7): string[] {
  const payload = fc.oneof(...EDGE_CASES.map(([, arbitrary]) => arbitrary), valueText);
  return fc
    .sample(cloudTrailRecord(payload, window), { numRuns: count, seed })
    .map((render, i) => render(eventIdOf(i)));
}

/** The record on one line (line breaks between tokens become spaces), for a JSON-lines file. */
export function oneLine(text: string): string {
  return text.replace(/\r\n|\n/g, ' ');
}
