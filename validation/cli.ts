/**
 * npm run validate [dir ...] [--k8s-version 1.30] [--schemas DIR]
 * Validates every *.yaml / *.yml under the folders (default: the three dist profiles) and exits 1 on any error.
 */
import * as path from 'path';
import { EXEMPTIONS } from './exemptions';
import { formatFinding, formatSummary } from './format';
import { validateDirectories } from './validate';

const PROJECT = path.resolve(__dirname, '..');
const DEFAULT_DIRS = ['dist/kind', 'dist/k3d', 'dist/cloud'];

function usage(): string {
  return [
    'usage: npm run validate -- [dir ...] [--k8s-version 1.30 ...] [--schemas DIR]',
    `  dirs default to ${DEFAULT_DIRS.join(' ')}; schemas to $K8S_SCHEMAS_DIR, then ../shared/k8s-schemas`,
  ].join('\n');
}

function main(argv: string[]): number {
  const dirs: string[] = [];
  const versions: string[] = [];
  let schemasDir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      process.stdout.write(`${usage()}\n`);
      return 0;
    }
    if (a === '--k8s-version' || a.startsWith('--k8s-version=')) {
      const v = a.includes('=') ? a.split('=')[1] : argv[++i];
      if (!v) throw new Error('--k8s-version needs a value like 1.30');
      versions.push(
        ...v.split(',').map((s) =>
          s
            .trim()
            .replace(/^v/, '')
            .replace(/^(\d+\.\d+)\.\d+$/, '$1'),
        ),
      );
    } else if (a === '--schemas' || a.startsWith('--schemas=')) {
      schemasDir = a.includes('=') ? a.split('=')[1] : argv[++i];
    } else if (a.startsWith('-')) {
      throw new Error(`unknown option ${a}\n${usage()}`);
    } else dirs.push(a);
  }
  const targets =
    dirs.length > 0
      ? dirs
      : DEFAULT_DIRS.map((d) => path.relative(process.cwd(), path.join(PROJECT, d)) || '.');
  // The reviewed exemptions are about the project's own manifests; anyone else's folder gets every finding.
  const dist = path.join(PROJECT, 'dist') + path.sep;
  const ownDist = targets.every((d) => path.resolve(d).startsWith(dist));
  const result = validateDirectories(targets, {
    k8sVersions: versions.length > 0 ? versions : undefined,
    schemasDir,
    exemptions: ownDist ? EXEMPTIONS : [],
    exemptionsFile: path.relative(process.cwd(), path.join(PROJECT, 'validation', 'exemptions.ts')),
  });
  for (const f of result.findings) process.stdout.write(`${formatFinding(f)}\n`);
  process.stdout.write(`${formatSummary(result)}\n`);
  return result.findings.some((f) => f.severity === 'error') ? 1 : 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`validate: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 2;
}
