import net from 'node:net';
import fc from 'fast-check';
import { parseIfMatch } from '../../src/memos/schema';

/*
 * Generators of bad HTTP requests for the memo service, and a raw sender that can put them on
 * the wire exactly as generated: bytes that are not UTF-8, bodies cut short, a Content-Length
 * that lies, methods fetch refuses. Each generated request says which answers are acceptable,
 * so the suite can check every one of thousands of them the same way.
 */

export type Category =
  | 'malformed-json'
  | 'wrong-types'
  | 'huge-strings'
  | 'deep-nesting'
  | 'invalid-utf8'
  | 'injection'
  | 'bad-ids'
  | 'bad-query'
  | 'oversized'
  | 'methods-and-types'
  | 'bad-if-match'
  | 'odd-headers';

export interface BadRequest {
  readonly category: Category;
  /** What was generated, short, for the failure report. */
  readonly label: string;
  readonly method: string;
  /** The request target as sent; a latin1 string, so it can carry any byte. */
  readonly target: string;
  /** Header lines as sent (latin1); Host and Connection: close are added unless given here. */
  readonly headers: readonly (readonly [string, string])[];
  /** The body, built when sent so that 10,000 requests are not all held in memory at once. */
  readonly body?: () => Buffer;
  /** A Content-Length other than the body's real length, or chunked transfer without one. */
  readonly contentLength?: number | 'chunked';
  /** Half-close the socket after writing: the body announced never comes. */
  readonly cutShort?: boolean;
  /** The statuses a correct service may answer. */
  readonly allowed: readonly number[];
  /**
   * Node's HTTP parser may refuse the bytes before the app sees them. The server's clientError
   * listener then answers 400, 408, 413 or 431 as a problem and closes: statuses that are
   * allowed for such a request besides `allowed`.
   */
  readonly parserMayReject?: boolean;
  /**
   * The server may close without an answer being read: an oversized upload it stopped reading
   * (the unread bytes make the kernel reset the connection, which can overtake the 413), or a
   * CONNECT, which this server does not tunnel.
   */
  readonly closeAllowed?: boolean;
}

export interface RawResponse {
  /** 0 when no response was read (reset, closed, timed out). */
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** Why no response was read (status 0), or 'timeout'. */
  readonly error?: string;
}

/** Memos the generators may aim at: requests to them must never change them. */
export interface Targets {
  readonly victimIds: readonly number[];
}

export const BODY_LIMIT = 80 * 1024;

/* ----------------------------------------------------------------------------------------------
 * Hostile strings
 * --------------------------------------------------------------------------------------------*/

/** SQL, script, template, path and header injection attempts. */
export const INJECTIONS: readonly string[] = [
  "' OR '1'='1",
  "'; DROP TABLE memos; --",
  '1; DELETE FROM memos',
  '" OR ""="',
  "1' UNION SELECT user, password FROM mysql.user -- ",
  "'; UPDATE memos SET title='pwned' WHERE '1'='1",
  "%' OR 1=1 #",
  "\\'; TRUNCATE memo_tags; --",
  '1 AND SLEEP(5)',
  "'||(SELECT version())||'",
  "admin'/*",
  '`memos`; SHOW TABLES',
  "1; INSERT INTO outbox VALUES (1,'x',1,'memo_deleted','{}',NOW(),NULL)",
  '${7*7}',
  '{{7*7}}',
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  'javascript:alert(1)',
  '../../../../etc/passwd',
  '..%2f..%2fetc%2fpasswd',
  '%00',
  "$where: '1 == 1'",
  '{"$gt": ""}',
  '__proto__',
  'constructor.prototype.polluted',
  '() { :; }; echo pwned',
  '| cat /etc/passwd',
  '\r\nSet-Cookie: pwned=1',
  'SELECT * FROM outbox',
  "메모'; DROP TABLE memo_tokens; --",
];

const injection = fc.constantFrom(...INJECTIONS);

/* ----------------------------------------------------------------------------------------------
 * Memo bodies
 * --------------------------------------------------------------------------------------------*/

const validTitle = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 .,!?-]{0,40}$/),
  fc.constantFrom('회의록', 'メモ', 'naïve café', '🙂 emoji'),
);
const validFields = fc.record(
  {
    title: validTitle,
    content: fc.string({ maxLength: 200 }),
    tags: fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/), { maxLength: 5 }),
    priority: fc.integer({ min: 1, max: 4 }),
    category: fc.option(fc.stringMatching(/^[a-z]{1,10}$/), { nil: null }),
    author: fc.option(fc.stringMatching(/^[a-z]{1,10}$/), { nil: null }),
  },
  { requiredKeys: ['title'] },
);

/** A value of the wrong type (or out of range) for each field. */
const wrongValue: Record<string, fc.Arbitrary<unknown>> = {
  title: fc.oneof(
    fc.constant(null),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.array(fc.string(), { maxLength: 3 }),
    fc.object({ maxDepth: 1 }),
    fc.constantFrom('', '   ', '\t', 'line\nbreak', 'nul\u0000byte', 'x'.repeat(201)),
  ),
  content: fc.oneof(
    fc.constant(null),
    fc.integer(),
    fc.boolean(),
    fc.array(fc.string(), { maxLength: 3 }),
    fc.object({ maxDepth: 1 }),
  ),
  tags: fc.oneof(
    fc.constant(null),
    fc.string(),
    fc.integer(),
    fc.object({ maxDepth: 1 }),
    fc.array(fc.oneof(fc.integer(), fc.constant(null), fc.boolean(), fc.array(fc.string())), {
      minLength: 1,
      maxLength: 4,
    }),
    fc.constantFrom([''], ['  '], ['a\nb'], ['ok', 7]),
  ),
  priority: fc.oneof(
    fc.constant(null),
    fc.integer({ min: -1_000_000, max: 0 }),
    fc.integer({ min: 5, max: 1_000_000 }),
    fc.double({ noInteger: true }),
    fc.constantFrom('1', '2', 'high', true, [], {}, 1.5, 2 ** 53, -0.5, 1e308),
  ),
  category: fc.oneof(
    fc.integer(),
    fc.boolean(),
    fc.array(fc.string(), { maxLength: 2 }),
    fc.object({ maxDepth: 1 }),
    fc.constantFrom('', ' ', 'a\tb'),
  ),
  author: fc.oneof(
    fc.integer(),
    fc.boolean(),
    fc.array(fc.string(), { maxLength: 2 }),
    fc.object({ maxDepth: 1 }),
    fc.constantFrom('', ' ', 'a\rb'),
  ),
};

