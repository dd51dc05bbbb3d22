/**
 * Where each rule's verdict comes from, so a finding can be weighed and the validator can be
 * measured against a real API server (test/e2e/validator-agreement.test.ts): a rule of origin
 * `ApiServer` or `PodSecurity` claims that the API server refuses what it reports; every other
 * origin reports what the API server rightly accepts and something else would trip over later.
 */
export enum RuleOrigin {
  /** kube-apiserver's own validation (schemas with strict field validation, apimachinery and per-kind validators). */
  API_SERVER = 'api-server',
  /** The PodSecurity admission plugin at level restricted (pods refused, workloads warned). */
  POD_SECURITY = 'pod-security',
  /** References between objects: the API server checks each object alone. */
  CROSS_OBJECT = 'cross-object',
  /** Security and operations practice: valid Kubernetes that a production setup should not ship. */
  BEST_PRACTICE = 'best-practice',
  /** This project's own conventions and the programs configs are embedded for (Prometheus, kustomize, YAML). */
  PROJECT = 'project',
}

export const RULE_ORIGINS: Readonly<Record<string, RuleOrigin>> = {
  'SCHEMA-STRICT': RuleOrigin.API_SERVER,
  'API-NAMES': RuleOrigin.API_SERVER,
  'API-LABELS': RuleOrigin.API_SERVER,
  'API-SELECTOR': RuleOrigin.API_SERVER,
  'API-LISTMAP': RuleOrigin.API_SERVER,
  'API-PORTS': RuleOrigin.API_SERVER,
  'API-ENV': RuleOrigin.API_SERVER,
  'API-PROBES': RuleOrigin.API_SERVER,
  'API-RESOURCES': RuleOrigin.API_SERVER,
  'API-VOLUMES': RuleOrigin.API_SERVER,
  'API-KIND-SPECIFIC': RuleOrigin.API_SERVER,
  'SEC-PSS-RESTRICTED': RuleOrigin.POD_SECURITY,
  'XREF-SERVICE': RuleOrigin.CROSS_OBJECT,
  'XREF-STS-HEADLESS': RuleOrigin.CROSS_OBJECT,
  'XREF-REFS': RuleOrigin.CROSS_OBJECT,
  'XREF-INGRESS': RuleOrigin.CROSS_OBJECT,
  'XREF-HPA': RuleOrigin.CROSS_OBJECT,
  'XREF-PROBE-PORT': RuleOrigin.CROSS_OBJECT,
  'XREF-DNS': RuleOrigin.CROSS_OBJECT,
  'XREF-QUOTA': RuleOrigin.CROSS_OBJECT,
  'KAFKA-QUORUM': RuleOrigin.CROSS_OBJECT,
  'SEC-ROFS': RuleOrigin.BEST_PRACTICE,
  'SEC-SA-TOKEN': RuleOrigin.BEST_PRACTICE,
  'SEC-SECRETS': RuleOrigin.BEST_PRACTICE,
  'SEC-RBAC': RuleOrigin.BEST_PRACTICE,
  'BP-RESOURCES': RuleOrigin.BEST_PRACTICE,
  'BP-IMAGE': RuleOrigin.BEST_PRACTICE,
  'BP-PROBES': RuleOrigin.BEST_PRACTICE,
  'BP-AVAILABILITY': RuleOrigin.BEST_PRACTICE,
  'BP-NETPOL': RuleOrigin.BEST_PRACTICE,
  'MON-RULES': RuleOrigin.PROJECT,
  KUSTOMIZATION: RuleOrigin.PROJECT,
  'YAML-HYGIENE': RuleOrigin.PROJECT,
  'EXEMPTION-STALE': RuleOrigin.PROJECT,
};

/** Whether the rule says the API server itself refuses what it reports. */
export function claimsApiServerOrigin(rule: string): boolean {
  const origin = RULE_ORIGINS[rule];
  if (origin === undefined) throw new Error(`rule ${rule} has no origin in validation/rules/origins.ts`);
  return origin === RuleOrigin.API_SERVER || origin === RuleOrigin.POD_SECURITY;
}
