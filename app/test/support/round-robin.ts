import http from 'node:http';
import type { AddressInfo } from 'node:net';

/*
 * A small HTTP load balancer on 127.0.0.1 that behaves like a Service in front of its pods:
 * it probes each backend's /health/ready on its own period (the kubelet), and sends each new
 * request to the next backend that was last seen ready (the endpoints controller drops a pod
 * whose readiness fails; kube-proxy or an ingress spreads connections over the rest). Requests
 * are forwarded over keep-alive connections, as a proxy would, and a failed request is never
 * retried: the client gets a 502 (or a reset), so a suite sees every failure the service causes.
 */

export interface RoundRobinOptions {
  /** Milliseconds between readiness probes of each backend. @default 200 */
  readonly pollIntervalMs?: number;
  /** Milliseconds a probe may take before it counts as failed (the kubelet's timeoutSeconds). @default 1000 */
  readonly probeTimeoutMs?: number;
}

export interface BackendStats {
  readonly name: string;
  readonly port: number;
  readonly ready: boolean;
  /** Requests sent to this backend. */
  readonly forwarded: number;
  /** Of those, how many got no response from it (reset, refused): answered 502 to the client. */
  readonly errors: number;
  /** performance.now() of the last change of readiness as the balancer saw it. */
  readonly changedAt: number;
  /** performance.now() of the last request sent to this backend. */
  readonly lastForwardedAt: number;
}

export interface RoundRobin {
  readonly url: string;
  /** Adds a backend; it gets requests once a probe has seen it ready. */
  add(name: string, port: number): void;
  isReady(name: string): boolean;
  /** Resolves once the balancer routes to (ready) or away from (not ready) the backend. */
  waitFor(name: string, ready: boolean, timeoutMs: number): Promise<void>;
  stats(): BackendStats[];
  /** Requests answered 503 because no backend was ready. */
  noBackend(): number;
  close(): Promise<void>;
}

interface Backend {
  name: string;
  port: number;
  ready: boolean;
  probing: boolean;
  forwarded: number;
  errors: number;
  changedAt: number;
  lastForwardedAt: number;
}

// Hop-by-hop headers belong to one connection and are not forwarded (RFC 9110 7.6.1).
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
]);

function endToEnd(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

export async function startRoundRobin(options: RoundRobinOptions = {}): Promise<RoundRobin> {
  const pollIntervalMs = options.pollIntervalMs ?? 200;
  const probeTimeoutMs = options.probeTimeoutMs ?? 1000;
  const backends: Backend[] = [];
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  let next = 0;
  let noBackend = 0;

  const probe = (backend: Backend): void => {
    if (backend.probing) return;
    backend.probing = true;
    const done = (ready: boolean): void => {
      backend.probing = false;
      if (ready !== backend.ready) {
        backend.ready = ready;
        backend.changedAt = performance.now();
      }
    };
    // A probe opens its own connection, as the kubelet's does.
    const req = http.get(
      { host: '127.0.0.1', port: backend.port, path: '/health/ready', agent: false, timeout: probeTimeoutMs },
      (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode === 200));
        res.on('error', () => done(false));
      },
    );
    req.on('timeout', () => req.destroy(new Error('probe timeout')));
    req.on('error', () => done(false));
  };
  const poller = setInterval(() => backends.forEach(probe), pollIntervalMs);

  const pick = (): Backend | undefined => {
    for (let i = 0; i < backends.length; i++) {
      const backend = backends[(next + i) % backends.length];
      if (backend.ready) {
        next = (next + i + 1) % backends.length;
        return backend;
      }
    }
    return undefined;
  };

  const fail = (res: http.ServerResponse, status: number, reason: string): void => {
    if (res.headersSent) {
      // Part of the answer is out: cutting the connection is what the client would see.
      res.destroy();
      return;
    }
    res.writeHead(status, { 'content-type': 'application/json', 'x-round-robin-error': reason });
    res.end(JSON.stringify({ error: reason }));
  };

  const server = http.createServer((req, res) => {
    const backend = pick();
    if (!backend) {
      noBackend++;
      req.resume();
      fail(res, 503, 'no ready backend');
      return;
    }
    backend.forwarded++;
    backend.lastForwardedAt = performance.now();
    const upstream = http.request(
      {
        host: '127.0.0.1',
        port: backend.port,
        method: req.method,
        path: req.url,
        agent,
        headers: { ...endToEnd(req.headers), 'x-forwarded-for': req.socket.remoteAddress ?? '' },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, {
          ...endToEnd(answer.headers),
          'x-round-robin-backend': backend.name,
        });
        answer.pipe(res);
        answer.on('error', () => {
          backend.errors++;
          res.destroy();
        });
      },
    );
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      backend.errors++;
      fail(res, 502, `${backend.name}: ${err.code ?? err.message}`);
    });
    // The client gave up: so does the upstream request (no retry either way).
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const find = (name: string): Backend => {
    const backend = backends.find((b) => b.name === name);
    if (!backend) throw new Error(`round robin: no backend named ${name}`);
    return backend;
  };

  return {
    url: `http://127.0.0.1:${port}`,
    add(name, backendPort) {
      const backend: Backend = {
        name,
        port: backendPort,
        ready: false,
        probing: false,
        forwarded: 0,
        errors: 0,
        changedAt: performance.now(),
        lastForwardedAt: NaN,
      };
      backends.push(backend);
      probe(backend);
    },
    isReady: (name) => find(name).ready,
    async waitFor(name, ready, timeoutMs) {
      const backend = find(name);
      const deadline = Date.now() + timeoutMs;
      while (backend.ready !== ready) {
        if (Date.now() > deadline) {
          throw new Error(`round robin: ${name} not ${ready ? 'ready' : 'removed'} after ${timeoutMs} ms`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    stats: () =>
      backends.map(({ name, port: p, ready, forwarded, errors, changedAt, lastForwardedAt }) => ({
        name,
        port: p,
        ready,
        forwarded,
        errors,
        changedAt,
        lastForwardedAt,
      })),
    noBackend: () => noBackend,
    async close() {
      clearInterval(poller);
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