const FIELDS = Object.keys(wrongValue);

/** A memo object with one or more fields of the wrong type, or unknown fields. */
const wrongTypesBody: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.tuple(validFields, fc.subarray(FIELDS, { minLength: 1 })).chain(([base, broken]) =>
    fc.tuple(...broken.map((f) => wrongValue[f].map((v) => [f, v] as const))).map((pairs) => {
      const out: Record<string, unknown> = { ...base };
      for (const [f, v] of pairs) out[f] = v;
      return out;
    }),
  ),
  fc
    .tuple(
      validFields,
      fc.constantFrom('__proto__', 'constructor', 'id', 'version', 'created_at', 'Title', 'title ', ''),
      fc.jsonValue({ maxDepth: 1 }),
    )
    .map(([base, key, value]) => {
      // JSON.parse makes "__proto__" an own key; build the text the same way.
      const out: Record<string, unknown> = { ...base };
      Object.defineProperty(out, key, { value, enumerable: true, configurable: true, writable: true });
      return out;
    }),
);

/** Over one of the limits, but within the body size limit (or just above it). */
const hugeStringsBody: fc.Arbitrary<{ label: string; build: () => Record<string, unknown> }> = fc.oneof(
  fc
    .integer({ min: 201, max: 20_000 })
    .map((n) => ({ label: `title ${n} chars`, build: () => ({ title: 'T'.repeat(n) }) })),
  fc
    .integer({ min: 65_537, max: 79_000 })
    .map((n) => ({ label: `content ${n} bytes`, build: () => ({ title: 't', content: 'c'.repeat(n) }) })),
  fc.integer({ min: 21_846, max: 26_000 }).map((n) => ({
    // 3 UTF-8 bytes each: over 64 KiB in bytes with fewer characters than that.
    label: `content ${n} x 3-byte chars`,
    build: () => ({ title: 't', content: '한'.repeat(n) }),
  })),
  fc
    .integer({ min: 51, max: 5_000 })
    .map((n) => ({ label: `tag ${n} chars`, build: () => ({ title: 't', tags: ['g'.repeat(n)] }) })),
  fc.integer({ min: 21, max: 2_000 }).map((n) => ({
    label: `${n} tags`,
    build: () => ({ title: 't', tags: Array.from({ length: n }, (_, i) => `t${i}`) }),
  })),
  fc
    .integer({ min: 51, max: 5_000 })
    .map((n) => ({ label: `category ${n} chars`, build: () => ({ title: 't', category: 'k'.repeat(n) }) })),
  fc
    .integer({ min: 101, max: 5_000 })
    .map((n) => ({ label: `author ${n} chars`, build: () => ({ title: 't', author: 'a'.repeat(n) }) })),
  fc
    .integer({ min: 51, max: 400 })
    .map((n) => ({ label: `title ${n} emoji`, build: () => ({ title: '🙂'.repeat(n * 4) }) })),
);

/** Text of JSON nested `depth` levels deep, as a whole body or inside a field. */
function nested(depth: number, open: string, close: string, inner: string): string {
  return open.repeat(depth) + inner + close.repeat(depth);
}

/* ----------------------------------------------------------------------------------------------
 * Request helpers
 * --------------------------------------------------------------------------------------------*/

const JSON_CT = ['Content-Type', 'application/json'] as const;
const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');
/** A string of raw bytes, as the latin1 form the sender writes byte for byte. */
const bytes = (b: Buffer): string => b.toString('latin1');

const writeMethods = fc.constantFrom('POST', 'PUT', 'PATCH');

/**
 * Where a body goes: POST to the collection, or PUT/PATCH to a memo that must not change, with
 * an If-Match that cannot match (version 1 is current; 999999 never is) or none (428): so an
 * accidentally valid body is refused too, and the memos stay as they were.
 */
function bodyTarget(
  targets: Targets,
): fc.Arbitrary<{ method: string; target: string; headers: [string, string][] }> {
  return fc
    .tuple(writeMethods, fc.constantFrom(...targets.victimIds), fc.boolean())
    .map(([method, id, withEtag]) =>
      method === 'POST'
        ? { method, target: '/api/memos', headers: [] }
        : { method, target: `/api/memos/${id}`, headers: withEtag ? [['If-Match', '"999999"']] : [] },
    );
}

/** Statuses for a body that must be refused: 412/428 only where an If-Match decides. */
const refusedBody = (method: string, extra: readonly number[] = []): number[] =>
  method === 'POST' ? [400, ...extra] : [400, 412, 428, ...extra];

/* ----------------------------------------------------------------------------------------------
 * Categories
 * --------------------------------------------------------------------------------------------*/

function malformedJson(targets: Targets): fc.Arbitrary<BadRequest> {
  const text = fc.oneof(
    // A valid memo cut anywhere before its end: every strict prefix of an object is invalid.
    validFields.chain((memo) => {
      const full = JSON.stringify(memo);
      return fc.integer({ min: 0, max: full.length - 1 }).map((n) => full.slice(0, n));
    }),
    fc.constantFrom(
      '{',
      '}',
      '{"title": "x",}',
      "{'title': 'x'}",
      '{"title": "x" "content": "y"}',
      '{"title": NaN}',
      '{"title": Infinity}',
      '{"title": undefined}',
      '{"title": "x"} trailing',
      '{"title": "x"}{"title": "y"}',
      '/* comment */ {"title": "x"}',
      '{"title": "\\x41"}',
      '{"title": "\\u12"}',
      '{"title": "unterminated}',
      '{"title": 01}',
      '{title: "x"}',
      'null',
      'true',
      '[]',
      '"just a string"',
      '42',
    ),
    // Printable noise; what is still JSON is not a memo object.
    fc.string({ maxLength: 200 }),
    fc.json({ maxDepth: 2 }).filter((s) => !s.startsWith('{')),
  );
  return fc.tuple(bodyTarget(targets), text).map(([t, body]) => ({
    category: 'malformed-json',
    label: `${t.method} ${JSON.stringify(body.slice(0, 80))}`,
    ...t,
    headers: [JSON_CT, ...t.headers],
    body: () => utf8(body),
    allowed: refusedBody(t.method),
  }));
}

