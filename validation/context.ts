import { locate } from './paths';
import { formatPath } from './paths';
import type { FieldPath, Finding, K8sObject, Kustomization, Severity } from './types';

/** What one rule sees: the objects of one folder (one profile), and a way to report on them. */
export interface RuleContext {
  readonly folder: string;
  readonly objects: readonly K8sObject[];
  readonly kustomization?: Kustomization;
  /** Every YAML file of the folder that holds Kubernetes objects or is the kustomization. */
  readonly files: readonly string[];
  report(finding: ReportArgs): void;
}

export interface ReportArgs {
  readonly obj: K8sObject;
  readonly rule: string;
  readonly severity?: Severity;
  readonly path: FieldPath;
  readonly message: string;
  /** Point at the key rather than the value (unknown or forbidden fields). */
  readonly atKey?: boolean;
  /** Overrides the located line (embedded documents know better). */
  readonly line?: number;
  readonly col?: number;
  /** The other object the finding is about (a missing Secret), so an exemption can name it. */
  readonly subject?: { readonly kind: string; readonly namespace: string; readonly name: string };
}

export type Rule = (ctx: RuleContext) => void;

export function objectLabel(kind: string, namespace: string, name: string): string {
  return namespace ? `${kind} ${namespace}/${name}` : `${kind} ${name}`;
}

export interface InternalFinding extends Finding {
  readonly subject?: ReportArgs['subject'];
  readonly folder?: string;
}

export function toFinding(a: ReportArgs): InternalFinding {
  const pos = locate(a.obj.doc, a.obj.lineCounter, a.path, a.atKey);
  return {
    rule: a.rule,
    severity: a.severity ?? 'error',
    file: a.obj.file,
    folder: a.obj.folder,
    line: a.line ?? pos.line,
    col: a.col ?? pos.col,
    object: objectLabel(a.obj.kind, a.obj.namespace, a.obj.name),
    kind: a.obj.kind,
    namespace: a.obj.namespace,
    name: a.obj.name,
    constructPath: a.obj.constructPath,
    path: formatPath(a.path),
    message: a.message,
    subject: a.subject,
  };
}
