import net from 'node:net';

/*
 * A TCP proxy on 127.0.0.1 in front of a real server (MariaDB in the health suites), so a test
 * can take the server away from the app and give it back without stopping the shared service:
 * cut() destroys every live connection and closes the listener, so new connections are
 * refused (ECONNREFUSED), as when the server is down; restore() listens on the same port again.
 */
export interface TcpProxy {
  readonly host: string;
  readonly port: number;
  /** Connections currently relayed (each client socket counts once). */
  readonly liveConnections: number;
  /** Destroys live connections (both sides) and refuses new ones until restore(). */
  cut(): Promise<void>;
  /** Accepts connections again on the same port. */
  restore(): Promise<void>;
  /** cut() for good; safe to call more than once. */
  close(): Promise<void>;
}

const HOST = '127.0.0.1';

function listen(server: net.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen({ host: HOST, port, exclusive: true }, () => {
      server.off('error', onError);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

export async function startTcpProxy(target: {
  readonly host: string;
  readonly port: number;
}): Promise<TcpProxy> {
  const live = new Set<net.Socket>();
  let server: net.Server | undefined;

  const relay = (client: net.Socket): void => {
    const upstream = net.connect({ host: target.host, port: target.port });
    live.add(client);
    const teardown = (): void => {
      live.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', teardown);
    upstream.on('error', teardown);
    client.on('close', teardown);
    upstream.on('close', teardown);
    client.pipe(upstream);
    upstream.pipe(client);
  };

  const open = async (port: number): Promise<number> => {
    const next = net.createServer(relay);
    const bound = await listen(next, port);
    server = next;
    return bound;
  };

  const cut = async (): Promise<void> => {
    const current = server;
    server = undefined;
    const closed = current
      ? new Promise<void>((resolve) => current.close(() => resolve()))
      : Promise.resolve();
    for (const socket of [...live]) socket.destroy();
    live.clear();
    await closed;
  };

  const port = await open(0);
  return {
    host: HOST,
    port,
    get liveConnections() {
      return live.size;
    },
    cut,
    async restore() {
      if (server) return;
      const bound = await open(port);
      if (bound !== port) throw new Error(`tcp proxy came back on ${bound} instead of ${port}`);
    },
    close: cut,
  };
}