function wrongTypes(targets: Targets): fc.Arbitrary<BadRequest> {
  return fc.tuple(bodyTarget(targets), wrongTypesBody).map(([t, memo]) => {
    const text = JSON.stringify(memo);
    return {
      category: 'wrong-types',
      label: `${t.method} ${text.slice(0, 120)}`,
      ...t,
      headers: [JSON_CT, ...t.headers],
      body: () => utf8(text),
      allowed: refusedBody(t.method),
    };
  });
}

function hugeStrings(targets: Targets): fc.Arbitrary<BadRequest> {
  return fc.tuple(bodyTarget(targets), hugeStringsBody).map(([t, huge]) => ({
    category: 'huge-strings',
    label: `${t.method} ${huge.label}`,
    ...t,
    headers: [JSON_CT, ...t.headers],
    body: () => utf8(JSON.stringify(huge.build())),
    // Escaping can take a body just over the byte limit.
    allowed: refusedBody(t.method, [413]),
  }));
}

function deepNesting(targets: Targets): fc.Arbitrary<BadRequest> {
  return fc
    .tuple(
      bodyTarget(targets),
      fc.integer({ min: 50, max: 39_000 }),
      fc.constantFrom('array body', 'object body', 'in title', 'in tags', 'in content', 'unbalanced'),
    )
    .map(([t, depth, where]) => {
      const build = (): string => {
        switch (where) {
          case 'array body':
            return nested(depth, '[', ']', '1');
          case 'object body':
            return nested(depth, '{"a":', '}', '1');
          case 'in title':
            return `{"title":${nested(depth, '[', ']', '"x"')}}`;
          case 'in tags':
            return `{"title":"t","tags":${nested(depth, '[', ']', '"x"')}}`;
          case 'in content':
            return `{"title":"t","content":${nested(Math.floor(depth / 5), '{"c":', '}', '"x"')}}`;
          default:
            return '['.repeat(depth) + ']'.repeat(Math.floor(depth / 2));
        }
      };
      return {
        category: 'deep-nesting' as const,
        label: `${t.method} depth ${depth} ${where}`,
        ...t,
        headers: [JSON_CT, ...t.headers],
        body: () => utf8(build()),
        allowed: refusedBody(t.method, [413]),
        // Deep enough to pass the body limit, it is an oversized upload too: the server may
        // stop reading and the reset can overtake its 413 (seen: depth 15,338, EPIPE).
        closeAllowed: build().length > BODY_LIMIT,
      };
    });
}

const INVALID_UTF8: readonly (readonly number[])[] = [
  [0xff],
  [0xfe, 0xff],
  [0xc0, 0x80], // overlong NUL
  [0xe0, 0x80, 0xaf], // overlong '/'
  [0xed, 0xa0, 0x80], // a UTF-16 surrogate encoded as UTF-8
  [0x80], // lone continuation byte
  [0xe2, 0x82], // truncated 3-byte sequence
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0xf0, 0x9f, 0x98], // truncated emoji
];

function invalidUtf8(targets: Targets): fc.Arbitrary<BadRequest> {
  const bad = fc
    .array(fc.constantFrom(...INVALID_UTF8), { minLength: 1, maxLength: 4 })
    // An 'x' after each: two cut sequences side by side can make a valid character (e2 82 + 80).
    .map((seqs) => Buffer.from(seqs.flatMap((seq) => [...seq, 0x78])));
  const inBody = fc
    .tuple(bodyTarget(targets), bad, fc.constantFrom('title', 'content', 'tags', 'key'))
    .map(([t, b, where]): BadRequest => {
      const parts: Buffer[] =
        where === 'key'
          ? [utf8('{"'), b, utf8('":"x","title":"t"}')]
          : where === 'tags'
            ? [utf8('{"title":"t","tags":["'), b, utf8('"]}')]
            : [utf8(`{"title":"t","${where}":"ok `), b, utf8(' ok"}')];
      const body = Buffer.concat(where === 'title' ? [utf8('{"title":"'), b, utf8('"}')] : parts);
      return {
        category: 'invalid-utf8',
        label: `${t.method} body ${where} bytes ${b.toString('hex')}`,
        ...t,
        headers: [JSON_CT, ...t.headers],
        body: () => body,
        allowed: refusedBody(t.method),
      };
    });
  // Lone surrogates written as JSON escapes are valid JSON but not text that has a UTF-8 form.
  const escapes = fc
    .tuple(
      bodyTarget(targets),
      fc.integer({ min: 0xd800, max: 0xdfff }),
      fc.constantFrom('title', 'content', 'tags', 'author'),
    )
    .map(([t, unit, where]): BadRequest => {
      const esc = `\\u${unit.toString(16)}`;
      const text =
        where === 'tags'
          ? `{"title":"t","tags":["${esc}","x${esc}"]}`
          : where === 'title'
            ? `{"title":"a${esc}"}`
            : `{"title":"t","${where}":"${esc}"}`;
      return {
        category: 'invalid-utf8',
        label: `${t.method} ${text}`,
        ...t,
        headers: [JSON_CT, ...t.headers],
        body: () => utf8(text),
        allowed: refusedBody(t.method),
      };
    });
  const inQuery = fc
    .tuple(bad, fc.constantFrom('q', 'tag', 'author', 'category', 'cursor', 'limit'), fc.boolean())
    .map(([b, key, encoded]): BadRequest => ({
      category: 'invalid-utf8',
      label: `GET ?${key}= bytes ${b.toString('hex')} ${encoded ? 'percent-encoded' : 'raw'}`,
      method: 'GET',
      target: `/api/memos?${key}=${encoded ? [...b].map((x) => `%${x.toString(16).toUpperCase()}`).join('') : bytes(b)}`,
      headers: [],
      allowed: [200, 400],
      parserMayReject: !encoded,
    }));
  const inPathOrHeader = fc
    .tuple(
      bad,
      fc.constantFrom('id', 'id-encoded', 'if-match', 'request-id', 'content-type'),
      fc.constantFrom(...targets.victimIds),
    )
    .map(([b, where, id]): BadRequest => {
      const hex = b.toString('hex');
      switch (where) {
        case 'id':
          return {
            category: 'invalid-utf8',
            label: `GET id bytes ${hex}`,
            method: 'GET',
            target: `/api/memos/1${bytes(b)}`,
            headers: [],
            allowed: [400],
            parserMayReject: true,
          };
        case 'id-encoded':
          return {
            category: 'invalid-utf8',
            label: `DELETE id %-bytes ${hex}`,
            method: 'DELETE',
            target: `/api/memos/${[...b].map((x) => `%${x.toString(16)}`).join('')}`,
            headers: [],
            allowed: [400],
          };
        case 'if-match':
          return {
            category: 'invalid-utf8',
            label: `PATCH If-Match bytes ${hex}`,
            method: 'PATCH',
            target: `/api/memos/${id}`,
            headers: [JSON_CT, ['If-Match', `"${bytes(b)}"`]],
            body: () => utf8('{"title":"never stored"}'),
            // Bytes 0x80-0xFF are obs-text, allowed inside an entity-tag (RFC 9110 8.8.3): such a
            // tag is well formed and matches no version, 412; a control byte makes it a 400.
            allowed: [400, 412],
            parserMayReject: true,
          };
        case 'request-id':
          return {
            category: 'invalid-utf8',
            label: `GET X-Request-Id bytes ${hex}`,
            method: 'GET',
            target: '/api/tags',
            headers: [['X-Request-Id', bytes(b)]],
            allowed: [200],
            parserMayReject: true,
          };
        default:
          return {
            category: 'invalid-utf8',
            label: `POST Content-Type bytes ${hex}`,
            method: 'POST',
            target: '/api/memos',
            headers: [['Content-Type', `application/json; charset=${bytes(b)}`]],
            body: () => utf8('{"title":"charset"}'),
            allowed: [201, 400, 415],
            parserMayReject: true,
          };
      }
    });
  return fc.oneof(inBody, escapes, inQuery, inPathOrHeader);
}

