import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { ROOT_DIR } from './process';

/** A plain JSON object as parsed from YAML. */
export type Obj = Record<string, unknown>;

export function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function objAt(value: unknown): Obj {
  return isObj(value) ? value : {};
}

export function listAt(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function strAt(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export interface Resource {
  readonly file: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly raw: Obj;
}

/** One profile's folder of synthesized manifests (dist/<profile>), as the checks need it. */
export interface DistProfile {
  readonly profile: string;
  readonly dir: string;
  readonly resources: readonly Resource[];
  /** ConfigMap name to its data, including those a kustomization.yaml configMapGenerator makes. */
  readonly configMaps: ReadonlyMap<string, Readonly<Record<string, string>>>;
}

export const DIST_DIR = path.join(ROOT_DIR, 'dist');

/** The profiles synthesized into dist/, in a stable order. */
export function distProfiles(distDir: string = DIST_DIR): string[] {
  if (!fs.existsSync(distDir)) return [];
  return fs
    .readdirSync(distDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(distDir, e.name, 'kustomization.yaml')))
    .map((e) => e.name)
    .sort();
}

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs
    .readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...yamlFiles(full));
    else if (/\.ya?ml$/.test(entry.name)) out.push(full);
  }
  return out;
}

/** Reads the data a configMapGenerator entry will produce, as far as it is knowable offline. */
function generatedData(dir: string, generator: Obj): Record<string, string> {
  const data: Record<string, string> = {};
  for (const literal of listAt(generator.literals)) {
    const s = strAt(literal);
    if (s === undefined) continue;
    const eq = s.indexOf('=');
    if (eq > 0) data[s.slice(0, eq)] = s.slice(eq + 1);
  }
  for (const file of listAt(generator.files)) {
    const s = strAt(file);
    if (s === undefined) continue;
    const eq = s.indexOf('=');
    const key = eq > 0 ? s.slice(0, eq) : path.basename(s);
    const source = path.join(dir, eq > 0 ? s.slice(eq + 1) : s);
    if (fs.existsSync(source)) data[key] = fs.readFileSync(source, 'utf8');
  }
  return data;
}

export function loadDistProfile(profile: string, distDir: string = DIST_DIR): DistProfile {
  const dir = path.join(distDir, profile);
  if (!fs.existsSync(dir)) throw new Error(`${dir} does not exist: run npm run synth first`);
  const resources: Resource[] = [];
  const configMaps = new Map<string, Record<string, string>>();
  for (const file of yamlFiles(dir)) {
    const text = fs.readFileSync(file, 'utf8');
    for (const doc of parseAllDocuments(text)) {
      if ('errors' in doc && doc.errors.length > 0) {
        throw new Error(`${file}: ${doc.errors[0].message}`);
      }
      const raw: unknown = doc.toJS();
      if (!isObj(raw)) continue;
      if (path.basename(file).startsWith('kustomization.')) {
        for (const gen of listAt(raw.configMapGenerator)) {
          const name = strAt(objAt(gen).name);
          if (name !== undefined) configMaps.set(name, generatedData(path.dirname(file), objAt(gen)));
        }
        continue;
      }
      const kind = strAt(raw.kind);
      const metadata = objAt(raw.metadata);
      const name = strAt(metadata.name);
      if (kind === undefined || name === undefined) continue;
      resources.push({ file, kind, name, namespace: strAt(metadata.namespace) ?? '', raw });
      if (kind === 'ConfigMap') {
        const data: Record<string, string> = {};
        for (const [key, value] of Object.entries(objAt(raw.data))) data[key] = String(value);
        configMaps.set(name, data);
      }
    }
  }
  return { profile, dir, resources, configMaps };
}

/** A configuration file embedded in a ConfigMap. */
export interface EmbeddedConfig {
  readonly configMap: string;
  readonly key: string;
  readonly content: string;
}

/** Where a config came from, for messages: `ConfigMap memo-redis-config key redis.conf (dist/kind)`. */
export function describe(config: EmbeddedConfig, dist?: DistProfile): string {
  const where = dist === undefined ? '' : ` (${path.relative(ROOT_DIR, dist.dir)})`;
  return `ConfigMap ${config.configMap} key ${config.key}${where}`;
}

