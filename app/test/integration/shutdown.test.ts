import { ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import {
  createTestDatabase,
  describeWithServices,
  TEST_DB,
  TEST_REDIS,
  TestDatabase,
} from '../support/services';
import { freePort } from '../support/ports';

interface Reply {
  status: number;
  body: string;
}

/** One request on its own connection (no keep-alive agent), so a closed listener shows as an error. */
function send(
  port: number,
  method: string,
  urlPath: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: urlPath,
        agent: false,
        headers: {
          ...headers,
          ...(payload
            ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) }
            : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const SHUTDOWN_DELAY_MS = 800;

describeWithServices('graceful shutdown of the server process', ['mariadb', 'redis'], () => {
  let testDb: TestDatabase;
  let child: ChildProcess | undefined;
  let output = '';

  beforeAll(async () => {
    testDb = await createTestDatabase('shutdown');
  });
  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await testDb?.drop();
  });

  async function startServer(port: number): Promise<ChildProcess> {
    const proc = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', path.join(__dirname, '../support/server-main.ts')],
      {
        env: {
          PATH: process.env.PATH,
          TS_NODE_PROJECT: path.join(__dirname, '../../tsconfig.json'),
          PORT: String(port),
          LOG_LEVEL: 'info',
          DB_HOST: TEST_DB.host,
          DB_PORT: String(TEST_DB.port),
          DB_NAME: testDb.name,
          DB_USER: TEST_DB.user,
          DB_PASSWORD: TEST_DB.password,
          REDIS_HOST: TEST_REDIS.host,
          REDIS_PORT: String(TEST_REDIS.port),
          KAFKA_BROKERS: process.env.TEST_KAFKA_BROKERS ?? '127.0.0.1:9092',
          KAFKA_TOPIC: `memo_events_${testDb.name}`,
          RATE_LIMIT_PER_MINUTE: '0',
          SHUTDOWN_DELAY_MS: String(SHUTDOWN_DELAY_MS),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    proc.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    proc.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    const start = Date.now();
    while (!output.includes('"msg":"listening"')) {
      if (proc.exitCode !== null) throw new Error(`server exited early (${proc.exitCode}):\n${output}`);
      if (Date.now() - start > 30_000) throw new Error(`server did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return proc;
  }

  it('when SIGTERM arrives during requests, then readiness fails first, in-flight requests complete, new connections are refused, and the process exits 0', async () => {
    const port = await freePort();
    child = await startServer(port);
    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));

    const ids: number[] = [];
    for (let i = 0; i < 3; i++) {
      const created = await send(port, 'POST', '/api/memos', { title: `in flight ${i}` });
      expect(created.status).toBe(201);
      ids.push(JSON.parse(created.body).id);
    }
    expect((await send(port, 'GET', '/health/ready')).status).toBe(200);

    // Hold the rows locked so the PATCHes below are still running when the signal arrives.
    const trx = await testDb.db.transaction();
    await trx('memos').whereIn('id', ids).forUpdate().select('id');
    const inFlight = ids.map((id) =>
      send(port, 'PATCH', `/api/memos/${id}`, { title: `done ${id}` }, { 'If-Match': '"1"' }),
    );
    await new Promise((r) => setTimeout(r, 300));

    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 150));
    const ready = await send(port, 'GET', '/health/ready');
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body).reason).toBe('shutting down');
    expect((await send(port, 'GET', '/health/live')).status).toBe(200);

    // After the delay the listener is closed: new connections fail while the PATCHes still wait.
    await new Promise((r) => setTimeout(r, SHUTDOWN_DELAY_MS + 400));
    await expect(send(port, 'GET', '/health/live')).rejects.toThrow(/ECONNREFUSED/);
    expect(child.exitCode).toBeNull();

    await trx.commit();
    const results = await Promise.all(inFlight);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(results.map((r) => JSON.parse(r.body).title)).toEqual(ids.map((id) => `done ${id}`));

    expect(await exited).toBe(0);
    expect(output).toContain('shutdown: readiness now fails');
    expect(output).toContain('shutdown complete');
  });

  it('when a second signal arrives during shutdown, then the process exits 1 at once', async () => {
    output = '';
    const port = await freePort();
    const proc = await startServer(port);
    child = proc;
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    proc.kill('SIGINT');
    const start = Date.now();
    expect(await exited).toBe(1);
    expect(Date.now() - start).toBeLessThan(SHUTDOWN_DELAY_MS);
    expect(output).toContain('second signal');
  });
});
