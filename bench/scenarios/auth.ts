import type autocannon from 'autocannon';
import { startLocalIssuer } from '../../app/test/support/local-issuer';
import { ensureDataset } from '../data/loader';
import { AppStats, diffStats, flushBenchCache, startApp } from '../lib/app';
import {
  contentionNote,
  Context,
  cpuText,
  fmt,
  Scenario,
  ScenarioOutput,
  table,
  verdict,
} from '../lib/context';
import { RW_DATABASE, RW_MEMOS, RW_SEED } from '../lib/datasets';
import { load, LoadResult } from '../lib/load';
import { ServerChild } from '../lib/proc';
import { freshDatabase, requireServices } from '../lib/services';
import { CONNECTIONS, HOT_IDS, hotIds, readRequests, warm } from './reads';
import { memoBodies, postRequests, WRITE_CONNECTIONS } from './writes';

/*
 * What verifying a bearer token costs the service: cached reads and writes, each without sign-in
 * and with a valid RS256 token on every request, measured in interleaved rounds of one run so the
 * two sides of each ratio see the same machine. Four service processes stay up side by side (an
 * idle one costs nothing measurable); only the one under load is busy in each run.
 */

const AUTH_DATABASE = 'memo_bench_auth_writes';
const AUDIENCE = 'memo-api';
/** Distinct users, one token each, used in rotation: no two consecutive requests carry the same token. */
const USERS = 100;
/**
 * Distinct tokens for the worst case, more than the service's cache of verified tokens holds
 * (VERIFIED_TOKENS_MAX_CHARS at about 830 characters per entry of these tokens is about 10,000): in
 * rotation, each comes back only after the cache has dropped it, so every request pays the full
 * signature check, as a flood of first-time tokens would.
 */
const FRESH_TOKENS = 20_000;
/** Longer than the slowest run (its watchdog stops everything after 30 minutes). */
const TOKEN_LIFETIME_SECONDS = 3600;
/** Read throughput with tokens must keep at least this share of the same run's anonymous figure. */
const READ_TARGET = 0.9;
const KEYS_LOADED_TIMEOUT_MS = 15_000;

type Side = 'readsAnon' | 'readsToken' | 'readsFreshToken' | 'writesAnon' | 'writesToken';

/** The same requests with one of the tokens, in rotation, in an Authorization header. */
function withTokens(
  requests: readonly autocannon.Request[],
  tokens: readonly string[],
): autocannon.Request[] {
  let next = 0;
  return requests.map((request) => ({
    ...request,
    setupRequest: (req, context) => {
      const base = request.setupRequest ? request.setupRequest(req, context) : req;
      return {
        ...base,
        headers: { ...base.headers, authorization: `Bearer ${tokens[next++ % tokens.length]}` },
      };
    },
  }));
}

/** A short unmeasured run first, so JIT and connection pools are warm for the measured one. */
async function measure(
  ctx: Context,
  server: ServerChild,
  connections: number,
  requests: () => autocannon.Request[],
): Promise<LoadResult> {
  const url = `http://127.0.0.1:${server.port}`;
  await load({ url, connections, duration: 2, requests: requests() }, server.pid);
  return load({ url, connections, duration: ctx.loadSeconds, requests: requests() }, server.pid);
}

