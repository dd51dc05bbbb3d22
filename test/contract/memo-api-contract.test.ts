import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import {
  INSTALL_HINT,
  ROOT_DIR,
  container,
  containerEnv,
  distProfiles,
  envRecord,
  findProgram,
  freePort,
  isObj,
  listAt,
  loadDistProfile,
  mountedConfigMapFiles,
  objAt,
  podTemplate,
  portOpen,
  redisServerInvocation,
  requireResource,
  run,
  runMariadbInitScript,
  sleep,
  startDaemon,
  startMariadb,
  startRedis,
  strAt,
  type Daemon,
  type DistProfile,
  type Obj,
  type RunningMariadb,
  type RunningRedis,
} from '../../validation/programs';
import { loadersCalledBy, variablesReadBy } from './config-reads';

/*
 * The contract between the kind profile's memo-api Deployment and the memo service: the service
 * starts with exactly the environment the Deployment gives its container (Service host names
 * mapped to 127.0.0.1 and their ports to local servers, Secret values filled in for the test),
 * its probes answer at the manifest's port and paths, and the variables the manifest sets are
 * exactly the variables the service reads.
 *
 * MariaDB and Redis are private servers started with the profile's own my.cnf and redis.conf,
 * and provisioned the way their StatefulSets provision them (MariaDB's initdb scripts from its
 * ConfigMap, run with the container's environment, so the database and both accounts come from
 * the same Secret keys; Redis requirepass from the same Secret key), so a mismatch between the
 * API's or the migrations' secret references and the backing services' shows as a failed login. Kafka is the shared
 * test broker (scripts/services/up.sh).
 */

const STRICT = process.env.CI === 'true' || process.env.REQUIRE_SERVICES === '1';
const APP_DIR = path.join(ROOT_DIR, 'app');
const KAFKA_ADDRESS = process.env.TEST_KAFKA_BROKERS?.split(',')[0] ?? '127.0.0.1:9092';
const KAFKA_PORT = Number(KAFKA_ADDRESS.split(':')[1] ?? '9092');

/** One test value per Secret key: the same key gives the same value wherever it is referenced. */
const secretValue = (secretName: string, key: string): string => `contract-${secretName}-${key}`;

function kafkaUp(): boolean {
  return (
    spawnSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${KAFKA_PORT}`], { timeout: 3_000 }).status === 0
  );
}

function missingPrerequisites(): string[] {
  const missing = ['mariadbd', 'mariadb-install-db', 'mariadb', 'redis-server', 'redis-cli']
    .filter((p) => findProgram(p) === undefined)
    .map((p) => `${p} (${INSTALL_HINT})`);
  if (!kafkaUp())
    missing.push(`a Kafka broker on 127.0.0.1:${KAFKA_PORT} (bash scripts/services/up.sh starts it)`);
  if (!distProfiles().includes('kind')) missing.push('dist/kind (npm run synth)');
  return missing;
}

interface LocalTarget {
  readonly servicePort: number;
  readonly localPort: number;
}

/** Every name a Service answers to from inside the namespace. */
function serviceHostNames(service: string, namespace: string): string[] {
  return [
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.cluster.local`,
  ];
}

/**
 * Rewrites Service addresses in an environment to the local servers standing in for them:
 * `host:port` values (also in comma-separated lists), `<X>_HOST` values, and the `<X>_PORT` variable
 * paired with a mapped `<X>_HOST`. A Service address without a local stand-in, or a port the
 * Service does not expose, throws.
 */
