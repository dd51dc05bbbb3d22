import type http from 'node:http';
import type { AddressInfo } from 'node:net';

/*
 * The child side of lib/proc.ts: report the port, answer counter requests, stop on request.
 * Only loopback is bound: benches never expose anything beyond this machine.
 */

export type Handlers = Record<string, () => Promise<unknown>>;

function send(message: unknown): void {
  if (process.send) process.send(message);
}

export async function serve(
  server: http.Server,
  handlers: Handlers,
  close: () => Promise<void>,
  port = 0,
): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    // Requests a load generator left in flight finish first, so closing the pools aborts nothing.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    const cut = setTimeout(() => server.closeAllConnections(), 5000);
    await closed;
    clearInterval(sweep);
    clearTimeout(cut);
    await close();
    process.disconnect?.();
    // Exiting explicitly also flushes a --cpu-prof profile.
    process.exit(0);
  };
  process.on('message', (msg: { type: string; id: number }) => {
    if (msg.type === 'stop') {
      void stop();
      return;
    }
    const handler = handlers[msg.type];
    if (!handler) return send({ type: 'reply', id: msg.id, value: { error: `unknown request ${msg.type}` } });
    handler().then(
      (value) => send({ type: 'reply', id: msg.id, value }),
      (err: unknown) => send({ type: 'reply', id: msg.id, value: { error: String(err) } }),
    );
  });
  // The parent died without asking: do not linger as an orphan holding a port.
  process.on('disconnect', () => void stop());
  process.on('SIGTERM', () => void stop());
  send({ type: 'listening', port: (server.address() as AddressInfo).port });
}

export function fail(err: unknown): never {
  send({ type: 'failed', error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exit(1);
}