function injectionRequests(targets: Targets): fc.Arbitrary<BadRequest> {
  const victim = fc.constantFrom(...targets.victimIds);
  return fc.oneof(
    // As data in a memo that is created: stored verbatim or refused, never run.
    fc
      .tuple(injection, fc.constantFrom('title', 'content', 'tags', 'category', 'author'))
      .map(([s, field]): BadRequest => {
        const memo: Record<string, unknown> = { title: 'injection as data' };
        memo[field] = field === 'tags' ? [s] : s;
        return {
          category: 'injection',
          label: `POST ${field}=${JSON.stringify(s)}`,
          method: 'POST',
          target: '/api/memos',
          headers: [JSON_CT],
          body: () => utf8(JSON.stringify(memo)),
          // 400 where the string breaks a field rule (control characters, too long).
          allowed: [201, 400],
        };
      }),
    // Into a memo that must not change: the If-Match never matches.
    fc.tuple(injection, victim, fc.constantFrom('PUT', 'PATCH')).map(([s, id, method]): BadRequest => ({
      category: 'injection',
      label: `${method} ${id} title=${JSON.stringify(s)}`,
      method,
      target: `/api/memos/${id}`,
      headers: [JSON_CT, ['If-Match', '"999999"']],
      body: () => utf8(JSON.stringify({ title: s, content: s })),
      allowed: [400, 412],
    })),
    // As the id.
    fc
      .tuple(injection, fc.constantFrom('GET', 'PUT', 'PATCH', 'DELETE'), fc.boolean())
      .map(([s, method, encode]): BadRequest => ({
        category: 'injection',
        label: `${method} id ${JSON.stringify(s)} ${encode ? 'encoded' : 'raw'}`,
        method,
        target: `/api/memos/${encode ? encodeURIComponent(s) : `1${s.replace(/ /g, '%20')}`}`,
        headers: method === 'PUT' || method === 'PATCH' ? [JSON_CT, ['If-Match', '"999999"']] : [],
        body: method === 'PUT' || method === 'PATCH' ? () => utf8('{"title":"never stored"}') : undefined,
        // A raw "../.." or "/" leaves the route: 404, or 405 where it lands on the collection.
        // A raw CR or LF ends the request line after "/api/memos/1", so the server answers for
        // memo 1 (404 here, as the suite's ids start far above it); judge() checks that nothing
        // after the line break came back as a response header.
        allowed: [400, 404, 405],
      })),
    // In query parameters, known and unknown.
    fc
      .tuple(
        injection,
        fc.constantFrom(
          'q',
          'tag',
          'category',
          'author',
          'cursor',
          'limit',
          'priority',
          'sort',
          "id' OR 1=1",
        ),
      )
      .map(([s, key]): BadRequest => ({
        category: 'injection',
        label: `GET ?${key}=${JSON.stringify(s)}`,
        method: 'GET',
        target: `/api/memos?${encodeURIComponent(key)}=${encodeURIComponent(s)}`,
        headers: [],
        allowed: [200, 400],
      })),
    // In headers the service reads.
    fc
      .tuple(
        injection,
        fc.constantFrom(
          'If-Match',
          'If-None-Match',
          'X-Request-Id',
          'X-Forwarded-For',
          'Content-Type',
          'Origin',
          'Cookie',
          'Accept',
        ),
        victim,
      )
      .map(([s, header, id]): BadRequest => {
        // A header value cannot hold CR/LF: drop them rather than write a second header line.
        const value = s.replace(/[\r\n]/g, ' ');
        const write = header === 'If-Match' || header === 'Content-Type';
        return {
          category: 'injection',
          label: `${write ? 'PATCH' : 'GET'} ${header}: ${JSON.stringify(value)}`,
          method: write ? 'PATCH' : 'GET',
          target: `/api/memos/${id}`,
          headers: write
            ? [
                [
                  header === 'If-Match' ? 'Content-Type' : 'If-Match',
                  header === 'If-Match' ? 'application/json' : '"999999"',
                ],
                [header, value],
              ]
            : [[header, value]],
          body: write ? () => utf8('{"title":"never stored"}') : undefined,
          allowed: write ? [400, 412, 415] : [200, 304],
          parserMayReject: /[\u0000-\u0008\u000a-\u001f\u007f]/.test(value),
        };
      }),
  );
}

