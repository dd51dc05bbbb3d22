import { spawnSync } from 'child_process';
import * as path from 'path';
import { FIXTURES, HAND_WRITTEN } from './helpers';

const FINDING_HEAD =
  /^(\S+):(\d+):(\d+) (error|warning) ([A-Z][A-Z-]+) (\w+) ([\w.-]+\/)?[\w.-]+( \(([^)]+)\))?$/;

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('npx', ['ts-node', '--transpile-only', 'validation/cli.ts', ...args], {
    encoding: 'utf8',
    env: { ...process.env, CI: 'true' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('npm run validate (validation/cli.ts)', () => {
  it('when the folder is clean, then it prints the summary for every version and exits 0', () => {
    const r = run(HAND_WRITTEN);
    expect(r.stdout.trim()).toBe(
      'checked 11 objects x 10 Kubernetes versions (1.27-1.36): 0 errors, 0 warnings',
    );
    expect(r.status).toBe(0);
  });

  it('when the folder has errors, then each finding is printed in the VALIDATION.md format and it exits 1', () => {
    const dir = path.join(FIXTURES, 'hand-written-broken');
    const file = path.join(dir, 'app.yaml');
    const r = run(dir, '--k8s-version', '1.30');
    const lines = r.stdout.trimEnd().split('\n');
    const heads = lines.filter((_, i) => i % 2 === 0 && i < lines.length - 1);
    const bodies = lines.filter((_, i) => i % 2 === 1);
    expect(heads.length).toBeGreaterThan(5);
    for (const h of heads) expect(h).toMatch(FINDING_HEAD);
    for (const b of bodies) expect(b).toMatch(/^ {2}\S/);
    expect(r.stdout).toContain(
      `${file}:8:3 error SCHEMA-STRICT Service shop/web\n  spec.clusterIp: Forbidden: unknown field (did you mean "clusterIP"?)\n`,
    );
    expect(r.stdout).toContain(
      `${file}:35:21 error API-PORTS Deployment shop/web (shop/web/Deployment)\n  spec.template.spec.containers[0].ports[0].name: Invalid value: "metrics-exporter-http": must be no more than 15 characters\n`,
    );
    expect(r.stdout).toContain(`${file}:39:22 error XREF-DNS Deployment shop/web (shop/web/Deployment)\n`);
    expect(lines[lines.length - 1]).toMatch(
      /^checked 2 objects x 1 Kubernetes version \(1\.30\): \d+ errors, \d+ warnings$/,
    );
    expect(r.status).toBe(1);
  });

  it('when an unknown version is asked for, then it says which versions exist and exits 2', () => {
    const r = run(HAND_WRITTEN, '--k8s-version', '1.99');
    expect(r.stderr).toMatch(/unknown Kubernetes version 1\.99 \(schemas in .*: 1\.27, 1\.28, .*1\.36\)/);
    expect(r.status).toBe(2);
  });
});
