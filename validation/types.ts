import type { Document, LineCounter } from 'yaml';

export type Severity = 'error' | 'warning';

/** A path into an object, as the API server prints it: `spec.containers[0].ports[0].name`. */
export type FieldPath = ReadonlyArray<string | number>;

export interface Finding {
  readonly rule: string;
  readonly severity: Severity;
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /** `Kind namespace/name`, or `Kind name` for cluster-scoped objects; empty for file-level findings. */
  readonly object: string;
  readonly kind?: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly constructPath?: string;
  /** The field path in the API server's style, empty when the finding is about the whole object or file. */
  readonly path: string;
  readonly message: string;
}

/** A YAML file held in memory, so tests can validate edited copies without touching disk. */
export interface SourceFile {
  /** Path as it should be printed (relative to the working directory when loaded from disk). */
  readonly file: string;
  readonly text: string;
}

/** One Kubernetes object from one YAML document, with what is needed to point at its fields. */
export interface K8sObject {
  readonly file: string;
  /** Folder the object belongs to; cross-object checks look only within one folder. */
  readonly folder: string;
  readonly docIndex: number;
  /** The whole file's text, for positions inside embedded documents (ConfigMap data). */
  readonly source: string;
  readonly doc: Document;
  readonly lineCounter: LineCounter;
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  /** Empty for cluster-scoped objects or when the manifest omits it. */
  readonly namespace: string;
  readonly constructPath?: string;
  /** The plain JSON value of the document. */
  readonly raw: Record<string, unknown>;
}

export interface Kustomization {
  readonly file: string;
  readonly folder: string;
  readonly doc: Document;
  readonly lineCounter: LineCounter;
  readonly raw: Record<string, unknown>;
  /** Secret name to the keys it will hold, or undefined when the keys cannot be known offline. */
  readonly generatedSecrets: ReadonlyMap<string, ReadonlySet<string> | undefined>;
  readonly generatedConfigMaps: ReadonlyMap<string, ReadonlySet<string> | undefined>;
}

/** A reviewed exception to a rule, or (for XREF-REFS on a Secret/ConfigMap) a declaration that it lives outside. */
export interface Exemption {
  readonly rule: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly reason: string;
  /** Folder names (e.g. `cloud`) the exemption is limited to; all folders when absent. */
  readonly profiles?: readonly string[];
}

export interface ValidationOptions {
  /** Minor versions like `1.30`; all available versions when absent. */
  readonly k8sVersions?: readonly string[];
  /** Folder of `v1.NN.0/_definitions.json`; defaults to K8S_SCHEMAS_DIR, then `<project>/../shared/k8s-schemas`. */
  readonly schemasDir?: string;
  readonly exemptions?: readonly Exemption[];
  /** Where stale-exemption findings point. */
  readonly exemptionsFile?: string;
  /** Fail (instead of warn and skip) when no schemas are found; defaults to CI=true. */
  readonly requireSchemas?: boolean;
  /** Receives notices that are not findings (e.g. schemas skipped). */
  readonly log?: (message: string) => void;
}

export interface ValidationResult {
  readonly findings: Finding[];
  readonly objectsChecked: number;
  readonly versionsChecked: string[];
}