/** Ids no memo of the suite can have: the suite starts its ids far above these. */
const missingId = fc.oneof(
  fc.integer({ min: 1, max: 1_000_000_000 }),
  fc.integer({ min: 9e15, max: Number.MAX_SAFE_INTEGER }),
);

function badIds(): fc.Arbitrary<BadRequest> {
  const invalid = fc.oneof(
    fc.integer({ min: -1e15, max: 0 }).map(String),
    fc.double({ noInteger: true, noNaN: true }).map(String),
    fc.bigInt({ min: 2n ** 53n, max: 2n ** 80n }).map(String),
    fc.constantFrom(
      '9007199254740992',
      '9007199254740993',
      '18446744073709551615',
      '18446744073709551616',
      '1e3',
      '0x10',
      '007',
      '+5',
      '5.',
      '.5',
      '1_000',
      '1,000',
      '%201',
      '1%20',
      '%2B1',
      '١٢٣',
      '１２３',
      'NaN',
      'Infinity',
      'null',
      'undefined',
      'true',
      '[1]',
      '%7B%7D',
      '%2F',
      '1%2F2',
      '%2e%2e',
      '..%2F..%2Fetc%2Fpasswd',
      '%252e%252e',
      '.',
      '..',
      '%00',
      '1%00',
      '~',
      '*',
      '%2A',
    ),
    fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_-]{0,30}$/),
  );
  const unrouted = fc.constantFrom(
    '1/2',
    '1/',
    '../tags',
    './1',
    '1/../1',
    '1?x=%ZZ',
    '1#frag',
    '1;jsessionid=x',
    '//1',
  );
  const methodFor = fc.constantFrom('GET', 'PUT', 'PATCH', 'DELETE', 'HEAD');
  return fc.oneof(
    fc
      .tuple(invalid, methodFor)
      .map(([id, method]): BadRequest =>
        request('bad-ids', method, `/api/memos/${id}`, `${method} id ${id}`, [400]),
      ),
    fc
      .tuple(unrouted, methodFor)
      .map(([id, method]): BadRequest =>
        request(
          'bad-ids',
          method,
          `/api/memos/${id}`,
          `${method} id ${id}`,
          [200, 304, 400, 404, 405, 412, 428],
        ),
      ),
    // Well formed but absent: 404 (PUT/PATCH: 404 once the If-Match and body are fine).
    fc
      .tuple(missingId, methodFor)
      .map(([id, method]): BadRequest =>
        request('bad-ids', method, `/api/memos/${id}`, `${method} missing id ${id}`, [404]),
      ),
  );
}

/** A request whose body, if it has one, is a valid memo under a never-matching If-Match. */
function request(
  category: Category,
  method: string,
  target: string,
  label: string,
  allowed: readonly number[],
): BadRequest {
  const hasBody = method === 'PUT' || method === 'PATCH' || method === 'POST';
  return {
    category,
    label,
    method,
    target,
    headers: hasBody ? [JSON_CT, ['If-Match', '"999999"']] : [],
    body: hasBody ? () => utf8('{"title":"never stored"}') : undefined,
    allowed,
  };
}

const QUERY_KEYS = [
  'limit',
  'cursor',
  'priority',
  'tag',
  'category',
  'author',
  'q',
  'sort',
  'order',
  'offset',
  'page',
];

function badQuery(): fc.Arbitrary<BadRequest> {
  const cursorOf = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  const value = fc.oneof(
    fc.constantFrom(
      '',
      '0',
      '-1',
      '101',
      '1.5',
      '1e2',
      '0x10',
      ' 1',
      '1 ',
      '%201',
      '99999999999999999999',
      '1,2',
      'NaN',
      'null',
      '%00',
      '%0A',
      'a%0Db',
      '%ZZ',
      '%E0%A4%A',
      '%',
      'x'.repeat(201),
      '%20%20%20',
      'desc',
      'created_at;DROP TABLE memos',
      cursorOf({ v: 1, after: -1 }),
      cursorOf({ v: 1, after: 2 ** 53 }),
      cursorOf({ v: 1, after: 1.5 }),
      cursorOf({ v: 2, after: 1 }),
      cursorOf({ v: 1 }),
      cursorOf([1]),
      cursorOf('x'),
      'eyJ2IjoxLCJhZnRlciI6MX0', // {"v":1,"after":1}: a well-formed cursor is fine
      '====',
    ),
    fc.string({ maxLength: 60 }).map(encodeURIComponent),
    fc
      .string({ maxLength: 60, unit: 'binary' })
      .map((s) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, ''))),
    fc.integer().map(String),
    fc.base64String({ maxLength: 40 }),
  );
  const key = fc.oneof(
    fc.constantFrom(...QUERY_KEYS),
    fc.constantFrom('tag[]', 'q[a]', 'limit[0]', '__proto__', 'constructor', '', '%00', 'LIMIT', 'Tag'),
    fc.stringMatching(/^[a-z]{1,8}$/),
  );
  // Spaces encoded: a raw space would end the request line, and Node would refuse it unread.
  const spaced = value.map((v) => v.replace(/ /g, '%20'));
  const pairs = fc.array(fc.tuple(key, spaced), { minLength: 1, maxLength: 6 });
  return fc
    .tuple(pairs, fc.constantFrom('/api/memos', '/api/memos', '/api/memos', '/api/tags'))
    .map(([ps, path]): BadRequest => {
      const qs = ps.map(([k, v]) => `${k}=${v}`).join('&');
      return {
        category: 'bad-query',
        label: `GET ${path}?${qs.slice(0, 160)}`,
        method: 'GET',
        target: `${path}?${qs}`,
        headers: [],
        // Both routes refuse parameters they do not know (/api/tags takes limit and cursor).
        allowed: [200, 400],
      };
    });
}

