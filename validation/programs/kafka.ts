import * as fs from 'fs';
import * as path from 'path';
import {
  ProgramCheckError,
  ROOT_DIR,
  freePort,
  portOpen,
  readIfExists,
  removeScratch,
  requireProgram,
  run,
  scratchDir,
} from './process';
import { startDaemon } from './process';
import {
  container,
  containerEnv,
  envRecord,
  listAt,
  requireResource,
  type DistProfile,
  type Obj,
} from './manifests';
import type { CheckReport } from './report';

export const KAFKA_LIBS_DIR = process.env.KAFKA_LIBS_DIR ?? path.join(ROOT_DIR, '.services', 'kafka', 'libs');
const LOG4J_PROPERTIES = path.join(ROOT_DIR, 'scripts', 'services', 'kafka', 'log4j.properties');

/**
 * The apache/kafka image's translation of its environment into server.properties
 * (docker/resources: configureDefaults, configure, kafka-propertiesSpec.json, utility.go), so the
 * check runs the broker with what the container's env really becomes.
 */
export const IMAGE_EXCLUDED_ENV = new Set([
  'KAFKA_VERSION',
  // Spelled without the S in the image's spec; KAFKA_HEAP_OPTS itself is read by the start
  // script as JVM flags and is no broker property, so it is left out here as well.
  'KAFKA_HEAP_OPT',
  'KAFKA_HEAP_OPTS',
  'KAFKA_LOG4J_OPTS',
  'KAFKA_OPTS',
  'KAFKA_JMX_OPTS',
  'KAFKA_JVM_PERFORMANCE_OPTS',
  'KAFKA_GC_LOG_OPTS',
  'KAFKA_LOG4J_ROOT_LOGLEVEL',
  'KAFKA_LOG4J_LOGGERS',
  'KAFKA_TOOLS_LOG4J_LOGLEVEL',
]);

/** What configureDefaults exports when a variable is unset or empty (and ZooKeeper is not used). */
export const IMAGE_ENV_DEFAULTS: Readonly<Record<string, string>> = {
  CLUSTER_ID: '5L6g3nShT-eMCtK--X86sw',
  KAFKA_NODE_ID: '1',
  KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,PLAINTEXT_HOST:PLAINTEXT',
  KAFKA_LISTENERS: 'PLAINTEXT://localhost:29092,CONTROLLER://localhost:29093,PLAINTEXT_HOST://0.0.0.0:9092',
  KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://localhost:29092,PLAINTEXT_HOST://localhost:9092',
  KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
  KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
  KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
  KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
  KAFKA_PROCESS_ROLES: 'broker,controller',
  KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:29093',
  KAFKA_INTER_BROKER_LISTENER_NAME: 'PLAINTEXT',
  KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
  KAFKA_LOG_DIRS: '/tmp/kraft-combined-logs',
};

/**
 * utility.go ConvertKey: `_` between two non-underscores becomes `.`, then `___` becomes `-`,
 * then `__` becomes `_`, lower-cased. Matches do not overlap (as in Go), so a one-letter
 * segment keeps its second underscore: `A_B_C` becomes `a.b_c`, exactly like the image.
 */
export function convertEnvKey(key: string): string {
  const single = key.replace(/[^_]_[^_]/g, (m) => m.replace(/_/g, '.'));
  return single.replace(/___/g, '-').replace(/__/g, '_').toLowerCase();
}

export interface ImageProperties {
  /** server.properties as the image writes it, sorted by key. */
  readonly properties: ReadonlyMap<string, string>;
  readonly clusterId: string;
  /** Variables the image defaulted because the manifest leaves them unset. */
  readonly defaulted: readonly string[];
  /** Variables the image silently drops (its env parser ignores values containing `=`). */
  readonly dropped: readonly string[];
}

/** Runs the image's env-to-properties logic on a container environment. */
export function imageServerProperties(containerEnv: Readonly<Record<string, string>>): ImageProperties {
  const env: Record<string, string> = { ...containerEnv };
  const defaulted: string[] = [];
  if ((env.KAFKA_ZOOKEEPER_CONNECT ?? '') === '') {
    for (const [key, value] of Object.entries(IMAGE_ENV_DEFAULTS)) {
      if ((env[key] ?? '') === '') {
        env[key] = value;
        defaulted.push(key);
      }
    }
  }
  const roles = env.KAFKA_PROCESS_ROLES ?? '';
  if (
    (env.KAFKA_LISTENERS ?? '') === '' &&
    roles !== 'controller' &&
    (env.KAFKA_ADVERTISED_LISTENERS ?? '') !== ''
  ) {
    env.KAFKA_LISTENERS = env.KAFKA_ADVERTISED_LISTENERS.replace(/:\/\/[^:]*:/g, '://0.0.0.0:');
  }
  const properties = new Map<string, string>();
  const dropped: string[] = [];
  for (const key of Object.keys(env).sort()) {
    if (!key.startsWith('KAFKA') || IMAGE_EXCLUDED_ENV.has(key)) continue;
    const value = env[key];
    // ListToMap splits "KEY=value" on every "=" and keeps only two-part entries.
    if (value.includes('=')) {
      dropped.push(key);
      continue;
    }
    properties.set(convertEnvKey(key.slice('KAFKA_'.length)), value);
  }
  return {
    properties: new Map([...properties].sort(([a], [b]) => a.localeCompare(b))),
    clusterId: env.CLUSTER_ID ?? '',
    defaulted,
    dropped,
  };
}

