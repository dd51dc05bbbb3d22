import type { Exemption } from './types';

/**
 * The one reviewed list of exceptions, applied only when validating the project's own dist/.
 * Each entry names the rule, the object and why. An entry that matches no finding is reported
 * (EXEMPTION-STALE), so the list cannot outlive its reasons.
 *
 * Declaring an object that lives outside the manifests: `{ rule: 'XREF-REFS', kind: 'Secret',
 * namespace, name, reason, profiles: ['cloud'] }` accepts every reference to that Secret
 * (or ConfigMap, ServiceAccount, PVC) in the listed profiles.
 */
const CLOUD_SECRET_REASON =
  'The cloud profile never carries credentials: this Secret is created in the cluster before ' +
  'the apply (by hand, an operator, or ExternalSecrets when the profile sets externalSecretStore).';

export const EXEMPTIONS: readonly Exemption[] = [
  'memo-mariadb-credentials',
  'memo-redis-credentials',
  'memo-grafana-credentials',
].map((name) => ({
  rule: 'XREF-REFS',
  kind: 'Secret',
  namespace: 'memo',
  name,
  profiles: ['cloud'],
  reason: CLOUD_SECRET_REASON,
}));
