import type { ServerProcess } from '../support/server-process';
import { killServerProcesses, startServerProcess } from '../support/server-process';
import { createScratchRedis, ScratchRedis } from '../support/scratch-redis';
import { createTestDatabase, describeWithServices, TestDatabase } from '../support/services';

/*
 * Two stacks sharing one Redis: each real server process (real config parsing and wiring)
 * has its own database, so both hold a memo 1, and each must serve its own. With the default
 * CACHE_KEY_PREFIX (derived from the database) or distinct explicit ones they do; the control
 * case, one explicit prefix for both, shows the test can see a collision when there is one.
 */

const START_TIMEOUT_MS = 30_000;

describeWithServices('cache keys per stack on one Redis', ['mariadb', 'redis'], () => {
  let stackA: TestDatabase;
  let stackB: TestDatabase;
  let redis: ScratchRedis | undefined;

  beforeAll(async () => {
    stackA = await createTestDatabase('prefix_a');
    stackB = await createTestDatabase('prefix_b');
    // A Redis of its own: the control case writes keys another suite's server could read.
    redis = await createScratchRedis();
  }, 30_000);

  afterAll(async () => {
    await killServerProcesses();
    await redis?.stop();
    await stackA?.drop();
    await stackB?.drop();
  }, 30_000);

  async function start(db: TestDatabase, env: Record<string, string>): Promise<ServerProcess> {
    return startServerProcess({
      name: db.name,
      dbName: db.name,
      redisPort: redis?.port,
      env: { CACHE_TTL_SECONDS: '300', ...env },
      startTimeoutMs: START_TIMEOUT_MS,
    });
  }

  /** Creates memo `title` in the stack (its first memo in a fresh database) and reads it twice. */
  async function createAndCache(server: ServerProcess, title: string): Promise<number> {
    const created = await fetch(`${server.baseUrl}/api/memos`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ title }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: number };
    for (let i = 0; i < 2; i++) expect((await fetch(`${server.baseUrl}/api/memos/${id}`)).status).toBe(200);
    return id;
  }

  const titleOf = async (server: ServerProcess, id: number): Promise<string> =>
    ((await (await fetch(`${server.baseUrl}/api/memos/${id}`)).json()) as { title: string }).title;

  async function readEachOther(
    envA: Record<string, string>,
    envB: Record<string, string>,
  ): Promise<string[]> {
    await stackA.db.raw('DELETE FROM memos');
    await stackB.db.raw('DELETE FROM memos');
    await stackA.db.raw('ALTER TABLE memos AUTO_INCREMENT = 1');
    await stackB.db.raw('ALTER TABLE memos AUTO_INCREMENT = 1');
    const [a, b] = await Promise.all([start(stackA, envA), start(stackB, envB)]);
    try {
      const idA = await createAndCache(a, 'memo of stack A');
      // B's memo gets the same id in its own database; B reads after A's entry is in Redis.
      const idB = await fetch(`${b.baseUrl}/api/memos`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ title: 'memo of stack B' }),
      }).then(async (r) => ((await r.json()) as { id: number }).id);
      expect(idB).toBe(idA);
      return [await titleOf(a, idA), await titleOf(b, idB)];
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  }

  it('when CACHE_KEY_PREFIX is left to its default, then each stack serves its own memo 1', async () => {
    expect(await readEachOther({}, {})).toEqual(['memo of stack A', 'memo of stack B']);
  }, 90_000);

  it('when each stack sets its own CACHE_KEY_PREFIX, then each serves its own memo 1', async () => {
    expect(
      await readEachOther(
        { CACHE_KEY_PREFIX: 'memo/ns-a/memo-api' },
        { CACHE_KEY_PREFIX: 'memo/ns-b/memo-api' },
      ),
    ).toEqual(['memo of stack A', 'memo of stack B']);
  }, 90_000);

  it("when both stacks are given the same CACHE_KEY_PREFIX (the control), then B serves A's memo: the collision the prefix prevents", async () => {
    expect(await readEachOther({ CACHE_KEY_PREFIX: 'shared' }, { CACHE_KEY_PREFIX: 'shared' })).toEqual([
      'memo of stack A',
      'memo of stack A',
    ]);
  }, 90_000);
});
