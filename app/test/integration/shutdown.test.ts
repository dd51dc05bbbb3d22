import http from 'node:http';
import { killServerProcesses, ServerProcess, startServerProcess } from '../support/server-process';
import { createTestDatabase, describeWithServices, TestDatabase } from '../support/services';

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

  beforeAll(async () => {
    testDb = await createTestDatabase('shutdown');
  });
  afterAll(async () => {
    await killServerProcesses();
    await testDb?.drop();
  });

  const startServer = (): Promise<ServerProcess> =>
    startServerProcess({
      dbName: testDb.name,
      env: { SHUTDOWN_DELAY_MS: String(SHUTDOWN_DELAY_MS) },
      readyWhen: 'listening-log',
    });

  it('when SIGTERM arrives during requests, then readiness fails first, in-flight requests complete, new connections are refused, and the process exits 0', async () => {
    const server = await startServer();
    const { port } = server;

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

    server.terminate();
    await new Promise((r) => setTimeout(r, 150));
    const ready = await send(port, 'GET', '/health/ready');
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body).reason).toBe('shutting down');
    expect((await send(port, 'GET', '/health/live')).status).toBe(200);

    // After the delay the listener is closed: new connections fail while the PATCHes still wait.
    await new Promise((r) => setTimeout(r, SHUTDOWN_DELAY_MS + 400));
    await expect(send(port, 'GET', '/health/live')).rejects.toThrow(/ECONNREFUSED/);
    expect(server.alive()).toBe(true);

    await trx.commit();
    const results = await Promise.all(inFlight);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(results.map((r) => JSON.parse(r.body).title)).toEqual(ids.map((id) => `done ${id}`));

    expect(await server.exited).toBe(0);
    expect(server.output()).toContain('shutdown: readiness now fails');
    expect(server.output()).toContain('shutdown complete');
  });

  it('when a second signal arrives during shutdown, then the process exits 1 at once', async () => {
    const server = await startServer();
    server.terminate();
    await new Promise((r) => setTimeout(r, 100));
    server.signal('SIGINT');
    const start = Date.now();
    expect(await server.exited).toBe(1);
    expect(Date.now() - start).toBeLessThan(SHUTDOWN_DELAY_MS);
    expect(server.output()).toContain('second signal');
  });
});
