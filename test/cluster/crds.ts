import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClusterLayout, kubectl } from './control-plane';
import { kubectlResult } from './rollout';

/*
 * The CustomResourceDefinitions of the optional objects memostack renders, exactly as their
 * projects publish them inside their Go modules (fetched and checksum-verified by the go
 * command, never written by hand): prometheus-operator's ServiceMonitor and PrometheusRule
 * (MonitoringMode.operator) and external-secrets' ExternalSecret (profile.externalSecretStore).
 */
export const CRD_SOURCES = [
  {
    module: 'github.com/prometheus-operator/prometheus-operator',
    version: 'v0.85.0',
    files: [
      'example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml',
      'example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml',
    ],
  },
  {
    // 1.x serves external-secrets.io/v1 only (v1beta1 is no longer served since 0.17).
    module: 'github.com/external-secrets/external-secrets',
    version: 'v1.3.2',
    files: [
      'config/crds/bases/external-secrets.io_externalsecrets.yaml',
      'config/crds/bases/external-secrets.io_clustersecretstores.yaml',
    ],
  },
] as const;

function moduleDir(module: string, version: string): string {
  const out = execFileSync('go', ['mod', 'download', '-json', `${module}@${version}`], {
    encoding: 'utf8',
    cwd: __dirname,
    maxBuffer: 16 * 1024 * 1024,
  });
  const info = JSON.parse(out) as { Dir?: string; Error?: string };
  if (!info.Dir) throw new Error(`go mod download ${module}@${version}: ${info.Error ?? 'no Dir'}`);
  return info.Dir;
}

/** The CRD files, from the Go module cache (downloaded on first use). */
export function crdFiles(): string[] {
  return CRD_SOURCES.flatMap((s) => s.files.map((f) => path.join(moduleDir(s.module, s.version), f)));
}

/** Installs the CRDs (server-side: they are too large for the last-applied annotation) and waits until each is Established. */
export async function installCrds(l: ClusterLayout, timeoutMs = 60_000): Promise<string[]> {
  const files = crdFiles();
  kubectl(l, ['apply', '--server-side', '--force-conflicts', ...files.flatMap((f) => ['-f', f])]);
  const names = files.map((f) => path.basename(f, '.yaml').replace(/^([^_]+)_(.+)$/, '$2.$1'));
  const deadline = Date.now() + timeoutMs;
  for (const name of names) {
    while (
      kubectlResult(l, ['wait', '--for=condition=Established', '--timeout=5s', `crd/${name}`]).status !== 0
    ) {
      if (Date.now() > deadline) throw new Error(`CRD ${name} not Established within ${timeoutMs / 1000} s`);
      await sleep(250);
    }
  }
  return names;
}