function localize(
  env: Record<string, string>,
  dist: DistProfile,
  targets: ReadonlyMap<string, LocalTarget>,
): { env: Record<string, string>; mapped: string[] } {
  const hosts = new Map<string, { service: string; ports: number[] }>();
  for (const svc of dist.resources.filter((r) => r.kind === 'Service')) {
    const ports = listAt(objAt(svc.raw.spec).ports).map((p) => Number(objAt(p).port));
    for (const h of serviceHostNames(svc.name, svc.namespace)) hosts.set(h, { service: svc.name, ports });
  }
  const out: Record<string, string> = { ...env };
  const mapped: string[] = [];
  const hostVars = new Map<string, string>();
  const target = (service: string, name: string): LocalTarget => {
    const t = targets.get(service);
    if (t === undefined) throw new Error(`${name} names Service ${service}, which has no local stand-in`);
    return t;
  };
  for (const [name, value] of Object.entries(env)) {
    const parts = value.split(',').map((part) => {
      const m = /^([a-z0-9.-]+)(?::(\d+))?$/.exec(part.trim());
      const host = m === null ? undefined : hosts.get(m[1]);
      // A bare word is a host only in a *_HOST variable (KAFKA_CLIENT_ID=memo-api is a name).
      if (m === null || host === undefined || (m[2] === undefined && !name.endsWith('_HOST'))) return part;
      const t = target(host.service, name);
      if (m[2] === undefined) {
        hostVars.set(name, host.service);
        return '127.0.0.1';
      }
      if (!host.ports.includes(Number(m[2])) || Number(m[2]) !== t.servicePort) {
        throw new Error(`${name}=${value}: Service ${host.service} does not expose port ${m[2]} here`);
      }
      return `127.0.0.1:${t.localPort}`;
    });
    const local = parts.join(',');
    if (local !== value) {
      out[name] = local;
      mapped.push(`${name}: ${value} -> ${local}`);
    }
  }
  for (const [hostVar, service] of hostVars) {
    const portVar = hostVar.replace(/_HOST$/, '_PORT');
    if (portVar === hostVar || env[portVar] === undefined) continue;
    const t = target(service, portVar);
    if (Number(env[portVar]) !== t.servicePort) {
      throw new Error(`${portVar}=${env[portVar]}: Service ${service} listens on ${t.servicePort}`);
    }
    out[portVar] = String(t.localPort);
    mapped.push(`${portVar}: ${env[portVar]} -> ${t.localPort}`);
  }
  return { env: out, mapped };
}