/** Every ConfigMap entry whose key and content match, in name order. */
export function findConfigs(
  dist: DistProfile,
  keyPattern: RegExp,
  contentMatches: (content: string) => boolean = () => true,
  configMapPattern: RegExp = /.*/,
): EmbeddedConfig[] {
  const out: EmbeddedConfig[] = [];
  for (const [configMap, data] of [...dist.configMaps].sort(([a], [b]) => a.localeCompare(b))) {
    if (!configMapPattern.test(configMap)) continue;
    for (const [key, content] of Object.entries(data).sort(([a], [b]) => a.localeCompare(b))) {
      if (keyPattern.test(key) && contentMatches(content)) out.push({ configMap, key, content });
    }
  }
  return out;
}

export function findResource(dist: DistProfile, kind: string, name: string): Resource | undefined {
  return dist.resources.find((r) => r.kind === kind && r.name === name);
}

export function requireResource(dist: DistProfile, kind: string, name: string): Resource {
  const found = findResource(dist, kind, name);
  if (found === undefined) {
    const names = dist.resources.filter((r) => r.kind === kind).map((r) => r.name);
    throw new Error(`${kind} ${name} not found in ${dist.dir} (found: ${names.join(', ') || 'none'})`);
  }
  return found;
}

export interface PodTemplate {
  readonly spec: Obj;
  readonly containers: readonly Obj[];
}

/** The pod template of a Deployment, StatefulSet, DaemonSet or Job. */
export function podTemplate(resource: Resource): PodTemplate {
  const spec = objAt(objAt(objAt(resource.raw.spec).template).spec);
  return { spec, containers: listAt(spec.containers).filter(isObj) };
}

/** The named container, or the only/first one when no name is given. */
export function container(resource: Resource, name?: string): Obj {
  const { containers } = podTemplate(resource);
  const found = name === undefined ? containers[0] : containers.find((c) => c.name === name);
  if (found === undefined) {
    throw new Error(`${resource.kind} ${resource.name} has no container ${name ?? ''}`.trim());
  }
  return found;
}

export interface EnvSources {
  /** The value to use for a secretKeyRef (a test value: dist never holds secrets). */
  readonly secret: (secretName: string, key: string) => string;
  /** The value to use for a fieldRef / resourceFieldRef (e.g. the pod name). */
  readonly field?: (fieldPath: string) => string;
}

export interface ResolvedEnvVar {
  readonly name: string;
  readonly value: string;
  readonly source: 'value' | 'configMapKeyRef' | 'secretKeyRef' | 'fieldRef' | 'resourceFieldRef' | 'envFrom';
}

/** Expands `$(VAR)` like the kubelet: only variables defined earlier, `$$` escapes, unknown kept. */
export function expandKubernetesVars(value: string, defined: ReadonlyMap<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) => {
    if (match === '$$') return '$';
    return name !== undefined && defined.has(name) ? (defined.get(name) ?? '') : match;
  });
}

/**
 * The environment a container gets, as the kubelet builds it: envFrom first, then env in order
 * (later entries win), ConfigMap references resolved from dist, secrets from `sources`.
 */