function oversized(targets: Targets): fc.Arbitrary<BadRequest> {
  return fc
    .tuple(
      bodyTarget(targets),
      fc.integer({ min: BODY_LIMIT + 1, max: 1024 * 1024 }),
      fc.constantFrom('honest length', 'chunked', 'declared huge, small body', 'declared small, big body'),
    )
    .map(([t, size, how]): BadRequest => {
      const prefix = '{"title":"big","content":"';
      const body = (): Buffer => {
        if (how === 'declared huge, small body') return utf8('{"title":"small"}');
        const b = Buffer.alloc(size, 0x78);
        b.write(prefix, 0, 'utf8');
        b.write('"}', size - 2, 'utf8');
        return b;
      };
      return {
        category: 'oversized',
        label: `${t.method} ${size} bytes, ${how}`,
        ...t,
        headers: [JSON_CT, ...t.headers],
        body,
        contentLength:
          how === 'chunked'
            ? 'chunked'
            : how === 'declared huge, small body'
              ? 1024 ** 3
              : how === 'declared small, big body'
                ? 40
                : undefined,
        // "declared huge": the server answers 413 from the header alone, without waiting for the
        // gigabyte. "declared small": the first 40 bytes are a cut JSON text (400), and what
        // follows is not HTTP (a parser 400, or a reset while the client still writes).
        allowed: how === 'declared small, big body' ? refusedBody(t.method) : [413],
        parserMayReject: how === 'declared small, big body',
        closeAllowed: true,
      };
    });
}

const ODD_METHODS = [
  'PROPFIND',
  'PROPPATCH',
  'MKCOL',
  'COPY',
  'MOVE',
  'LOCK',
  'UNLOCK',
  'TRACE',
  'SEARCH',
  'REPORT',
  'PURGE',
  'LINK',
  'UNLINK',
  'MERGE',
  'NOTIFY',
  'SUBSCRIBE',
  'M-SEARCH',
  'ACL',
  'BIND',
  'QUERY',
];
const PATHS = [
  '/api/memos',
  '/api/memos/1',
  '/api/tags',
  '/health',
  '/health/live',
  '/health/ready',
  '/metrics',
  '/openapi.json',
  '/docs',
  '/nothing',
  '/api',
  '/',
];

function methodsAndTypes(targets: Targets): fc.Arbitrary<BadRequest> {
  const oddMethod = fc
    .tuple(fc.constantFrom(...ODD_METHODS), fc.constantFrom(...PATHS))
    .map(([method, path]): BadRequest => ({
      category: 'methods-and-types',
      label: `${method} ${path}`,
      method,
      target: path,
      headers: [],
      allowed: [404, 405],
      // llhttp knows most of these; the ones it does not know it refuses itself.
      parserMayReject: true,
    }));
  const wrongRouteMethod = fc
    .tuple(
      fc.constantFrom('PUT', 'PATCH', 'DELETE', 'POST', 'OPTIONS', 'HEAD'),
      fc.constantFrom('/api/memos', '/api/tags', '/health/live', '/metrics', '/openapi.json'),
    )
    .map(([method, path]): BadRequest => ({
      ...request('methods-and-types', method, path, `${method} ${path}`, []),
      // OPTIONS lists the methods (200), HEAD of a GET route answers as GET; POST /api/memos creates.
      allowed: [200, 201, 204, 400, 404, 405],
    }));
  const contentTypes = fc.constantFrom(
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=xyz',
    'application/xml',
    'text/json',
    'application/jsonp',
    'application/json5',
    'json',
    '*/*',
    'application/*',
    ';;;',
    '',
    'application/json, text/plain',
    'application/octet-stream',
    'image/png',
    // Accepted media types: a valid memo is created.
    'application/json; charset=utf-16',
    'APPLICATION/JSON',
    'application/merge-patch+json',
  );
  const wrongType = fc
    .tuple(contentTypes, fc.constantFrom(...targets.victimIds), writeMethods)
    .map(([ct, id, method]): BadRequest => ({
      category: 'methods-and-types',
      label: `${method} Content-Type: ${ct}`,
      method,
      target: method === 'POST' ? '/api/memos' : `/api/memos/${id}`,
      headers:
        ct === ''
          ? [['If-Match', '"999999"']]
          : [
              ['Content-Type', ct],
              ['If-Match', '"999999"'],
            ],
      body: () => utf8('{"title":"typed"}'),
      allowed: method === 'POST' ? [201, 400, 415] : [400, 412, 415],
    }));
  const noBody = fc
    .tuple(writeMethods, fc.constantFrom(...targets.victimIds), fc.boolean())
    .map(([method, id, withType]): BadRequest => ({
      category: 'methods-and-types',
      label: `${method} without a body${withType ? '' : ' or type'}`,
      method,
      target: method === 'POST' ? '/api/memos' : `/api/memos/${id}`,
      headers: withType
        ? [JSON_CT, ['If-Match', '"999999"'], ['Content-Length', '0']]
        : [['If-Match', '"999999"']],
      allowed: [400, 415],
    }));
  const connect: fc.Arbitrary<BadRequest> = fc.constant({
    category: 'methods-and-types',
    label: 'CONNECT 127.0.0.1:3306',
    method: 'CONNECT',
    target: '127.0.0.1:3306',
    headers: [],
    allowed: [400, 404, 405],
    parserMayReject: true,
    closeAllowed: true,
  });
  return fc.oneof(
    { arbitrary: oddMethod, weight: 4 },
    { arbitrary: wrongRouteMethod, weight: 3 },
    { arbitrary: wrongType, weight: 4 },
    { arbitrary: noBody, weight: 1 },
    { arbitrary: connect, weight: 1 },
  );
}

/** Whether an If-Match value would match a memo at version 1, as the service reads it. */
function mayLetWriteThrough(value: string): boolean {
  try {
    const versions = parseIfMatch(value);
    return versions === undefined || versions === '*' || versions.includes(1);
  } catch {
    return false;
  }
}

