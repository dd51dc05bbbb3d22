import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { quote } from './json';
import { QUANTITY_PATTERN } from '../charts/common/k8s-syntax';

const X_KEYWORDS = [
  'x-kubernetes-list-map-keys',
  'x-kubernetes-list-type',
  'x-kubernetes-patch-merge-key',
  'x-kubernetes-patch-strategy',
  'x-kubernetes-group-version-kind',
  'x-kubernetes-map-type',
  'x-kubernetes-unions',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-int-or-string',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-validations',
];

const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';

/**
 * An explicit folder (option or K8S_SCHEMAS_DIR) is used as given, never silently replaced;
 * otherwise `<project>/../shared/k8s-schemas`. Undefined when the chosen folder does not exist.
 */
export function resolveSchemasDir(explicit?: string): string | undefined {
  const chosen =
    explicit ??
    (process.env.K8S_SCHEMAS_DIR || undefined) ??
    path.resolve(__dirname, '..', '..', 'shared', 'k8s-schemas');
  return fs.existsSync(chosen) ? chosen : undefined;
}

export function availableVersions(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .map((d) => /^v(\d+\.\d+)\.\d+$/.exec(d))
    .filter(
      (m): m is RegExpExecArray => m !== null && fs.existsSync(path.join(dir, m[0], '_definitions.json')),
    )
    .sort((a, b) => Number(a[1].split('.')[1]) - Number(b[1].split('.')[1]))
    .map((m) => m[1]);
}

type Schema = Record<string, unknown>;

/** Makes the published (lenient) definitions strict, the way kubeconform -strict does. */
function strictify(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strictify);
  if (node === null || typeof node !== 'object') return node;
  const out: Schema = {};
  for (const [k, v] of Object.entries(node as Schema)) {
    if (k === 'description') continue;
    if (k === 'properties') {
      out[k] = Object.fromEntries(Object.entries(v as Schema).map(([pk, pv]) => [pk, strictify(pv)]));
    } else if (k === '$ref' && typeof v === 'string') {
      out[k] = `defs${v}`;
    } else out[k] = strictify(v);
  }
  if (
    out.properties !== undefined &&
    out.additionalProperties === undefined &&
    !out['x-kubernetes-preserve-unknown-fields']
  )
    out.additionalProperties = false;
  return out;
}

export interface SchemaError {
  readonly pointer: string;
  /** The offending key for unknown fields, the missing key for required ones. */
  readonly key?: string;
  readonly message: string;
}

function levenshtein(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}

export function suggest(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const sameCase = known.find((k) => k.toLowerCase() === lower);
  if (sameCase) return sameCase;
  const scored = known
    .map((k) => [k, levenshtein(lower, k.toLowerCase())] as const)
    .sort((a, b) => a[1] - b[1]);
  return scored.length > 0 && scored[0][1] <= Math.min(2, Math.floor(key.length / 3))
    ? scored[0][0]
    : undefined;
}

function translate(e: ErrorObject): SchemaError | undefined {
  const value = e.data;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String((e.params as { additionalProperty: string }).additionalProperty);
      const props = Object.keys(
        ((e.parentSchema as Schema | undefined)?.properties as Schema | undefined) ?? {},
      );
      const hint = suggest(key, props);
      return {
        pointer: `${e.instancePath}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`,
        key,
        message: `Forbidden: unknown field${hint ? ` (did you mean ${quote(hint)}?)` : ''}`,
      };
    }
    case 'required': {
      const key = String((e.params as { missingProperty: string }).missingProperty);
      return { pointer: `${e.instancePath}/${key}`, message: 'Required value' };
    }
    case 'type': {
      const types = String((e.params as { type: string }).type)
        .split(',')
        .join(' or ');
      return { pointer: e.instancePath, message: `Invalid value: ${quote(value)}: must be of type ${types}` };
    }
    case 'enum': {
      const allowed = ((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map(quote).join(', ');
      return {
        pointer: e.instancePath,
        message: `Unsupported value: ${quote(value)}: supported values: ${allowed}`,
      };
    }
    case 'format': {
      const format = String((e.params as { format: string }).format);
      const what: Record<string, string> = {
        int32: 'must be a 32-bit integer',
        int64: 'must be a 64-bit integer',
        byte: 'must be base64-encoded',
        'date-time': 'must be an RFC 3339 date-time',
      };
      return {
        pointer: e.instancePath,
        message: `Invalid value: ${quote(value)}: ${what[format] ?? `must be a valid ${format}`}`,
      };
    }
    case 'pattern':
      return {
        pointer: e.instancePath,
        message: `Invalid value: ${quote(value)}: quantities must match the regular expression '${QUANTITY_PATTERN}'`,
      };
    default:
      return {
        pointer: e.instancePath,
        message: `Invalid value: ${quote(value)}: ${e.message ?? 'invalid'}`,
      };
  }
}

