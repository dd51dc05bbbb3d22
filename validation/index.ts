export { EXEMPTIONS } from './exemptions';
export { formatFinding, formatSummary } from './format';
export { loadSources, readSourceFiles } from './load';
export { ManifestSet, type ManifestObject } from './manifest-set';
export { availableVersions, resolveSchemasDir } from './schema';
export type {
  Exemption,
  Finding,
  K8sObject,
  Severity,
  SourceFile,
  ValidationOptions,
  ValidationResult,
} from './types';
export { validateDirectories, validateDocuments } from './validate';
export { claimsApiServerOrigin, RULE_ORIGINS, RuleOrigin } from './rules/origins';
