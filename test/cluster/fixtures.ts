import { ClusterLayout, kubectl } from './control-plane';

/*
 * What a kind, k3d or cloud cluster has before anyone applies an app, made for the test
 * control plane: nodes and storage. KWOK runs no containers, so the nodes are Node objects
 * whose kubelet KWOK simulates, and the volumes are PersistentVolumes nothing mounts.
 */

/** 3 zones x 2 hosts: the cloud profile's zone spread and host anti-affinity can both be met. */
export const NODES = ['a', 'b', 'c'].flatMap((zone) =>
  [1, 2].map((host) => ({ name: `kwok-zone-${zone}-${host}`, zone: `test-zone-${zone}` })),
);

/**
 * `standard` is kind's (and here the default, for the cloud profile's claims that name no
 * class), `local-path` is k3d's.
 */
export const STORAGE_CLASSES = [
  { name: 'standard', isDefault: true },
  { name: 'local-path', isDefault: false },
] as const;

/** Available volumes kept per class; the cloud profile claims 7, kind and k3d 4 each. */
export const VOLUMES_PER_CLASS = 12;

export function prepareNodes(l: ClusterLayout): void {
  const docs = NODES.map((n) => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: n.name,
      labels: {
        'kubernetes.io/hostname': n.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'topology.kubernetes.io/region': 'test-region',
        'topology.kubernetes.io/zone': n.zone,
        type: 'kwok',
      },
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
    },
    status: {
      capacity: { cpu: '16', memory: '64Gi', pods: '110', 'ephemeral-storage': '200Gi' },
      allocatable: { cpu: '16', memory: '64Gi', pods: '110', 'ephemeral-storage': '200Gi' },
    },
  }));
  kubectl(l, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs }));
}

interface PvList {
  items: { metadata: { name: string }; spec: { storageClassName?: string }; status?: { phase?: string } }[];
}

/**
 * The storage classes, and a pool of unclaimed volumes in each: the PV controller binds a claim
 * to any Available volume of its class at least as large, as it would a provisioned one.
 * Released volumes (their claim deleted) are removed and the pool topped up again, so one
 * profile's leftovers never satisfy the next profile's claims.
 */
export async function prepareStorage(l: ClusterLayout): Promise<void> {
  kubectl(
    l,
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: STORAGE_CLASSES.map((c) => ({
        apiVersion: 'storage.k8s.io/v1',
        kind: 'StorageClass',
        metadata: {
          name: c.name,
          annotations: { 'storageclass.kubernetes.io/is-default-class': String(c.isDefault) },
        },
        provisioner: 'kubernetes.io/no-provisioner',
        reclaimPolicy: 'Retain',
        volumeBindingMode: 'Immediate',
      })),
    }),
  );
  const pvs = JSON.parse(kubectl(l, ['get', 'pv', '-o', 'json'])) as PvList;
  const released = pvs.items.filter((pv) => pv.status?.phase === 'Released' || pv.status?.phase === 'Failed');
  if (released.length > 0)
    kubectl(l, ['delete', 'pv', '--wait=false', ...released.map((pv) => pv.metadata.name)]);
  const create: object[] = [];
  for (const c of STORAGE_CLASSES) {
    const available = pvs.items.filter(
      (pv) => pv.spec.storageClassName === c.name && (pv.status?.phase ?? 'Available') === 'Available',
    );
    const names = new Set(pvs.items.map((pv) => pv.metadata.name));
    for (let i = 0, made = available.length; made < VOLUMES_PER_CLASS; i++) {
      const name = `${c.name}-${String(i).padStart(3, '0')}`;
      if (names.has(name)) continue;
      made++;
      create.push({
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        metadata: { name, labels: { 'memostack.test/pool': c.name } },
        spec: {
          storageClassName: c.name,
          capacity: { storage: '1Ti' },
          accessModes: ['ReadWriteOnce'],
          persistentVolumeReclaimPolicy: 'Retain',
          hostPath: { path: `/var/lib/memostack-test/${name}`, type: 'DirectoryOrCreate' },
        },
      });
    }
  }
  if (create.length > 0)
    kubectl(l, ['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: create }));
}
