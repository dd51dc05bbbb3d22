import { execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/*
 * A real Kubernetes control plane on 127.0.0.1, from the binaries test/cluster/build.sh
 * compiles: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and KWOK (fake
 * kubelets). Every process runs detached with a pid file and a log under the run folder, so
 * `npm run cluster -- up` can return and `down` can stop exactly what `up` started.
 */

export const ROOT_DIR = path.resolve(__dirname, '../..');

/** Where one release's binaries and running state live. */
export interface ClusterLayout {
  readonly version: string;
  readonly binDir: string;
  readonly runDir: string;
  readonly kubeconfig: string;
  readonly etcdPort: number;
  readonly apiserverPort: number;
}

/** The release build.sh builds when K8S_VERSION is unset (test/cluster/versions.env). */
export function defaultVersion(): string {
  const match = /^K8S_VERSION=(\S+)$/m.exec(readFileSync(path.join(__dirname, 'versions.env'), 'utf8'));
  if (!match) throw new Error('test/cluster/versions.env names no K8S_VERSION');
  return match[1];
}

/**
 * Fixed ports by default (one cluster per checkout is what the tests and people need), below
 * the ephemeral range so no client socket holds them. CLUSTER_ETCD_PORT (it also uses the port
 * 10 above) and CLUSTER_APISERVER_PORT move them, for a second checkout's cluster beside.
 */
export function layout(version = defaultVersion(), env: NodeJS.ProcessEnv = process.env): ClusterLayout {
  const base = path.join(ROOT_DIR, '.services', 'cluster', version);
  return {
    version,
    binDir: path.join(base, 'bin'),
    runDir: path.join(base, 'run'),
    kubeconfig: path.join(base, 'run', 'kubeconfig'),
    etcdPort: Number(env.CLUSTER_ETCD_PORT ?? 23790),
    apiserverPort: Number(env.CLUSTER_APISERVER_PORT ?? 16443),
  };
}

const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'] as const;
type Component = (typeof COMPONENTS)[number];

function pidFile(l: ClusterLayout, c: Component): string {
  return path.join(l.runDir, `${c}.pid`);
}

export function logFile(l: ClusterLayout, c: Component): string {
  return path.join(l.runDir, `${c}.log`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function runningPid(l: ClusterLayout, c: Component): number | undefined {
  if (!existsSync(pidFile(l, c))) return undefined;
  const pid = Number(readFileSync(pidFile(l, c), 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : undefined;
}

function start(l: ClusterLayout, c: Component, args: readonly string[]): void {
  const binary = path.join(l.binDir, c);
  if (!existsSync(binary)) {
    throw new Error(
      `${binary} is missing: build the control plane with npm run setup (test/cluster/build.sh)`,
    );
  }
  const log = openSync(logFile(l, c), 'a');
  const child = spawn(binary, args, { detached: true, stdio: ['ignore', log, log], cwd: l.runDir });
  closeSync(log);
  if (child.pid === undefined) throw new Error(`${c} did not start`);
  child.unref();
  writeFileSync(pidFile(l, c), `${child.pid}\n`);
}

/** The admin token every component and kubectl use; a new one per fresh run folder. */
function adminToken(l: ClusterLayout): string {
  return readFileSync(path.join(l.runDir, 'tokens.csv'), 'utf8').split(',')[0];
}

function writeRunFiles(l: ClusterLayout): void {
  mkdirSync(path.join(l.runDir, 'pki'), { recursive: true });
  const tokens = path.join(l.runDir, 'tokens.csv');
  if (!existsSync(tokens)) {
    writeFileSync(
      tokens,
      `${randomBytes(24).toString('hex')},memostack-admin,memostack-admin,system:masters\n`,
      {
        mode: 0o600,
      },
    );
  }
  // One RSA key signs and verifies service account tokens (apiserver and controller-manager).
  const saKey = path.join(l.runDir, 'pki', 'service-account.key');
  if (!existsSync(saKey)) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(saKey, privateKey.export({ type: 'pkcs1', format: 'pem' }), { mode: 0o600 });
  }
  // Pod Security restricted for every namespace but kube-system, whatever its labels say: the
  // manifests must pass it on their own, not because their Namespace asks for it.
  writeFileSync(
    path.join(l.runDir, 'admission.yaml'),
    [
      'apiVersion: apiserver.config.k8s.io/v1',
      'kind: AdmissionConfiguration',
      'plugins:',
      '  - name: PodSecurity',
      '    configuration:',
      '      apiVersion: pod-security.admission.config.k8s.io/v1',
      '      kind: PodSecurityConfiguration',
      '      defaults: { enforce: restricted, enforce-version: latest, warn: restricted, warn-version: latest, audit: restricted, audit-version: latest }',
      '      exemptions: { usernames: [], runtimeClasses: [], namespaces: [kube-system] }',
      '',
    ].join('\n'),
  );
  writeFileSync(
    l.kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '  - name: memostack-test',
      // The apiserver signs its own serving certificate at start (--cert-dir): nothing to pin.
      `    cluster: { server: "https://127.0.0.1:${l.apiserverPort}", insecure-skip-tls-verify: true }`,
      'users:',
      `  - name: memostack-admin`,
      `    user: { token: "${adminToken(l)}" }`,
      'contexts:',
      '  - name: memostack-test',
      '    context: { cluster: memostack-test, user: memostack-admin }',
      'current-context: memostack-test',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
}

function get(l: ClusterLayout, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = https.get(
      {
        host: '127.0.0.1',
        port: l.apiserverPort,
        path: urlPath,
        rejectUnauthorized: false,
        headers: { authorization: `Bearer ${adminToken(l)}` },
        timeout: 2000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ status: 0, body: '' }));
  });
}

function portTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port, timeout: 1000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitFor(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean>,
  logs: string[],
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(250);
  }
  const tails = logs
    .map(
      (f) =>
        `--- ${f}\n${existsSync(f) ? readFileSync(f, 'utf8').split('\n').slice(-15).join('\n') : '(no log)'}`,
    )
    .join('\n');
  throw new Error(`${what} not within ${timeoutMs / 1000} s\n${tails}`);
}

/** Runs this release's kubectl against the cluster and returns stdout; throws with stderr. */
export function kubectl(l: ClusterLayout, args: readonly string[], input?: string): string {
  return execFileSync(path.join(l.binDir, 'kubectl'), ['--kubeconfig', l.kubeconfig, ...args], {
    input,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** The KWOK stage files shipped in the kwok module: nodes ready and heartbeating, pods Running/Ready, Jobs' pods completing. */
function kwokStages(): string[] {
  const moduleDir = execFileSync('go', ['list', '-m', '-f', '{{.Dir}}', 'sigs.k8s.io/kwok'], {
    cwd: path.join(__dirname, 'go', 'kwok'),
    encoding: 'utf8',
  }).trim();
  const stage = path.join(moduleDir, 'kustomize', 'stage');
  return [
    'node/fast/node-initialize.yaml',
    'node/heartbeat-with-lease/node-heartbeat-with-lease.yaml',
    'pod/fast/pod-ready.yaml',
    'pod/fast/pod-complete.yaml',
    'pod/fast/pod-delete.yaml',
  ].map((f) => path.join(stage, f));
}

export interface ClusterStatus {
  readonly running: Record<Component, number | undefined>;
  readonly ready: boolean;
}

export async function status(l: ClusterLayout): Promise<ClusterStatus> {
  const running = Object.fromEntries(COMPONENTS.map((c) => [c, runningPid(l, c)])) as Record<
    Component,
    number | undefined
  >;
  const all = COMPONENTS.every((c) => running[c] !== undefined);
  const ready = all && existsSync(l.kubeconfig) && (await get(l, '/readyz')).status === 200;
  return { running, ready };
}

/**
 * Starts what is not running, in dependency order, and waits until the API serves, the
 * controller manager has made the `default` ServiceAccount (the ServiceAccount admission plugin
 * refuses pods before that) and the scheduler and KWOK are up. Idempotent.
 */
export async function up(l: ClusterLayout): Promise<void> {
  if ((await status(l)).ready) return;
  // A half-started cluster is stopped first: a fresh start is quicker than repairing one. So is
  // a cluster of another release: they share the ports.
  for (const other of readdirSync(path.dirname(path.dirname(l.runDir)))) {
    if (/^v\d+\.\d+\.\d+$/.test(other)) await down(layout(other));
  }
  for (const port of [l.etcdPort, l.etcdPort + 10, l.apiserverPort]) {
    if (await portTaken(port)) {
      throw new Error(
        `port ${port} on 127.0.0.1 is taken by a process this checkout did not start (another clone's cluster? npm run cluster -- down there)`,
      );
    }
  }
  mkdirSync(l.runDir, { recursive: true });
  rmSync(path.join(l.runDir, 'etcd-data'), { recursive: true, force: true });
  writeRunFiles(l);
  const pki = path.join(l.runDir, 'pki');
  const saKey = path.join(pki, 'service-account.key');

  start(l, 'etcd', [
    `--data-dir=${path.join(l.runDir, 'etcd-data')}`,
    `--listen-client-urls=http://127.0.0.1:${l.etcdPort}`,
    `--advertise-client-urls=http://127.0.0.1:${l.etcdPort}`,
    `--listen-peer-urls=http://127.0.0.1:${l.etcdPort + 10}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${l.etcdPort + 10}`,
    `--initial-cluster=default=http://127.0.0.1:${l.etcdPort + 10}`,
    '--listen-metrics-urls=',
    // Test data: losing it on a power cut is fine, waiting for fsync on every write is not.
    '--unsafe-no-fsync',
    '--log-level=warn',
  ]);
  start(l, 'kube-apiserver', [
    `--etcd-servers=http://127.0.0.1:${l.etcdPort}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${l.apiserverPort}`,
    '--advertise-address=127.0.0.1',
    // The `kubernetes` Endpoints may not point at a loopback address; nothing here needs them.
    '--endpoint-reconciler-type=none',
    `--cert-dir=${pki}`,
    '--service-cluster-ip-range=10.96.0.0/16',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${saKey}`,
    `--service-account-signing-key-file=${saKey}`,
    `--token-auth-file=${path.join(l.runDir, 'tokens.csv')}`,
    '--authorization-mode=Node,RBAC',
    // As kubeadm, kind and managed clusters run it: privileged pods are Pod Security's to refuse.
    '--allow-privileged=true',
    `--admission-control-config-file=${path.join(l.runDir, 'admission.yaml')}`,
    '--profiling=false',
  ]);
  const logs = (...c: Component[]) => c.map((x) => logFile(l, x));
  await waitFor(
    'kube-apiserver /readyz',
    120_000,
    async () => (await get(l, '/readyz')).status === 200,
    logs('etcd', 'kube-apiserver'),
  );

  const common = [`--kubeconfig=${l.kubeconfig}`, '--leader-elect=false', '--bind-address=127.0.0.1'];
  start(l, 'kube-controller-manager', [
    ...common,
    '--secure-port=0',
    `--service-account-private-key-file=${saKey}`,
    `--root-ca-file=${path.join(pki, 'apiserver.crt')}`,
    '--use-service-account-credentials=true',
    // KWOK renews node leases every 10 s; on a loaded 2-core machine a renewal can slip, and a
    // node marked NotReady has all its pods marked unready (KWOK's fast stages never undo that).
    // Nodes here never fail for real, so a missed renewal must not look like a failure.
    '--node-monitor-grace-period=2m',
  ]);
  start(l, 'kube-scheduler', [...common, '--secure-port=0']);
  start(l, 'kwok', [
    `--kubeconfig=${l.kubeconfig}`,
    '--manage-all-nodes=true',
    // Node leases as a kubelet keeps them (renewed every quarter of the duration). Without this
    // flag KWOK keeps none, and its status heartbeat comes every 10-20 minutes: the node
    // controller marks every node NotReady in between.
    '--node-lease-duration-seconds=40',
    // Pod IPs outside the Service range; EndpointSlices carry them.
    '--cidr=10.244.0.0/16',
    ...kwokStages().map((f) => `--config=${f}`),
  ]);
  await waitFor(
    'the default ServiceAccount (kube-controller-manager)',
    90_000,
    async () => (await get(l, '/api/v1/namespaces/default/serviceaccounts/default')).status === 200,
    logs('kube-controller-manager'),
  );
  for (const c of ['kube-scheduler', 'kwok'] as const) {
    await waitFor(`${c} running`, 10_000, async () => runningPid(l, c) !== undefined, logs(c));
  }
}

/** Stops every component this run folder started (SIGTERM, then SIGKILL), newest first. */
export async function down(l: ClusterLayout): Promise<void> {
  for (const c of [...COMPONENTS].reverse()) {
    const pid = runningPid(l, c);
    if (pid !== undefined) {
      process.kill(pid, 'SIGTERM');
      const deadline = Date.now() + 10_000;
      while (alive(pid) && Date.now() < deadline) await sleep(100);
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
    rmSync(pidFile(l, c), { force: true });
  }
}
