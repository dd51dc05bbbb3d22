import type { Finding, ValidationResult } from './types';

/** `file:line:col severity RULE Kind ns/name (construct path)` and, indented below, `field.path: message`. */
export function formatFinding(f: Finding): string {
  const head = [`${f.file}:${f.line}:${f.col}`, f.severity, f.rule, f.object]
    .filter((s) => s !== '')
    .join(' ');
  const construct = f.constructPath ? ` (${f.constructPath})` : '';
  return `${head}${construct}\n  ${f.path ? `${f.path}: ` : ''}${f.message}`;
}

function versionRange(versions: readonly string[]): string {
  if (versions.length === 0) return 'no Kubernetes versions (schemas skipped)';
  const range = versions.length === 1 ? versions[0] : `${versions[0]}-${versions[versions.length - 1]}`;
  return `${versions.length} Kubernetes version${versions.length === 1 ? '' : 's'} (${range})`;
}

export function formatSummary(r: ValidationResult): string {
  const errors = r.findings.filter((f) => f.severity === 'error').length;
  const warnings = r.findings.length - errors;
  const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;
  return `checked ${plural(r.objectsChecked, 'object')} x ${versionRange(r.versionsChecked)}: ${plural(errors, 'error')}, ${plural(warnings, 'warning')}`;
}
