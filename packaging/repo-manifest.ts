import * as fs from 'fs';
import * as path from 'path';
import { ROOT } from './import-graph';

/** The repository's package.json: the versions it installs and tests, and the library's version. */
interface RepoManifest {
  readonly version: string;
  readonly dependencies?: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
}

function readRepoManifest(): RepoManifest {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as RepoManifest;
}

/** The exact version of `name` the repository installs (and so tests). */
export function versionOf(name: string): string {
  const manifest = readRepoManifest();
  const version = manifest.dependencies?.[name] ?? manifest.devDependencies?.[name];
  if (version === undefined) {
    throw new Error(`the library imports '${name}', which package.json does not declare`);
  }
  return version;
}

/** The library's version: the published package carries the repository's. */
export function libraryVersion(): string {
  return readRepoManifest().version;
}