interface Listener {
  readonly name: string;
  readonly host: string;
  readonly port: string;
}

function parseListeners(value: string | undefined): Listener[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const m = /^([A-Za-z0-9_]+):\/\/(\[[^\]]*\]|[^:]*):(\d*)$/.exec(s);
      return m ? { name: m[1].toUpperCase(), host: m[2], port: m[3] } : { name: s, host: '', port: '' };
    });
}

export interface LocalBroker {
  readonly properties: Map<string, string>;
  /** The keys the check replaced, each with why. */
  readonly overrides: readonly string[];
  readonly brokerPort: number;
  readonly controllerPort: number;
  /** Format with `--standalone` (dynamic quorum via controller.quorum.bootstrap.servers). */
  readonly standalone: boolean;
}

/**
 * Turns the properties of one pod of a cluster into a single local node. Replaced, because one
 * process on 127.0.0.1 cannot be the pod: node.id (1; the pod's id comes from its ordinal),
 * listeners and advertised.listeners (same listener names, host 127.0.0.1, free ports),
 * controller.quorum.voters (only this node) or controller.quorum.bootstrap.servers, log.dirs
 * (a scratch dir), process.roles (only when the manifest splits roles). Replication factors and
 * min ISR stay as they are: the broker starts with them, it only refuses writes later.
 */
export async function localBroker(image: ImageProperties, logDir: string): Promise<LocalBroker> {
  const props = new Map(image.properties);
  const overrides: string[] = [];
  const controllerNames = new Set(
    (props.get('controller.listener.names') ?? '')
      .split(',')
      .map((s) => s.trim().toUpperCase())
      .filter((s) => s !== ''),
  );
  const interBroker = (props.get('inter.broker.listener.name') ?? '').toUpperCase();
  const listeners = parseListeners(props.get('listeners'));
  const ports = new Map<string, number>();
  const brokerPort = await freePort();
  const controllerPort = await freePort();
  let brokerAssigned = false;
  let controllerAssigned = false;
  // The inter-broker listener gets the port the readiness probe watches, when there is one.
  const ordered = [...listeners].sort(
    (a, b) => Number(b.name === interBroker) - Number(a.name === interBroker),
  );
  for (const l of ordered) {
    if (controllerNames.has(l.name) && !controllerAssigned) {
      ports.set(l.name, controllerPort);
      controllerAssigned = true;
    } else if (!controllerNames.has(l.name) && !brokerAssigned) {
      ports.set(l.name, brokerPort);
      brokerAssigned = true;
    } else {
      ports.set(l.name, await freePort());
    }
  }
  const local = (name: string): string => `${name}://127.0.0.1:${ports.get(name) ?? 0}`;
  props.set('listeners', listeners.map((l) => local(l.name)).join(','));
  overrides.push('listeners (127.0.0.1, free ports)');
  const advertised = parseListeners(props.get('advertised.listeners'));
  if (advertised.length > 0) {
    for (const l of advertised) if (!ports.has(l.name)) ports.set(l.name, await freePort());
    props.set('advertised.listeners', advertised.map((l) => local(l.name)).join(','));
    overrides.push('advertised.listeners (127.0.0.1)');
  }
  const controllerListener = [...controllerNames][0];
  const controllerAddress = `127.0.0.1:${ports.get(controllerListener ?? '') ?? controllerPort}`;
  let standalone = false;
  if (props.has('controller.quorum.voters')) {
    props.set('controller.quorum.voters', `1@${controllerAddress}`);
    overrides.push('controller.quorum.voters (this node only)');
  } else if (props.has('controller.quorum.bootstrap.servers')) {
    props.set('controller.quorum.bootstrap.servers', controllerAddress);
    overrides.push('controller.quorum.bootstrap.servers (this node only)');
    standalone = true;
  }
  props.set('node.id', '1');
  overrides.push('node.id (1; pods take theirs from the ordinal)');
  if (props.has('broker.id')) {
    props.set('broker.id', '1');
    overrides.push('broker.id (= node.id)');
  }
  props.delete('log.dir');
  props.set('log.dirs', logDir);
  overrides.push('log.dirs (scratch dir)');
  const roles = (props.get('process.roles') ?? '')
    .split(',')
    .map((s) => s.trim())
    .sort()
    .join(',');
  if (roles !== 'broker,controller') {
    props.set('process.roles', 'broker,controller');
    overrides.push(`process.roles (was "${roles}"; one local node plays both)`);
  }
  return { properties: props, overrides, brokerPort, controllerPort, standalone };
}

