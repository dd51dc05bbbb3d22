import { ApiObject } from 'cdk8s';
import { IConstruct } from 'constructs';

/*
 * Hints for GitOps tools, written into every object of a stack so dist/ carries them as is.
 * Argo CD applies in sync waves, lowest first, waiting for each wave to be healthy: the
 * namespace, then what pods read (config, secrets, policies, claims), then the data stores, then
 * the API and monitoring that connect to them. Flux applies a Kustomization in one pass (it
 * orders Namespaces and CRDs first itself); the README says how to split it for the same order.
 */

/** Argo CD sync waves; a lower wave is applied and healthy before the next starts. */
export const SYNC_WAVE = { namespace: -2, prerequisites: -1, dataStores: 0, applications: 1 } as const;

const PREREQUISITE_KINDS = new Set([
  'ConfigMap',
  'Secret',
  'ExternalSecret',
  'ServiceAccount',
  'Role',
  'RoleBinding',
  'NetworkPolicy',
  'PersistentVolumeClaim',
  'ResourceQuota',
  'LimitRange',
]);

/** Kinds that hold data: neither a prune nor deleting the Argo CD Application may remove them. */
const KEEP_KINDS = new Set(['Namespace', 'PersistentVolumeClaim']);

function apiObjectsOf(scope: IConstruct): ApiObject[] {
  return scope.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject);
}

/**
 * Annotates every object under `stack`: its sync wave (data stores are the objects under
 * `dataStores`), and prune/delete protection on the Namespace and on claims.
 */
export function addGitOpsHints(stack: IConstruct, dataStores: readonly IConstruct[]): void {
  const inDataStore = new Set(dataStores.flatMap(apiObjectsOf));
  for (const object of apiObjectsOf(stack)) {
    const wave =
      object.kind === 'Namespace'
        ? SYNC_WAVE.namespace
        : PREREQUISITE_KINDS.has(object.kind)
          ? SYNC_WAVE.prerequisites
          : inDataStore.has(object)
            ? SYNC_WAVE.dataStores
            : SYNC_WAVE.applications;
    object.metadata.addAnnotation('argocd.argoproj.io/sync-wave', String(wave));
    if (KEEP_KINDS.has(object.kind)) {
      object.metadata.addAnnotation('argocd.argoproj.io/sync-options', 'Prune=false,Delete=false');
      object.metadata.addAnnotation('kustomize.toolkit.fluxcd.io/prune', 'disabled');
    }
  }
}
