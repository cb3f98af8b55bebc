/**
 * The local gateway's SigV4 verifier against the AWS Signature Version 4 test suite: each request as the
 * suite writes it, with the signature AWS published for it, must verify; the same request with one bit of
 * its signature changed must not. The verifier canonicalizes on its own, so these vectors check that its
 * canonical request is AWS's, independently of the signer a client uses.
 *
 * Suite: https://docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html (credentials
 * AKIDEXAMPLE, 2015-08-30T12:36:00Z, us-east-1, service `service`). The cases that do not apply to an
 * API Gateway request are listed in NOT_APPLICABLE with the reason, so the table stays complete.
 */
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../local/gateway-errors.ts';
import { parseQuery, signingQuery } from '../../../local/proxy-event.ts';
import { SigV4Verifier } from '../../../local/sigv4-verifier.ts';

const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
/**
 * The suite's key id, AKIDEXAMPLE, is shorter than any real one (16 to 128 characters), which the verifier
 * requires. The key id is not part of the string to sign, so the published signatures hold for this one.
 */
const ACCESS_KEY_ID = 'AKIDEXAMPLE00000';
const SIGNING_TIME = Date.UTC(2015, 7, 30, 12, 36, 0);
const HOST = 'example.amazonaws.com';
const DATE = '20150830T123600Z';

interface SuiteCase {
  /** The case's folder name in the suite. */
  readonly name: string;
  readonly method: string;
  /** The request target's path, exactly as the suite's `.req` writes it. */
  readonly path: string;
  /** The request target's query, exactly as written (not yet decoded). */
  readonly query: string;
  /** Header lines besides Host and X-Amz-Date, in order; a repeated name is repeated. */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: string;
  readonly signedHeaders: string;
  /** The signature the suite publishes (`.authz`). */
  readonly signature: string;
}