export function renderProperties(props: ReadonlyMap<string, string>): string {
  // Java properties treat backslashes as escapes; the image writes values verbatim, and so do we.
  return [...props].map(([k, v]) => `${k}=${v}`).join('\n') + '\n';
}

/** KRaft cluster ids are 16 bytes in unpadded base64url: 22 characters. */
export function clusterIdProblem(id: string): string | undefined {
  if (!/^[A-Za-z0-9_-]{22}$/.test(id)) return `CLUSTER_ID "${id}" is not 22 characters of base64url`;
  if (Buffer.from(id, 'base64url').length !== 16) return `CLUSTER_ID "${id}" does not decode to 16 bytes`;
  return undefined;
}

/**
 * Properties from the manifest that are not among the broker's defined configs, which it prints
 * in its "KafkaConfig values:" dump at start. Per-listener (`listener.name.*`) overrides are
 * open-ended by design and not judged.
 */
export function unknownProperties(log: string, properties: ReadonlyMap<string, string>): string[] {
  const known = new Set<string>();
  const lines = log.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].includes('KafkaConfig values:')) continue;
    for (let j = i + 1; j < lines.length && lines[j].startsWith('\t'); j++) {
      const m = /^\t([a-z0-9._-]+) = /.exec(lines[j]);
      if (m) known.add(m[1]);
    }
  }
  if (known.size === 0) return [];
  return [...properties.keys()].filter((k) => !known.has(k) && !k.startsWith('listener.name.'));
}

export interface KafkaCheckOptions {
  /** @default 120 s (format + JIT-cold start on a shared machine) */
  readonly timeoutMs?: number;
}

/**
 * Starts the real Kafka 3.9.1 broker (the jars scripts/services/kafka.sh fetches) with the
 * server.properties the apache/kafka image would write for this container environment, adjusted
 * to one local node (see `localBroker`), formats storage with the manifest's CLUSTER_ID, waits for
 * "Kafka Server started" and an open port, then stops it. A property the broker does not know
 * also fails the check (the broker accepts it silently): it is a misspelt env name.
 * JVM heap is the test's (-Xmx768m), not the manifest's: memory sizing is not configuration.
 */
