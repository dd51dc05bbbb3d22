import type { Knex } from 'knex';
import { call, CallResult, Step } from './load';

/*
 * A steady memo workload for the reliability suites: mostly reads of existing memos (so the
 * cache is exercised), some creates, some updates. Every write remembers what it sent and
 * whether the service acknowledged it, so a suite can check afterwards that no acknowledged
 * write is missing from the database.
 */

interface Attempt {
  readonly content: string;
  readonly acknowledged: boolean;
  /** The version the 2xx answer reported. */
  readonly version?: number;
}

export interface WriteCheck {
  /** Creates and updates that got a 2xx. */
  readonly acknowledged: number;
  /** Of those, how many the database holds as acknowledged (or newer). */
  readonly found: number;
  /** Writes answered with an error that committed anyway (allowed: the client was not told "done"). */
  readonly committedUnacknowledged: number;
  /** What is wrong, one line per acknowledged write the database does not hold. */
  readonly missing: readonly string[];
}

export interface MemoWorkload {
  readonly step: Step;
  /** The memos created before the load, read and updated by it. */
  readonly seeded: readonly number[];
  /** Responses that broke the error contract (a 503 without Retry-After, a non-problem error). */
  readonly contractViolations: readonly string[];
  /** Compares every acknowledged write with the row in the database. */
  verify(db: Knex): Promise<WriteCheck>;
}

const header = (r: CallResult, name: string): string | null => r.headers?.get(name) ?? null;

export async function createMemoWorkload(
  baseUrl: string,
  options: { readonly seed: number; readonly workers: number; readonly label: string },
): Promise<MemoWorkload> {
  const { label, workers } = options;
  const seeded: number[] = [];
  for (let i = 0; i < options.seed; i++) {
    const created = await call(baseUrl, 'POST', '/api/memos', {
      body: { title: `${label} seed ${i}`, content: 'seed', tags: ['reliability'] },
    });
    if (created.status !== 201)
      throw new Error(`seeding failed: ${created.status} ${JSON.stringify(created.body)}`);
    seeded.push((created.body as { id: number }).id);
  }
  // Warm the cache, so the load starts with hits.
  for (const id of seeded) await call(baseUrl, 'GET', `/api/memos/${id}`);

  const creates = new Map<string, { acknowledged: boolean; id?: number }>();
  const updates = new Map<number, Attempt[]>(seeded.map((id) => [id, []]));
  const contractViolations: string[] = [];
  // Numbers every write, so titles and contents stay unique when a suite runs the load again.
  let writeNo = 0;

  const checkContract = (op: string, r: CallResult): void => {
    if (r.status < 400) return;
    const type = header(r, 'content-type') ?? '';
    if (!type.startsWith('application/problem+json')) {
      contractViolations.push(`${op}: ${r.status} with content-type "${type}"`);
    }
    if (r.status === 503 && header(r, 'retry-after') === null) {
      contractViolations.push(`${op}: 503 without Retry-After`);
    }
  };

  const step: Step = async (worker, i, record) => {
    const kind = i % 10;
    if (kind === 0) {
      const title = `${label} #${++writeNo} w${worker}`;
      const r = await record('create', () =>
        call(baseUrl, 'POST', '/api/memos', { body: { title, content: title } }),
      );
      checkContract('create', r);
      creates.set(title, { acknowledged: r.status === 201, id: (r.body as { id?: number })?.id });
    } else if (kind === 5) {
      // Each worker updates only its own share of the seeded memos, so updates never race
      // each other; If-Match: * because an update that failed may still have committed.
      const own = seeded.filter((_, n) => n % workers === worker);
      const id = own[Math.floor(i / 10) % own.length];
      const content = `${label} #${++writeNo} w${worker}`;
      const r = await record('update', () =>
        call(baseUrl, 'PATCH', `/api/memos/${id}`, { body: { content }, headers: { 'If-Match': '*' } }),
      );
      checkContract('update', r);
      const acknowledged = r.status === 200;
      updates.get(id)?.push({
        content,
        acknowledged,
        version: acknowledged ? (r.body as { version: number }).version : undefined,
      });
    } else {
      const id = seeded[(worker * 7 + i * 3) % seeded.length];
      const r = await record('read', () => call(baseUrl, 'GET', `/api/memos/${id}`));
      checkContract('read', r);
    }
  };

  return {
    step,
    seeded,
    contractViolations,
    async verify(db) {
      const missing: string[] = [];
      let acknowledged = 0;
      let found = 0;
      let committedUnacknowledged = 0;

      const rows = (await db('memos')
        .where('title', 'like', `${label} %`)
        .select('id', 'title', 'content', 'version')) as {
        id: number;
        title: string;
        content: string;
        version: number;
      }[];
      const byTitle = new Map(rows.map((r) => [r.title, r]));
      const byId = new Map(rows.map((r) => [r.id, r]));

      for (const [title, attempt] of creates) {
        const row = byTitle.get(title);
        if (attempt.acknowledged) {
          acknowledged++;
          if (row && row.id === attempt.id && row.content === title) found++;
          else missing.push(`create "${title}" (id ${attempt.id}) acknowledged but not in the database`);
        } else if (row) {
          committedUnacknowledged++;
        }
      }

      for (const [id, attempts] of updates) {
        const row = byId.get(id);
        const acked = attempts.filter((a) => a.acknowledged);
        acknowledged += acked.length;
        const last = acked.reduce<Attempt | undefined>(
          (a, b) => ((b.version ?? 0) > (a?.version ?? 0) ? b : a),
          undefined,
        );
        if (!row) {
          missing.push(`memo ${id} is gone`);
          continue;
        }
        if (!last) {
          found += acked.length;
        } else if (row.version === last.version && row.content === last.content) {
          // Versions only grow, so the last acknowledged one being there means all earlier ones were.
          found += acked.length;
        } else if (
          row.version > (last.version ?? 0) &&
          attempts.some((a) => !a.acknowledged && a.content === row.content)
        ) {
          // A later update failed to answer but did commit: the acknowledged ones came before it.
          found += acked.length;
          committedUnacknowledged++;
        } else {
          missing.push(
            `memo ${id}: acknowledged v${last.version} "${last.content}", database has v${row.version} "${row.content}"`,
          );
        }
      }
      return { acknowledged, found, committedUnacknowledged, missing };
    },
  };
}