const SUITE: readonly SuiteCase[] = [
  {
    name: 'get-vanilla',
    method: 'GET',
    path: '/',
    query: '',
    headers: [],
    body: '',
    signedHeaders: 'host;x-amz-date',
    signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
  },
  {
    name: 'get-unreserved',
    method: 'GET',
    path: '/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
    query: '',
    headers: [],
    body: '',
    signedHeaders: 'host;x-amz-date',
    signature: '07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f',
  },
  {
    // A UTF-8 path (the verifier level: over HTTP/1.1 the path arrives percent-encoded, see the
    // integration test, because a raw non-ASCII byte is not allowed in a request target).
    name: 'get-utf8',
    method: 'GET',
    path: '/\u1234',
    query: '',
    headers: [],
    body: '',
    signedHeaders: 'host;x-amz-date',
    signature: '8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85',
  },
  {
    name: 'get-vanilla-empty-query-key',
    method: 'GET',
    path: '/',
    query: 'Param1=value1',
    headers: [],
    body: '',
    signedHeaders: 'host;x-amz-date',
    signature: 'a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb',
  },
  {
    // Repeated keys: sorted by value, case-sensitively (V before v).
    name: 'get-vanilla-query-order-key',
    method: 'GET',
    path: '/',
    query: 'Param1=value2&Param1=Value1',
    headers: [],
    body: '',
    signedHeaders: 'host;x-amz-date',
    signature: 'eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1',
  },
  {
    name: 'get-vanilla-query-order-key-case',
    method: 'GET',
    path: '/',
    query: 'Param2=value2&Param1=value1',
    headers: [],
    body: '',
    signedHeaders: 'host;x-amz-date',
    signature: 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
  },
  {
    name: 'get-vanilla-query-order-value',
    method: 'GET',
    path: '/',
    query: 'Param1=value2&Param1=value1',
    headers: [],
    body: '',
    signedHeaders: 'host;x-amz-date',
    signature: '5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694',
  },
  {
    name: 'get-vanilla-query-unreserved',
    method: 'GET',
    path: '/',
    query:
      '-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
    headers: [],
    body: '',
    signedHeaders: 'host;x-amz-date',
    signature: '9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197',
  },
  {
    name: 'get-vanilla-utf8-query',
    method: 'GET',
    path: '/',
    query: '\u1234=bar',
    headers: [],
    body: '',
    signedHeaders: 'host;x-amz-date',
    signature: '2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04',
  },
  {
    name: 'get-header-key-duplicate',
    method: 'GET',
    path: '/',
    query: '',
    headers: [
      ['My-Header1', 'value2'],
      ['My-Header1', 'value2'],
      ['My-Header1', 'value1'],
    ],
    body: '',
    signedHeaders: 'host;my-header1;x-amz-date',
    signature: 'c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea',
  },
  {
    name: 'get-header-value-order',
    method: 'GET',
    path: '/',
    query: '',
    headers: [
      ['My-Header1', 'value4'],
      ['My-Header1', 'value1'],
      ['My-Header1', 'value3'],
      ['My-Header1', 'value2'],
    ],
    body: '',
    signedHeaders: 'host;my-header1;x-amz-date',
    signature: '08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01',
  },
  {
    name: 'get-header-value-trim',
    method: 'GET',
    path: '/',
    query: '',
    headers: [
      ['My-Header1', 'value1'],
      ['My-Header2', '"a   b   c"'],
    ],
    body: '',
    signedHeaders: 'host;my-header1;my-header2;x-amz-date',
    signature: 'acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736',
  },
  {
    name: 'post-vanilla',
    method: 'POST',
    path: '/',
    query: '',
    headers: [],
    body: '',
    signedHeaders: 'host;x-amz-date',
    signature: '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b',
  },
  {
    name: 'post-vanilla-query',
    method: 'POST',
    path: '/',
    query: 'Param1=value1',
    headers: [],
    body: '',
    signedHeaders: 'host;x-amz-date',
    signature: '28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11',
  },
  {
    name: 'post-header-key-sort',
    method: 'POST',
    path: '/',
    query: '',
    headers: [['My-Header1', 'value1']],
    body: '',
    signedHeaders: 'host;my-header1;x-amz-date',
    signature: 'c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c',
  },
  {
    name: 'post-header-value-case',
    method: 'POST',
    path: '/',
    query: '',
    headers: [['My-Header1', 'VALUE1']],
    body: '',
    signedHeaders: 'host;my-header1;x-amz-date',
    signature: 'cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d',
  },
  {
    name: 'post-x-www-form-urlencoded',
    method: 'POST',
    path: '/',
    query: '',
    headers: [
      ['Content-Type', 'application/x-www-form-urlencoded'],
      ['Content-Length', '13'],
    ],
    body: 'Param1=value1',
    signedHeaders: 'content-type;host;x-amz-date',
    signature: 'ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a',
  },
  {
    name: 'post-x-www-form-urlencoded-parameters',
    method: 'POST',
    path: '/',
    query: '',
    headers: [
      ['Content-Type', 'application/x-www-form-urlencoded; charset=utf8'],
      ['Content-Length', '13'],
    ],
    body: 'Param1=value1',
    signedHeaders: 'content-type;host;x-amz-date',
    signature: '1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe',
  },
  {
    name: 'post-header-key-case',
    method: 'POST',
    path: '/',
    query: '',
    headers: [],
    body: '',
    signedHeaders: 'host;x-amz-date',
    signature: '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b',
  },
  {
    name: 'post-vanilla-empty-query-value',
    method: 'POST',
    path: '/',
    query: 'Param1=value1',
    headers: [],
    body: '',
    signedHeaders: 'host;x-amz-date',
    signature: '28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11',
  },
  {
    // Reserved and other non-unreserved characters, `:` among them, in keys and values. The suite writes
    // them raw; a client sends them percent-encoded, as here: the canonical query is the same.
    name: 'post-vanilla-query-nonunreserved',
    method: 'POST',
    path: '/',
    query: '%40%23%24%25%5E=&%2B=%2F%2C%3F%3E%3C%60%22%3B%3A%5C%7C%5D%5B%7B%7D',
    headers: [],
    body: '',
    signedHeaders: 'host;x-amz-date',
    signature: '66c82657c86e26fb25238d0e69f011edc4c6df5ae71119d7cb98ed9b87393c1e',
  },
  {
    // A space in the path, encoded once more by the canonicalization (verifier level: on the wire a
    // client sends %20).
    name: 'get-space',
    method: 'GET',
    path: '/example space/',
    query: '',
    headers: [],
    body: '',
    signedHeaders: 'host;x-amz-date',
    signature: '652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741',
  },
];