let sharedAjv: Ajv | undefined;
const registered = new Set<string>();

/**
 * One Ajv for all versions: a definition is registered under a hash of its content and of
 * everything it references, so the many definitions that did not change between releases
 * compile once, not once per version.
 */
function ajv(): Ajv {
  if (sharedAjv) return sharedAjv;
  const a = new Ajv({
    strict: true,
    strictTypes: false,
    strictRequired: false,
    allowUnionTypes: true,
    allErrors: true,
    verbose: true,
    inlineRefs: false,
  });
  for (const k of X_KEYWORDS) a.addKeyword(k);
  a.addFormat('int32', {
    type: 'number',
    validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31,
  });
  a.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  a.addFormat('double', { type: 'number', validate: () => true });
  addFormats(a, ['date-time', 'byte']);
  sharedAjv = a;
  return a;
}

const REF_PREFIX = 'defs#/definitions/';

/** Content ids (Merkle-style); definitions on a reference cycle get a version-specific id instead. */
function contentIds(defs: Record<string, unknown>, version: string): Map<string, string> {
  const ids = new Map<string, string>();
  const onStack = new Set<string>();
  const visit = (name: string): string => {
    const known = ids.get(name);
    if (known) return known;
    if (onStack.has(name)) return `cycle:${name}`;
    onStack.add(name);
    const body = JSON.stringify(defs[name] ?? null, (k, v: unknown) =>
      k === '$ref' && typeof v === 'string' ? visit(v.slice(REF_PREFIX.length)) : v,
    );
    onStack.delete(name);
    const id = body.includes('cycle:')
      ? `k8s-${version}-${name}`
      : `k8s-${crypto.createHash('sha1').update(body).digest('hex')}`;
    ids.set(name, id);
    return id;
  };
  for (const name of Object.keys(defs)) visit(name);
  return ids;
}

/** One Kubernetes version's schemas: a GVK index, and validators compiled on first use. */
export class VersionSchemas {
  private readonly gvk = new Map<string, string>();
  private readonly ids: Map<string, string>;

  constructor(
    readonly version: string,
    file: string,
  ) {
    const defs = (JSON.parse(fs.readFileSync(file, 'utf8')) as { definitions: Record<string, Schema> })
      .definitions;
    const strict: Record<string, unknown> = {};
    for (const [name, def] of Object.entries(defs)) {
      strict[name] = strictify(def);
      for (const g of (def['x-kubernetes-group-version-kind'] as Array<Record<string, string>> | undefined) ??
        []) {
        const key = `${g.group ? `${g.group}/` : ''}${g.version}|${g.kind}`;
        // DeleteOptions and friends claim every group; the definition named after the kind wins.
        if (!this.gvk.has(key) || name.endsWith(`.${g.kind}`)) this.gvk.set(key, name);
      }
    }
    strict[INT_OR_STRING] = { type: ['string', 'integer'] };
    strict[QUANTITY] = { type: ['string', 'number'], pattern: QUANTITY_PATTERN };
    this.ids = contentIds(strict, version);
    const a = ajv();
    for (const [name, schema] of Object.entries(strict)) {
      const id = this.ids.get(name) as string;
      // Identical definitions under two names share an id; getSchema would compile too early.
      if (registered.has(id)) continue;
      registered.add(id);
      const linked = JSON.parse(
        JSON.stringify(schema, (k, v: unknown) =>
          k === '$ref' && typeof v === 'string' ? this.ids.get(v.slice(REF_PREFIX.length)) : v,
        ),
      ) as Schema;
      a.addSchema(linked, id);
    }
  }

  has(apiVersion: string, kind: string): boolean {
    return this.gvk.has(`${apiVersion}|${kind}`);
  }

  /** Undefined when this version does not serve the apiVersion/kind. */
  validate(apiVersion: string, kind: string, value: unknown): SchemaError[] | undefined {
    const def = this.gvk.get(`${apiVersion}|${kind}`);
    const id = def === undefined ? undefined : this.ids.get(def);
    if (id === undefined) return undefined;
    const fn: ValidateFunction | undefined = ajv().getSchema(id);
    if (!fn) return undefined;
    if (fn(value)) return [];
    return (fn.errors ?? []).map(translate).filter((e): e is SchemaError => e !== undefined);
  }
}

const cache = new Map<string, VersionSchemas>();

/** Schemas are cached per process: a test file or a CLI run parses each version once. */
export function loadVersion(dir: string, version: string): VersionSchemas {
  const file = path.join(dir, `v${version}.0`, '_definitions.json');
  let s = cache.get(file);
  if (!s) {
    s = new VersionSchemas(version, file);
    cache.set(file, s);
  }
  return s;
}