export async function checkKafkaBroker(
  containerEnv: Readonly<Record<string, string>>,
  options: KafkaCheckOptions = {},
): Promise<CheckReport & { readonly properties: string; readonly image: ImageProperties }> {
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 120_000;
  const java = requireProgram('java');
  if (
    !fs.existsSync(KAFKA_LIBS_DIR) ||
    !fs.readdirSync(KAFKA_LIBS_DIR).some((f) => /^kafka_2\.13-.*\.jar$/.test(f))
  ) {
    throw new ProgramCheckError(
      'kafka',
      `no broker jars in ${KAFKA_LIBS_DIR}: bash scripts/tools/install.sh fetches them`,
      '',
    );
  }
  const image = imageServerProperties(containerEnv);
  const idProblem = clusterIdProblem(image.clusterId);
  if (idProblem !== undefined) throw new ProgramCheckError('kafka', idProblem, '');
  const dir = scratchDir('kafka');
  try {
    const node = await localBroker(image, path.join(dir, 'data'));
    const propertiesFile = path.join(dir, 'server.properties');
    const properties = renderProperties(node.properties);
    fs.writeFileSync(propertiesFile, properties);
    const jvm = [
      `-Dlog4j.configuration=file:${LOG4J_PROPERTIES}`,
      `-Dkafka.logs.dir=${dir}`,
      '-cp',
      `${KAFKA_LIBS_DIR}/*`,
    ];
    const format = await run(
      java,
      [
        ...jvm,
        'kafka.tools.StorageTool',
        'format',
        '-t',
        image.clusterId,
        '-c',
        propertiesFile,
        '--ignore-formatted',
        ...(node.standalone ? ['--standalone'] : []),
      ],
      { timeoutMs },
    );
    if (format.code !== 0) {
      throw new ProgramCheckError(
        'kafka-storage format',
        `rejected the settings (exit ${String(format.code)})`,
        `${format.output}\n${readIfExists(path.join(dir, 'kafka.log'))}\n--- server.properties\n${properties}`,
      );
    }
    const logFile = path.join(dir, 'kafka.log');
    fs.writeFileSync(logFile, '');
    const daemon = await startDaemon(
      'kafka',
      java,
      [
        '-Xms256m',
        '-Xmx768m',
        '-XX:+UseG1GC',
        '-XX:+ExitOnOutOfMemoryError',
        '-Djava.awt.headless=true',
        ...jvm,
        'kafka.Kafka',
        propertiesFile,
      ],
      {
        timeoutMs,
        log: () => readIfExists(logFile).split('\n').slice(-60).join('\n'),
        ready: async () =>
          readIfExists(logFile).includes('Kafka Server started') && (await portOpen(node.brokerPort)),
      },
    ).catch((err: unknown) => {
      if (err instanceof ProgramCheckError) {
        throw new ProgramCheckError(
          err.program,
          err.message.split('\n')[0],
          `${err.output}\n--- server.properties\n${properties}`,
        );
      }
      throw err;
    });
    const log = readIfExists(logFile);
    await daemon.stop(30_000);
    const unknown = unknownProperties(log, image.properties);
    if (unknown.length > 0) {
      throw new ProgramCheckError(
        'kafka',
        `the broker does not know ${unknown.map((k) => `"${k}"`).join(', ')} (from the container env: a misspelt KAFKA_* name?)`,
        properties,
      );
    }
    return {
      program: 'kafka',
      ms: Date.now() - started,
      overrides: node.overrides,
      output: log,
      properties,
      image,
    };
  } finally {
    removeScratch(dir);
  }
}

/**
 * Variables a container's shell command exports before exec'ing the image's entrypoint
 * (`export KAFKA_NODE_ID="${HOSTNAME##*-}"`), evaluated for one pod. Only the expansions such
 * commands use are understood (`$HOSTNAME`, `${HOSTNAME}`, `${HOSTNAME##*-}`, earlier exports);
 * a value with anything else is reported, not guessed.
 */
export function scriptExports(
  script: string,
  podName: string,
): { exports: Record<string, string>; unresolved: string[] } {
  const vars: Record<string, string> = { HOSTNAME: podName };
  const exports: Record<string, string> = {};
  const unresolved: string[] = [];
  for (const line of script.split('\n')) {
    const m = /^\s*export\s+([A-Za-z_][A-Za-z0-9_]*)=(?:"([^"]*)"|'([^']*)'|(\S*))\s*$/.exec(line);
    if (!m) continue;
    const name = m[1];
    let value = m[3] ?? m[2] ?? m[4] ?? '';
    if (m[3] === undefined) {
      value = value
        .replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)##\*-\}/g, (all, v: string) =>
          vars[v] === undefined ? all : vars[v].replace(/^.*-/, ''),
        )
        .replace(
          /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
          (all, a?: string, b?: string) => {
            const v = vars[a ?? b ?? ''];
            return v ?? all;
          },
        );
    }
    if (/\$/.test(value)) unresolved.push(name);
    vars[name] = value;
    exports[name] = value;
  }
  return { exports, unresolved };
}

export interface KafkaPodEnv {
  /** The environment the image's entrypoint sees in pod `<statefulset>-<ordinal>`. */
  readonly env: Record<string, string>;
  /** Exports of the command that could not be evaluated offline. */
  readonly unresolved: readonly string[];
  readonly container: Obj;
}

/**
 * The Kafka container's environment for one pod of the StatefulSet: its env (secrets filled
 * with test values, `metadata.name` as the pod name) plus what its command exports.
 */
export function kafkaPodEnv(
  dist: DistProfile,
  statefulSet = 'memo-kafka',
  ordinal = 0,
  containerName = 'kafka',
): KafkaPodEnv {
  const sts = requireResource(dist, 'StatefulSet', statefulSet);
  const c = container(sts, containerName);
  const podName = `${statefulSet}-${ordinal}`;
  const env = envRecord(
    containerEnv(dist, c, {
      secret: (name, key) => `test-${name}-${key}`,
      field: (fieldPath) =>
        fieldPath === 'metadata.name' ? podName : fieldPath === 'metadata.namespace' ? sts.namespace : '',
    }),
  );
  const script = [...listAt(c.command), ...listAt(c.args)].map(String).join('\n');
  const { exports, unresolved } = scriptExports(script, podName);
  return { env: { ...env, ...exports }, unresolved, container: c };
}
