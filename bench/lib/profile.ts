import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/*
 * Summaries of the V8 CPU profiles written with --profile: where each server under test spent
 * its samples, grouped by package or source file. A profile covers the whole life of its
 * process, so "(idle)" also counts the phases in which that server was not under load (such as
 * the ceiling's runs, for the service); the shares of the busy groups are the useful part.
 */

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string } }[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  readonly file: string;
  readonly pid: number;
  readonly server?: string;
  readonly totalMs: number;
  /** Share of samples per group, largest first (idle included). */
  readonly top: { readonly group: string; readonly share: number }[];
}

function group(fn: string, url: string): string {
  if (fn === '(idle)' || fn === '(garbage collector)' || fn === '(program)') return fn;
  if (url.includes('/app/src/')) return `app/src/${url.split('/app/src/')[1]}`;
  if (url.includes('node_modules/')) {
    const rest = url.split('node_modules/').pop() ?? url;
    const parts = rest.split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  if (url === '') return `(native) ${fn}`;
  return path.relative(process.cwd(), url.replace(/^file:\/\//, ''));
}

export function summarizeProfiles(dir: string, servers: ReadonlyMap<number, string>): ProfileSummary[] {
  const out: ProfileSummary[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const totals = new Map<string, number>();
    let total = 0;
    profile.samples.forEach((id, i) => {
      const dt = profile.timeDeltas[i] ?? 0;
      const node = byId.get(id);
      if (!node) return;
      const g = group(node.callFrame.functionName, node.callFrame.url);
      totals.set(g, (totals.get(g) ?? 0) + dt);
      total += dt;
    });
    const pid = Number(/\.(\d+)\.\d+\.\d+\.cpuprofile$/.exec(file)?.[1] ?? NaN);
    out.push({
      file,
      pid,
      server: servers.get(pid),
      totalMs: total / 1000,
      top: [...totals.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 12)
        .map(([g, t]) => ({ group: g, share: t / Math.max(1, total) })),
    });
  }
  return out;
}