/** Suite cases that do not apply to a request through API Gateway, and why (docs/LOCAL-STACK.md). */
const NOT_APPLICABLE: Readonly<Record<string, string>> = {
  'get-relative': 'a path with `..` segments is refused with 404 before the signature is checked',
  'get-relative-relative': 'a path with `..` segments is refused with 404',
  'get-slash': 'a path with empty segments is refused with 404',
  'get-slashes': 'a path with empty segments is refused with 404',
  'get-slash-dot-slash': 'a path with `.` segments is refused with 404',
  'get-slash-pointless-dot': 'a path with `.` segments is refused with 404',
  'post-vanilla-query-space': 'a raw space cannot appear in an HTTP/1.1 request target',
  'get-header-value-multiline': 'obsolete line folding is refused by the HTTP parser (RFC 9112 §5.2)',
  'post-sts-header-after': 'session tokens are refused (local credentials are long-term keys)',
  'post-sts-header-before': 'session tokens are refused (local credentials are long-term keys)',
};

/** The request as the gateway hands it to the verifier: lower-case names, repeated values joined by `,`. */
function incoming(suiteCase: SuiteCase, signature: string) {
  const headers: Record<string, string> = Object.create(null);
  for (const [name, value] of [['Host', HOST], ['X-Amz-Date', DATE], ...suiteCase.headers] as const) {
    const lower = name.toLowerCase();
    headers[lower] = lower in headers ? `${headers[lower]},${value}` : value;
  }
  headers['authorization'] =
    `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY_ID}/20150830/us-east-1/service/aws4_request, ` +
    `SignedHeaders=${suiteCase.signedHeaders}, Signature=${signature}`;
  return {
    method: suiteCase.method,
    rawPath: suiteCase.path,
    query: signingQuery(parseQuery(suiteCase.query)),
    headers,
    body: Buffer.from(suiteCase.body, 'utf8'),
  };
}

function suiteVerifier(): SigV4Verifier {
  return new SigV4Verifier({
    region: 'us-east-1',
    service: 'service',
    secretFor: (accessKeyId) => (accessKeyId === ACCESS_KEY_ID ? SECRET : undefined),
    now: () => SIGNING_TIME,
  });
}

describe('Class: SigV4Verifier', () => {
  describe('Method: verify', () => {
    describe('when given the requests of the AWS SigV4 test suite with their published signatures', () => {
      it.each(SUITE.map((suiteCase) => [suiteCase.name, suiteCase] as const))(
        'accepts %s',
        async (_name, suiteCase) => {
          // Act
          const caller = await suiteVerifier().verify(incoming(suiteCase, suiteCase.signature));

          // Assess
          expect(caller).toEqual({ accessKeyId: ACCESS_KEY_ID });
        },
      );

      it('lists each suite case once: run, or set aside with a reason', () => {
        // Assess
        const names = [...SUITE.map((c) => c.name), ...Object.keys(NOT_APPLICABLE)];
        expect(new Set(names).size).toBe(names.length);
        for (const reason of Object.values(NOT_APPLICABLE)) expect(reason).not.toBe('');
      });
    });

    describe('when a suite request carries a signature that is one bit off', () => {
      it.each(SUITE.map((suiteCase) => [suiteCase.name, suiteCase] as const))(
        'refuses %s with INVALID_SIGNATURE',
        async (_name, suiteCase) => {
          // Prepare
          const last = Number.parseInt(suiteCase.signature.at(-1)!, 16);
          const forged = `${suiteCase.signature.slice(0, -1)}${(last ^ 1).toString(16)}`;

          // Act
          const result = suiteVerifier().verify(incoming(suiteCase, forged));

          // Assess
          await expect(result).rejects.toBeInstanceOf(GatewayError);
          await expect(result).rejects.toMatchObject({ code: 'INVALID_SIGNATURE' });
        },
      );
    });

    describe('when a suite request is changed after it was signed', () => {
      it.each([
        ['a query value', 'get-vanilla-query-order-value', { query: 'Param1=value2&Param1=value3' }],
        ['a repeated key dropped', 'get-vanilla-query-order-value', { query: 'Param1=value2' }],
        ['the path', 'get-utf8', { path: '/%E1%88%B4' }],
      ] as const)('refuses a changed %s', async (_name, caseName, change) => {
        // Prepare
        const base = SUITE.find((c) => c.name === caseName)!;
        const changed = { ...base, ...change };

        // Act
        const result = suiteVerifier().verify(incoming(changed, base.signature));

        // Assess
        await expect(result).rejects.toMatchObject({ code: 'INVALID_SIGNATURE' });
      });
    });
  });
});