export function containerEnv(dist: DistProfile, c: Obj, sources: EnvSources): ResolvedEnvVar[] {
  const byName = new Map<string, ResolvedEnvVar>();
  const values = new Map<string, string>();
  const set = (v: ResolvedEnvVar): void => {
    byName.delete(v.name);
    byName.set(v.name, v);
    values.set(v.name, v.value);
  };
  const configMapValue = (name: string, key: string, optional: boolean): string | undefined => {
    const data = dist.configMaps.get(name);
    const value = data?.[key];
    if (value === undefined && !optional) {
      throw new Error(`configMapKeyRef ${name}/${key} does not resolve in ${dist.dir}`);
    }
    return value;
  };
  for (const from of listAt(c.envFrom).filter(isObj)) {
    const prefix = strAt(from.prefix) ?? '';
    const cmName = strAt(objAt(from.configMapRef).name);
    if (cmName !== undefined) {
      const data = dist.configMaps.get(cmName);
      if (data === undefined && objAt(from.configMapRef).optional !== true) {
        throw new Error(`envFrom configMapRef ${cmName} does not resolve in ${dist.dir}`);
      }
      for (const [k, v] of Object.entries(data ?? {})) set({ name: prefix + k, value: v, source: 'envFrom' });
    }
    const secretName = strAt(objAt(from.secretRef).name);
    if (secretName !== undefined) {
      throw new Error(
        `envFrom secretRef ${secretName}: keys of a Secret outside dist cannot be known offline`,
      );
    }
  }
  for (const entry of listAt(c.env).filter(isObj)) {
    const name = strAt(entry.name);
    if (name === undefined) continue;
    const valueFrom = objAt(entry.valueFrom);
    const cmRef = objAt(valueFrom.configMapKeyRef);
    const secretRef = objAt(valueFrom.secretKeyRef);
    const fieldRef = objAt(valueFrom.fieldRef);
    const resourceRef = objAt(valueFrom.resourceFieldRef);
    if (strAt(cmRef.name) !== undefined) {
      const value = configMapValue(String(cmRef.name), String(cmRef.key), cmRef.optional === true);
      if (value !== undefined) set({ name, value, source: 'configMapKeyRef' });
    } else if (strAt(secretRef.name) !== undefined) {
      set({
        name,
        value: sources.secret(String(secretRef.name), String(secretRef.key)),
        source: 'secretKeyRef',
      });
    } else if (strAt(fieldRef.fieldPath) !== undefined) {
      set({ name, value: sources.field?.(String(fieldRef.fieldPath)) ?? '', source: 'fieldRef' });
    } else if (strAt(resourceRef.resource) !== undefined) {
      set({ name, value: sources.field?.(String(resourceRef.resource)) ?? '', source: 'resourceFieldRef' });
    } else {
      set({ name, value: expandKubernetesVars(strAt(entry.value) ?? '', values), source: 'value' });
    }
  }
  return [...byName.values()];
}

export function envRecord(vars: readonly ResolvedEnvVar[]): Record<string, string> {
  return Object.fromEntries(vars.map((v) => [v.name, v.value]));
}

/** A file a container sees because a ConfigMap volume is mounted. */
export interface MountedFile extends EmbeddedConfig {
  /** The file's path inside the container. */
  readonly path: string;
}

/**
 * Every file ConfigMap volumes put into a container's filesystem (items, subPath and projected
 * volumes honoured), so a check runs the file the program really reads at the path it reads.
 */
export function mountedConfigMapFiles(
  dist: DistProfile,
  resource: Resource,
  containerName?: string,
): MountedFile[] {
  const { spec } = podTemplate(resource);
  const c = container(resource, containerName);
  const volumes = new Map(
    listAt(spec.volumes)
      .filter(isObj)
      .map((v) => [strAt(v.name) ?? '', v]),
  );
  const out: MountedFile[] = [];
  for (const mount of listAt(c.volumeMounts).filter(isObj)) {
    const volume = volumes.get(strAt(mount.name) ?? '');
    if (volume === undefined) continue;
    const sources = [
      objAt(volume.configMap),
      ...listAt(objAt(volume.projected).sources)
        .filter(isObj)
        .map((s) => objAt(s.configMap)),
    ].filter((s) => strAt(s.name) !== undefined);
    const files: Array<{ rel: string; configMap: string; key: string; content: string }> = [];
    for (const source of sources) {
      const name = String(source.name);
      const data = dist.configMaps.get(name) ?? {};
      const items = listAt(source.items).filter(isObj);
      const pairs =
        items.length > 0
          ? items.map((i) => [strAt(i.key) ?? '', strAt(i.path) ?? ''] as const)
          : Object.keys(data).map((k) => [k, k] as const);
      for (const [key, rel] of pairs) {
        if (data[key] !== undefined) files.push({ rel, configMap: name, key, content: data[key] });
      }
    }
    const mountPath = strAt(mount.mountPath) ?? '';
    const subPath = strAt(mount.subPath);
    for (const f of files) {
      if (subPath !== undefined) {
        if (f.rel === subPath)
          out.push({ path: mountPath, configMap: f.configMap, key: f.key, content: f.content });
      } else {
        out.push({
          path: path.posix.join(mountPath, f.rel),
          configMap: f.configMap,
          key: f.key,
          content: f.content,
        });
      }
    }
  }
  return out;
}