function badIfMatch(targets: Targets): fc.Arbitrary<BadRequest> {
  // Never "1" in any spelling (the memos' current version), alone or in a list, never * nor
  // empty (they would let the write through): these must all be refused.
  const malformed = fc.oneof(
    fc.constantFrom(
      'v1',
      '1',
      '"abc"',
      '"-1"',
      '"1.5"',
      'W/1',
      'W/"x"',
      'w/"1"',
      '"1',
      '1"',
      "'1'",
      '""',
      '"99999999999"',
      '"2", "3"',
      '"2", W/"1"',
      '*, *',
      '**',
      '"1" junk',
      '"\u00e9"',
      'W/ "1"',
      '"0x1"',
      '"1e0"',
      '" 1"',
    ),
    fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim() !== '' && !mayLetWriteThrough(s)),
    fc.string({ minLength: 50, maxLength: 4000 }).map((s) => `"${s}"`),
  );
  const stale = fc
    .integer({ min: 2, max: 9_999_999_999 })
    .chain((n) => fc.constantFrom(`"${n}"`, `W/"${n}"`, `"${String(n).padStart(10, '0')}"`));
  return fc
    .tuple(
      fc.oneof({ arbitrary: malformed, weight: 3 }, { arbitrary: stale, weight: 1 }),
      fc.constantFrom(...targets.victimIds),
      fc.constantFrom('PUT', 'PATCH', 'DELETE'),
    )
    .map(([etag, id, method]): BadRequest => ({
      category: 'bad-if-match',
      label: `${method} ${id} If-Match: ${JSON.stringify(etag.slice(0, 60))}`,
      method,
      target: `/api/memos/${id}`,
      headers: method === 'DELETE' ? [['If-Match', etag]] : [JSON_CT, ['If-Match', etag]],
      body: method === 'DELETE' ? undefined : () => utf8('{"title":"never stored"}'),
      allowed: [400, 412],
      parserMayReject: /[\u0000-\u0008\u000a-\u001f\u007f-\uffff]/.test(etag),
    }));
}

function oddHeaders(targets: Targets): fc.Arbitrary<BadRequest> {
  const header = fc.oneof(
    fc.tuple(
      fc.constant('X-Request-Id'),
      fc.oneof(
        fc.string({ maxLength: 300 }),
        fc.constantFrom('a'.repeat(129), '../../x', 'id with spaces', ''),
      ),
    ),
    fc.tuple(
      fc.constant('X-Forwarded-For'),
      fc.oneof(
        fc.ipV4(),
        fc.ipV6(),
        fc.array(fc.ipV4(), { maxLength: 50 }).map((a) => a.join(', ')),
        fc.constantFrom(',,,', 'unknown', '999.999.999.999', '[::1]:80', '-', ' ', "'; DROP TABLE memos;--"),
        fc.string({ maxLength: 100 }),
      ),
    ),
    fc.tuple(
      fc.constant('Host'),
      fc.constantFrom('evil.example', 'localhost:99999', '[::1', '', 'a b', '..', 'x'.repeat(300)),
    ),
    fc.tuple(
      fc.constant('If-None-Match'),
      fc.oneof(fc.string({ maxLength: 80 }), fc.constantFrom('*', ',,,', 'W/', '"1", W/"1"')),
    ),
    fc.tuple(
      fc.constantFrom('Accept', 'Accept-Encoding', 'Accept-Language', 'Accept-Charset'),
      fc.oneof(
        fc.string({ maxLength: 80 }),
        fc.constantFrom('*/*;q=abc', 'gzip;q=-1, br;q=2', 'application/problem+json;q=0'),
      ),
    ),
    fc.tuple(
      fc.constant('Origin'),
      fc.constantFrom('null', 'https://evil.example', 'file://', '*', 'http://[::1'),
    ),
    fc.tuple(fc.constant('Cookie'), fc.string({ maxLength: 2000 })),
    fc.tuple(
      fc.constant('Range'),
      fc.constantFrom('bytes=0-0', 'bytes=-1', 'bytes=99999999999999-', 'lines=1-2'),
    ),
    fc.tuple(fc.constant('Authorization'), fc.constantFrom('Bearer x', 'Basic !!!', '')),
    fc.tuple(fc.constant('Content-Encoding'), fc.constantFrom('gzip', 'br', 'identity', 'x')),
    fc.tuple(fc.constant('Expect'), fc.constantFrom('100-continue', 'teapot')),
    fc.tuple(fc.constant('Transfer-Encoding'), fc.constantFrom('gzip', 'identity', 'chunked, chunked', 'x')),
    fc.tuple(
      fc.constant('X-Huge'),
      fc.integer({ min: 17 * 1024, max: 64 * 1024 }).map((n) => 'h'.repeat(n)),
    ),
    fc.tuple(fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,30}$/), fc.string({ maxLength: 100 })),
  );
  return fc
    .tuple(
      fc.array(header, { minLength: 1, maxLength: 5 }),
      fc.constantFrom(...targets.victimIds),
      fc.constantFrom('GET memo', 'GET tags', 'GET list', 'POST'),
    )
    .map(([headers, id, what]): BadRequest => {
      const post = what === 'POST';
      const transport = headers.some(([name]) =>
        ['Content-Encoding', 'Transfer-Encoding', 'Expect', 'X-Huge', 'Host'].includes(name),
      );
      return {
        category: 'odd-headers',
        label: `${what} ${headers.map(([n, v]) => `${n}: ${JSON.stringify(v.slice(0, 40))}`).join('; ')}`,
        method: post ? 'POST' : 'GET',
        target:
          what === 'GET memo'
            ? `/api/memos/${id}`
            : what === 'GET tags'
              ? '/api/tags'
              : post
                ? '/api/memos'
                : '/api/memos?limit=5',
        headers: post ? [JSON_CT, ...headers] : headers,
        body: post ? () => utf8('{"title":"odd headers"}') : undefined,
        // A GET is answered whatever the decoration; a POST creates a memo (or is refused over
        // its transfer or content coding); 304 for a matching If-None-Match.
        allowed: [200, 201, 304, 400, 413, 415, 417, 431],
        parserMayReject:
          transport || headers.some(([, v]) => /[\u0000-\u0008\u000a-\u001f\u007f-\uffff]/.test(v)),
        closeAllowed: transport,
      };
    });
}

/** Every category, weighted so that each gets several hundred requests in a run of 10,000. */
export function badRequests(targets: Targets): fc.Arbitrary<BadRequest> {
  return fc.oneof(
    { arbitrary: malformedJson(targets), weight: 10 },
    { arbitrary: wrongTypes(targets), weight: 12 },
    { arbitrary: hugeStrings(targets), weight: 5 },
    { arbitrary: deepNesting(targets), weight: 4 },
    { arbitrary: invalidUtf8(targets), weight: 8 },
    { arbitrary: injectionRequests(targets), weight: 12 },
    { arbitrary: badIds(), weight: 10 },
    { arbitrary: badQuery(), weight: 12 },
    { arbitrary: oversized(targets), weight: 3 },
    { arbitrary: methodsAndTypes(targets), weight: 8 },
    { arbitrary: badIfMatch(targets), weight: 8 },
    { arbitrary: oddHeaders(targets), weight: 8 },
  );
}