function httpGet(port: number, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${urlPath} timed out`)));
    req.on('error', reject);
  });
}

/** Polls until the path answers 200 (a readiness probe is allowed to fail for a while). */
async function eventually200(
  port: number,
  urlPath: string,
  timeoutMs: number,
): Promise<{ status: number; body: string }> {
  const deadline = Date.now() + timeoutMs;
  let last = { status: 0, body: '' };
  while (Date.now() < deadline) {
    last = await httpGet(port, urlPath).catch((err: Error) => ({ status: 0, body: err.message }));
    if (last.status === 200) return last;
    await sleep(500);
  }
  return last;
}

/** The app source file a container runs: its `node dist/<x>.js` command, else package.json main. */
function entryOf(c: Obj): string {
  const command = [...listAt(c.command), ...listAt(c.args)].map(String);
  const script = command.find((w) => /^dist\/.+\.js$/.test(w));
  const main = strAt(objAt(JSON.parse(fs.readFileSync(path.join(APP_DIR, 'package.json'), 'utf8'))).main);
  const compiled = script ?? main ?? 'dist/index.js';
  return path.join(APP_DIR, compiled.replace(/^dist\//, 'src/').replace(/\.js$/, '.ts'));
}

function probeOf(c: Obj, kind: string): Obj | undefined {
  const p = c[kind];
  return isObj(p) ? p : undefined;
}

const missing = missingPrerequisites();
const describeContract = missing.length === 0 || STRICT ? describe : describe.skip;
if (missing.length > 0 && !STRICT) console.warn(`SKIPPED memo-api contract: missing ${missing.join('; ')}`);

describeContract('memo-api contract: the kind Deployment and the memo service', () => {
  let dist: DistProfile;
  let api: Obj;
  let initContainers: Obj[];
  let mariadb: RunningMariadb | undefined;
  let redis: RunningRedis | undefined;
  let server: Daemon | undefined;
  let serverPort = 0;
  let manifestPort = 0;
  let targets: Map<string, LocalTarget>;
  const notes: string[] = [];

  const envOf = (c: Obj): Record<string, string> => envRecord(containerEnv(dist, c, { secret: secretValue }));
  /** Exactly the container's environment (localized), plus what any process needs to run. */
  const processEnv = (env: Record<string, string>): NodeJS.ProcessEnv => ({
    ...env,
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
  });

  beforeAll(async () => {
    if (missing.length > 0) throw new Error(`missing: ${missing.join('; ')}`);
    dist = loadDistProfile('kind');
    const deployment = requireResource(dist, 'Deployment', 'memo-api');
    api = container(deployment, 'api');
    initContainers = listAt(podTemplate(deployment).spec.initContainers).filter(isObj);

    // The backing services, configured and provisioned as their StatefulSets do it.
    const mariadbSts = requireResource(dist, 'StatefulSet', 'memo-mariadb');
    const cnf = mountedConfigMapFiles(dist, mariadbSts, 'mariadb').find((f) =>
      f.path.startsWith('/etc/mysql/conf.d/'),
    );
    const mariadbEnv = envOf(container(mariadbSts, 'mariadb'));
    mariadb = await startMariadb(cnf?.content ?? '');
    // The image's entrypoint sources every initdb script at first start, in name order; these
    // create the database and its accounts (the API's and the migrations'), as in the pod.
    const initScripts = mountedConfigMapFiles(dist, mariadbSts, 'mariadb')
      .filter((f) => f.path.startsWith('/docker-entrypoint-initdb.d/') && f.path.endsWith('.sh'))
      .sort((a, b) => a.path.localeCompare(b.path));
    expect(initScripts.map((f) => f.key)).toContain('create-app-accounts.sh');
    for (const script of initScripts) {
      await runMariadbInitScript(
        { host: '127.0.0.1', port: mariadb.port, user: 'root', password: '' },
        script.content,
        mariadbEnv,
      );
    }

    const redisSts = requireResource(dist, 'StatefulSet', 'memo-redis');
    const redisContainer = container(redisSts, 'redis');
    const invocation = redisServerInvocation(redisContainer);
    const conf = mountedConfigMapFiles(dist, redisSts, 'redis').find((f) => f.path === invocation.configPath);
    const redisPassword = envOf(redisContainer).REDISCLI_AUTH;
    redis = await startRedis(conf?.content ?? '', {
      extraArgs: invocation.args,
      generatedFiles: Object.fromEntries(
        invocation.args
          .filter((_a, i) => invocation.args[i - 1] === '--include')
          .map((p) => [p, `requirepass "${redisPassword}"\n`]),
      ),
      password: redisPassword,
    });

    targets = new Map([
      ['memo-mariadb', { servicePort: 3306, localPort: mariadb.port }],
      ['memo-redis', { servicePort: 6379, localPort: redis.port }],
      ['memo-kafka-bootstrap', { servicePort: 9092, localPort: KAFKA_PORT }],
    ]);

    // The init containers first, as the kubelet runs them.
    for (const init of initContainers) {
      const { env, mapped } = localize(envOf(init), dist, targets);
      notes.push(`init ${String(init.name)}: ${mapped.join(', ')}`);
      const result = await run(
        process.execPath,
        ['-r', 'ts-node/register/transpile-only', path.relative(APP_DIR, entryOf(init))],
        { cwd: APP_DIR, env: processEnv(env), timeoutMs: 60_000 },
      );
      if (result.code !== 0) throw new Error(`init container ${String(init.name)} failed:\n${result.output}`);
    }

    const { env, mapped } = localize(envOf(api), dist, targets);
    notes.push(`api: ${mapped.join(', ')}`);
    manifestPort = Number(env.PORT);
    serverPort = manifestPort;
    if (await portOpen(manifestPort)) {
      // Only on a shared machine: the port contract is still checked against the manifest below.
      serverPort = await freePort();
      notes.push(`PORT ${manifestPort} is taken on this machine; the service listens on ${serverPort}`);
    }
    // app/test/support/server-main.ts is index.ts's composition root bound to 127.0.0.1 instead
    // of every interface; it reads the same config module.
    server = await startDaemon(
      'memo-api',
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', path.join('test', 'support', 'server-main.ts')],
      {
        cwd: APP_DIR,
        env: processEnv({ ...env, PORT: String(serverPort) }),
        timeoutMs: 60_000,
        ready: async () =>
          (await httpGet(serverPort, '/health/live').catch(() => ({ status: 0 }))).status > 0,
      },
    );
  }, 180_000);

  afterAll(async () => {
    await server?.stop(15_000);
    await redis?.stop();
    await mariadb?.stop();
    if (notes.length > 0) console.info(`memo-api contract, local substitutions:\n  ${notes.join('\n  ')}`);
  }, 60_000);

  it('when the probes name a port, then it is the container port whose number is the PORT the service listens on', () => {
    const ports = listAt(api.ports).filter(isObj);
    for (const kind of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
      const probe = probeOf(api, kind);
      if (probe === undefined) continue;
      const port = objAt(probe.httpGet).port;
      const declared = ports.find((p) => p.name === port || p.containerPort === port);
      expect({ kind, port: declared?.containerPort }).toEqual({ kind, port: manifestPort });
    }
  });

  it('when the service runs with the Deployment environment, then its readiness, liveness and startup probes answer 200 at the manifest paths', async () => {
    const probes = ['readinessProbe', 'livenessProbe', 'startupProbe'].filter(
      (k) => probeOf(api, k) !== undefined,
    );
    expect(probes).toEqual(expect.arrayContaining(['readinessProbe', 'livenessProbe']));
    for (const kind of probes) {
      const urlPath = strAt(objAt(probeOf(api, kind)?.httpGet).path) ?? '';
      const reply = await eventually200(serverPort, urlPath, 30_000);
      expect({ kind, urlPath, status: reply.status, body: reply.status === 200 ? '' : reply.body }).toEqual({
        kind,
        urlPath,
        status: 200,
        body: '',
      });
    }
  }, 90_000);

  it('when the service runs with the Deployment environment, then it reaches the database, Redis and Kafka', async () => {
    const deadline = Date.now() + 30_000;
    let report: unknown;
    do {
      report = JSON.parse((await httpGet(serverPort, '/health')).body);
      if (objAt(report).status === 'healthy') break;
      await sleep(1_000);
    } while (Date.now() < deadline);
    expect(objAt(report).services).toEqual({ database: 'up', redis: 'up', kafka: 'up' });
  }, 60_000);

  describe('environment contract', () => {
    const reads = variablesReadBy(path.join(APP_DIR, 'src', 'config', 'index.ts'));
    const readBy = (c: Obj): string[] => {
      const loaders = loadersCalledBy(entryOf(c), reads.keys());
      expect(loaders.length).toBeGreaterThan(0);
      return [...new Set(loaders.flatMap((l) => [...(reads.get(l) ?? [])]))].sort();
    };
    const setBy = (c: Obj): string[] =>
      listAt(c.env)
        .map((e) => strAt(objAt(e).name) ?? '')
        .sort();

    it('when the service reads its configuration, then the Deployment sets every variable it reads', () => {
      const unset = readBy(api).filter((v) => !setBy(api).includes(v));
      expect(unset).toEqual([]);
    });

    it('when the Deployment sets a variable, then the service reads it', () => {
      const unread = setBy(api).filter((v) => !readBy(api).includes(v));
      expect(unread).toEqual([]);
    });

    it('when an init container runs an entry of the service, then it sets exactly the variables that entry reads', () => {
      expect(initContainers.length).toBeGreaterThan(0);
      for (const init of initContainers) {
        const entry = path.relative(ROOT_DIR, entryOf(init));
        const reads = readBy(init);
        const sets = setBy(init);
        expect({
          entry,
          unset: reads.filter((v) => !sets.includes(v)),
          unread: sets.filter((v) => !reads.includes(v)),
        }).toEqual({
          entry,
          unset: [],
          unread: [],
        });
      }
    });
  });
});