/** The service loads the issuer's keys in the background: wait (bounded) until readiness says they are there. */
async function keysLoaded(server: ServerChild): Promise<void> {
  const deadline = Date.now() + KEYS_LOADED_TIMEOUT_MS;
  for (;;) {
    const res = await fetch(`http://127.0.0.1:${server.port}/health/ready`);
    const body = (await res.json()) as { auth_keys?: string };
    if (body.auth_keys === 'loaded') return;
    if (Date.now() > deadline)
      throw new Error(
        `the service had not loaded the issuer's keys after ${KEYS_LOADED_TIMEOUT_MS / 1000} s`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function expectStatus(what: string, expected: number, res: Promise<Response>): Promise<string> {
  const r = await res;
  const text = await r.text();
  if (r.status !== expected)
    throw new Error(`${what}: expected ${expected}, got ${r.status} ${text.slice(0, 200)}`);
  return text;
}

/**
 * Proof that the token runs measure verification and not a shortcut: without a token the
 * sign-in services refuse, with one they answer, and a write takes its author from the token.
 */
async function checkSignIn(
  readApp: ServerChild,
  writeApp: ServerChild,
  token: string,
  name: string,
): Promise<void> {
  const read = `http://127.0.0.1:${readApp.port}/api/memos/${hotIds()[0]}`;
  await expectStatus('GET without a token, AUTH_REQUIRED_FOR_READS=true', 401, fetch(read));
  await expectStatus('GET with a token', 200, fetch(read, { headers: { authorization: `Bearer ${token}` } }));
  const post = `http://127.0.0.1:${writeApp.port}/api/memos`;
  const body = memoBodies(1)[0];
  const json = { 'content-type': 'application/json' };
  await expectStatus('POST without a token', 401, fetch(post, { method: 'POST', headers: json, body }));
  const created = JSON.parse(
    await expectStatus(
      'POST with a token',
      201,
      fetch(post, { method: 'POST', headers: { ...json, authorization: `Bearer ${token}` }, body }),
    ),
  ) as { author?: string };
  if (created.author !== name)
    throw new Error(`POST with a token: author "${created.author}", expected the token's name "${name}"`);
}

function row(round: string, name: string, r: LoadResult): string[] {
  return [
    round,
    name,
    fmt(r.requestsPerSecond),
    fmt(r.latencyMs.p50, 1),
    fmt(r.latencyMs.p99, 1),
    fmt(r.non2xx + r.errors),
    fmt(serverMicrosPerRequest(r)),
    fmt(r.cpu.other, 2),
  ];
}

/** Server CPU per answered request: the part of the cost that throughput on a shared machine blurs. */
function serverMicrosPerRequest(r: LoadResult): number {
  return (r.cpu.server * r.cpu.seconds * 1e6) / Math.max(1, r.requests);
}

/** The round whose pair of runs other processes disturbed least. */
function quietestRound(first: readonly LoadResult[], second: readonly LoadResult[]): number {
  return first
    .map((run, i) => ({ i, other: Math.max(run.cpu.other, second[i].cpu.other) }))
    .sort((x, y) => x.other - y.other)[0].i;
}

const failedShare = (r: LoadResult): number => (r.non2xx + r.errors) / Math.max(1, r.requests);

export const tokenVerification: Scenario = {
  id: 8,
  title: 'Token verification cost',
  async run(ctx): Promise<ScenarioOutput> {
    await requireServices(['mariadb', 'redis']);
    const dataset = await ensureDataset(RW_DATABASE, RW_MEMOS, RW_SEED, ctx.log);
    await freshDatabase(AUTH_DATABASE);
    await flushBenchCache();
    const ids = hotIds();
    const bodies = memoBodies(500);
    const issuer = await startLocalIssuer(AUDIENCE);
    const servers: ServerChild[] = [];
    const runs: Record<Side, LoadResult[]> = {
      readsAnon: [],
      readsToken: [],
      readsFreshToken: [],
      writesAnon: [],
      writesToken: [],
    };
    let tokenReadStats: AppStats;
    let tokenBytes: number;
    try {
      const exp = Math.floor(Date.now() / 1000) + TOKEN_LIFETIME_SECONDS;
      const tokens = await Promise.all(
        Array.from({ length: USERS }, (_, i) =>
          issuer.sign({ sub: `bench-user-${i + 1}`, name: `Bench User ${i + 1}`, exp }),
        ),
      );
      tokenBytes = tokens[0].length;
      ctx.log(`  signing ${FRESH_TOKENS} more tokens for the worst case`);
      const freshTokens: string[] = [];
      for (let i = 0; i < FRESH_TOKENS; i++) {
        freshTokens.push(await issuer.sign({ sub: `bench-visitor-${i + 1}`, name: `Visitor ${i + 1}`, exp }));
      }
      const auth = { issuerUrl: issuer.issuer, audience: AUDIENCE };
      const start = async (options: Parameters<typeof startApp>[1]): Promise<ServerChild> => {
        const server = await startApp(ctx, options);
        servers.push(server);
        return server;
      };
      const readsAnon = await start({ database: RW_DATABASE, cache: 'on' });
      const readsToken = await start({
        database: RW_DATABASE,
        cache: 'on',
        auth: { ...auth, requiredForReads: true },
      });
      const writesAnon = await start({ database: AUTH_DATABASE, cache: 'on' });
      const writesToken = await start({
        database: AUTH_DATABASE,
        cache: 'on',
        auth: { ...auth, requiredForReads: false },
      });
      await keysLoaded(readsToken);
      await keysLoaded(writesToken);
      await checkSignIn(readsToken, writesToken, tokens[0], 'Bench User 1');
      // Both read services share the database and the cache keys: one warm-up caches for both.
      await warm(readsAnon.port, ids);
      const plans: Record<
        Side,
        { server: ServerChild; connections: number; requests: () => autocannon.Request[] }
      > = {
        readsAnon: { server: readsAnon, connections: CONNECTIONS, requests: () => readRequests(ids) },
        readsToken: {
          server: readsToken,
          connections: CONNECTIONS,
          requests: () => withTokens(readRequests(ids), tokens),
        },
        readsFreshToken: {
          server: readsToken,
          connections: CONNECTIONS,
          requests: () => withTokens(readRequests(ids), freshTokens),
        },
        writesAnon: {
          server: writesAnon,
          connections: WRITE_CONNECTIONS,
          requests: () => postRequests(bodies),
        },
        writesToken: {
          server: writesToken,
          connections: WRITE_CONNECTIONS,
          requests: () => withTokens(postRequests(bodies), tokens),
        },
      };
      const rounds = ctx.quick ? 1 : 2;
      const before = await readsToken.request<AppStats>('stats');
      for (let round = 0; round < rounds; round++) {
        // Interleaved, so a burst of other work on the machine hits both sides alike; the order
        // within each pair alternates, so neither side always runs on the fuller writes table.
        const order: Side[][] = [
          ['readsAnon', 'readsToken', 'readsFreshToken'],
          ['writesAnon', 'writesToken'],
        ].map((pair) => (round % 2 === 0 ? pair : [...pair].reverse())) as Side[][];
        for (const side of order.flat()) {
          ctx.log(`  round ${round + 1}/${rounds}: ${side}`);
          const plan = plans[side];
          runs[side].push(await measure(ctx, plan.server, plan.connections, plan.requests));
        }
      }
      tokenReadStats = diffStats(await readsToken.request<AppStats>('stats'), before);
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
      await issuer.stop();
    }
    const r = quietestRound(runs.readsAnon, runs.readsToken);
    const w = quietestRound(runs.writesAnon, runs.writesToken);
    const a = runs.readsAnon[r];
    const b = runs.readsToken[r];
    const e = runs.readsFreshToken[r];
    const freshRatio = e.requestsPerSecond / a.requestsPerSecond;
    const c = runs.writesAnon[w];
    const d = runs.writesToken[w];
    const readRatio = b.requestsPerSecond / a.requestsPerSecond;
    const writeRatio = d.requestsPerSecond / c.requestsPerSecond;
    const readMet = readRatio >= READ_TARGET;
    const perRequestUs = serverMicrosPerRequest(b) - serverMicrosPerRequest(a);
    const failures = [a, b, e, c, d].some((x) => failedShare(x) > 0.001);
    const label = (i: number, quiet: number): string => `${i + 1}${i === quiet ? ' (headline)' : ''}`;
    const markdown = [
      `Four service processes side by side, only one under load at a time: cached reads of ${HOT_IDS} memos in rotation from the ${fmt(dataset.memos)}-memo ` +
        `database (${CONNECTIONS} connections), and \`POST /api/memos\` into the fresh database \`${AUTH_DATABASE}\` (${WRITE_CONNECTIONS} connections, relay off). ` +
        `"Anonymous": no \`OIDC_ISSUER_URL\`. "Token": an issuer on 127.0.0.1 in the bench process (discovery document and JWKS, one RS256 2048-bit key), ` +
        `\`AUTH_REQUIRED_FOR_READS=true\` for the read service, and a valid token on every request, ${USERS} users' tokens (${tokenBytes} characters each) in rotation. ` +
        `${ctx.loadSeconds} s per run after a 2 s warm-up, ${runs.readsAnon.length} interleaved round(s); the round with the least other load is the headline of each pair.`,
      '',
      table(
        [
          'round',
          'run',
          'req/s',
          'p50 ms',
          'p99 ms',
          'non-2xx',
          'server CPU µs/request',
          'other processes (cores)',
        ],
        [
          ...runs.readsAnon.flatMap((run, i) => [
            row(label(i, r), '(a) cached read, anonymous', run),
            row(label(i, r), '(b) cached read, bearer token', runs.readsToken[i]),
            row(label(i, r), '(e) cached read, a token never seen', runs.readsFreshToken[i]),
          ]),
          ...runs.writesAnon.flatMap((run, i) => [
            row(label(i, w), '(c) POST, anonymous', run),
            row(label(i, w), '(d) POST, bearer token', runs.writesToken[i]),
          ]),
        ],
      ),
      '',
      `- Cached reads with tokens / without: **${fmt(readRatio, 2)}** (target: verification costs at most 10 % of cached-read throughput, ` +
        `i.e. >= ${READ_TARGET}: ${verdict(readMet)}); about ${fmt(perRequestUs)} µs more server CPU per request.`,
      `- Worst case, every request a token the service has not verified yet (${fmt(FRESH_TOKENS)} tokens in rotation, more than its cache holds): ` +
        `**${fmt(freshRatio, 2)}** of anonymous; about ${fmt(serverMicrosPerRequest(e) - serverMicrosPerRequest(a))} µs more server CPU per request. ` +
        `Run (b) is the steady state of clients that reuse their token until it expires, as OAuth clients do.`,
      `- Writes with tokens / without: **${fmt(writeRatio, 2)}** (no target; the same check, beside a transaction that costs the server over ten times a cached read).`,
      `- Cache check, token read service: ${fmt(tokenReadStats.cacheHits)} hits, ${fmt(tokenReadStats.cacheMisses)} misses, ${fmt(tokenReadStats.queries)} SQL statements in its runs.`,
      ...(failures
        ? [
            '- **Some requests failed** (non-2xx or errors above 0.1 %): the figures of that run are not the cost of a successful request.',
          ]
        : []),
      `- CPU, headline anonymous reads: ${cpuText(a.cpu)}.`,
      `- CPU, headline token reads: ${cpuText(b.cpu)}.`,
      `- CPU, headline anonymous writes: ${cpuText(c.cpu)}.`,
      `- CPU, headline token writes: ${cpuText(d.cpu)}.`,
      ...contentionNote(a.cpu, b.cpu),
      ...contentionNote(c.cpu, d.cpu),
    ].join('\n');
    return {
      data: {
        dataset,
        writesDatabase: AUTH_DATABASE,
        users: USERS,
        readConnections: CONNECTIONS,
        writeConnections: WRITE_CONNECTIONS,
        readsAnonymous: a,
        readsToken: b,
        readsFreshToken: e,
        freshTokens: FRESH_TOKENS,
        freshRatio,
        writesAnonymous: c,
        writesToken: d,
        readRatio,
        writeRatio,
        verificationServerMicrosPerRequest: perRequestUs,
        runs,
        tokenReadStats,
      },
      headlines: [
        {
          measure: `cached read with a bearer token (RS256, ${USERS} users), ${CONNECTIONS} connections`,
          figure: `${fmt(b.requestsPerSecond)} req/s, p99 ${fmt(b.latencyMs.p99, 1)} ms`,
          baseline: `anonymous, same run ${fmt(a.requestsPerSecond)} req/s, p99 ${fmt(a.latencyMs.p99, 1)} ms`,
          ratio: fmt(readRatio, 2),
          target: `>= ${READ_TARGET} of anonymous`,
          met: readMet,
        },
        {
          measure: `cached read, every request a token not verified before (${fmt(FRESH_TOKENS)} in rotation)`,
          figure: `${fmt(e.requestsPerSecond)} req/s, p99 ${fmt(e.latencyMs.p99, 1)} ms`,
          baseline: `anonymous, same run ${fmt(a.requestsPerSecond)} req/s`,
          ratio: fmt(freshRatio, 2),
          target: '-',
          met: undefined,
        },
        {
          measure: `POST /api/memos with a bearer token, ${WRITE_CONNECTIONS} connections`,
          figure: `${fmt(d.requestsPerSecond)} memos/s, p99 ${fmt(d.latencyMs.p99, 1)} ms`,
          baseline: `anonymous, same run ${fmt(c.requestsPerSecond)} memos/s, p99 ${fmt(c.latencyMs.p99, 1)} ms`,
          ratio: fmt(writeRatio, 2),
          target: '-',
        },
      ],
      markdown,
    };
  },
};