/* ----------------------------------------------------------------------------------------------
 * Sending and checking
 * --------------------------------------------------------------------------------------------*/

/**
 * Writes one request on its own connection, byte for byte, and reads the first response. Never
 * throws: no answer within timeoutMs, or a connection closed before a status line, is status 0.
 */
export function sendRaw(port: number, req: BadRequest, timeoutMs = 10_000): Promise<RawResponse> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const received: Buffer[] = [];
    let error: string | undefined;
    let settled = false;
    const finish = (why?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const parsed = parseResponse(Buffer.concat(received), req.method);
      resolve(parsed ?? { status: 0, headers: {}, body: Buffer.alloc(0), error: why ?? error ?? 'closed' });
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      // Connection: close is sent, so the server ends the connection after its answer; a
      // complete answer can still be taken early (the server may wait for a body it refused).
      const parsed = parseResponse(Buffer.concat(received), req.method);
      if (parsed?.complete) finish();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      error = err.code ?? err.message;
    });
    socket.on('close', () => finish());
    socket.once('connect', () => void writeRequest(socket, req));
  });
}

async function writeRequest(socket: net.Socket, req: BadRequest): Promise<void> {
  const body = req.body?.();
  const lines = [`${req.method} ${req.target} HTTP/1.1`];
  const given = new Set(req.headers.map(([name]) => name.toLowerCase()));
  if (!given.has('host')) lines.push('Host: 127.0.0.1');
  lines.push('Connection: close');
  for (const [name, value] of req.headers) lines.push(`${name}: ${value}`);
  if (body !== undefined && !given.has('content-length')) {
    if (req.contentLength === 'chunked') lines.push('Transfer-Encoding: chunked');
    else lines.push(`Content-Length: ${req.contentLength ?? body.length}`);
  }
  const write = (data: Buffer): Promise<boolean> =>
    new Promise((resolve) => {
      if (socket.destroyed || !socket.writable) return resolve(false);
      if (socket.write(data)) return resolve(true);
      const done = (): void => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve(!socket.destroyed);
      };
      socket.once('drain', done);
      socket.once('close', done);
    });
  if (!(await write(Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1')))) return;
  if (body !== undefined) {
    const chunked = req.contentLength === 'chunked';
    for (let at = 0; at < body.length; at += 16 * 1024) {
      // Stop as soon as the server has answered (413 after the first bytes).
      if (socket.bytesRead > 0) return;
      const piece = body.subarray(at, at + 16 * 1024);
      const data = chunked
        ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')])
        : piece;
      if (!(await write(data))) return;
    }
    if (chunked && !(await write(Buffer.from('0\r\n\r\n')))) return;
  }
  if (req.cutShort && !socket.destroyed) socket.end();
}

/** The first final (non-1xx) response in `data`, or undefined before its header is complete. */
export function parseResponse(
  data: Buffer,
  method: string,
): (RawResponse & { complete: boolean }) | undefined {
  let start = 0;
  for (;;) {
    const end = data.indexOf('\r\n\r\n', start);
    if (end < 0) return undefined;
    const head = data.subarray(start, end).toString('latin1').split('\r\n');
    const match = /^HTTP\/1\.[01] (\d{3})/.exec(head[0]);
    if (!match) return undefined;
    const status = Number(match[1]);
    const headers: Record<string, string> = {};
    for (const line of head.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    if (status >= 100 && status < 200) {
      start = end + 4;
      continue;
    }
    const rest = data.subarray(end + 4);
    if (method === 'HEAD' || status === 204 || status === 304)
      return { status, headers, body: Buffer.alloc(0), complete: true };
    if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      return { status, headers, body: rest.subarray(0, length), complete: rest.length >= length };
    }
    if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const { body, complete } = dechunk(rest);
      return { status, headers, body, complete };
    }
    return { status, headers, body: rest, complete: false };
  }
}

function dechunk(data: Buffer): { body: Buffer; complete: boolean } {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf('\r\n', at);
    if (eol < 0) return { body: Buffer.concat(parts), complete: false };
    const size = parseInt(data.subarray(at, eol).toString('latin1'), 16);
    if (Number.isNaN(size)) return { body: Buffer.concat(parts), complete: false };
    if (size === 0) return { body: Buffer.concat(parts), complete: true };
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

/** What the server's clientError listener answers for bytes Node's parser refuses. */
const PARSER_STATUSES = [400, 408, 413, 431];

/** Why a response to `req` is not acceptable, or undefined when it is. */
export function judge(req: BadRequest, res: RawResponse): string | undefined {
  if (res.status === 0) {
    if (req.closeAllowed && res.error !== 'timeout') return undefined;
    return `no response (${res.error ?? 'closed'})`;
  }
  if (res.status >= 500) return `status ${res.status}: ${res.body.toString('utf8').slice(0, 300)}`;
  // Header injection: the service never sets cookies, so one in a response came from the request.
  if (res.headers['set-cookie'] !== undefined)
    return `response header injected: Set-Cookie ${res.headers['set-cookie']}`;
  // Bytes outside visible ASCII in the request line are Node's to refuse, whatever the category.
  const parserMayReject = req.parserMayReject === true || /[^\x21-\x7e]/.test(req.target);
  const parserStatus = parserMayReject && PARSER_STATUSES.includes(res.status);
  if (!req.allowed.includes(res.status) && !parserStatus) {
    return `status ${res.status} not in [${req.allowed.join(', ')}]: ${res.body.toString('utf8').slice(0, 300)}`;
  }
  if (res.status < 400) return undefined;
  if (!/^application\/problem\+json/.test(res.headers['content-type'] ?? '')) {
    return `status ${res.status} with content-type ${res.headers['content-type'] ?? 'none'}, not problem+json`;
  }
  if (req.method === 'HEAD') return undefined;
  let problem: Record<string, unknown>;
  try {
    problem = JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
  } catch {
    return `status ${res.status}: problem body is not JSON: ${res.body.toString('utf8').slice(0, 200)}`;
  }
  const text = (v: unknown): boolean => typeof v === 'string' && v.trim() !== '';
  if (problem.status !== res.status || !text(problem.title) || !text(problem.detail) || !text(problem.type)) {
    return `status ${res.status}: incomplete problem ${JSON.stringify(problem).slice(0, 300)}`;
  }
  return undefined;
}
