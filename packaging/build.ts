import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ROOT } from './import-graph';
import { inputsDigest } from './inputs';
import { buildJsiiProject, runJsii } from './jsii-project';
import { ARTIFACTS_DIR, STAGING_DIR } from './layout';

/*
 * `npm run package`: the staging package compiled by jsii, then packed by jsii-pacmak for the
 * targets this build proves. Java and Go are declared in the package's jsii targets (their names
 * are part of the published contract) but not packed: jsii-pacmak's Maven build must resolve
 * org.cdk8s:cdk8s [2.70.106,3.0.0) and its Go build `go mod tidy` must fetch
 * cdk8s-core-go/cdk8s/v2 v2.70.106, and neither is served to this build (README, "Install").
 */
export const PACKED_TARGETS = ['js', 'python'];

/** Written last: its digest says which sources the artifacts beside it were built from. */
export const DIGEST_FILE = path.join(ARTIFACTS_DIR, 'inputs.sha256');

/** The staging package, written anew from the sources and compiled: lib/ and the .jsii assembly. */
export function compileStagingPackage(): void {
  fs.rmSync(STAGING_DIR, { recursive: true, force: true });
  buildJsiiProject(STAGING_DIR);
  const compiled = runJsii(STAGING_DIR);
  if (compiled.status !== 0 || compiled.errors.length > 0) {
    throw new Error(`jsii failed (exit ${compiled.status}):\n${compiled.output}`);
  }
}

export function buildArtifacts(): void {
  fs.rmSync(ARTIFACTS_DIR, { recursive: true, force: true });
  const digest = inputsDigest();
  compileStagingPackage();
  const pacmak = spawnSync(
    path.join(ROOT, 'node_modules', '.bin', 'jsii-pacmak'),
    [STAGING_DIR, '--outdir', ARTIFACTS_DIR, '--targets', ...PACKED_TARGETS, '--no-fingerprint'],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } },
  );
  if (pacmak.status !== 0) {
    throw new Error(`jsii-pacmak failed (exit ${pacmak.status}):\n${pacmak.stdout}\n${pacmak.stderr}`);
  }
  fs.writeFileSync(DIGEST_FILE, `${digest}\n`);
}
