import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { run } from '../../main';
import { SYNTH_CASES } from './fixtures/synth-entry';

/**
 * The synth path with bad input: main.ts' run() builds every profile before it writes anything,
 * so a bad prop or bad profile data fails with one line naming the profile, the construct, the
 * prop and the value, exits 1 and leaves the output folders exactly as they were. Everything
 * writes into temporary folders, never into the project's dist/.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const ENTRY = path.join(__dirname, 'fixtures', 'synth-entry.ts');

/** Every file under `dir` with its content, so "unchanged" means byte for byte. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!fs.existsSync(dir)) return out;
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const file = path.join(entry.parentPath ?? entry.path, entry.name);
      out[path.relative(dir, file)] = fs.readFileSync(file, 'utf8');
    }
  }
  return out;
}

const BAD_CASES: ReadonlyArray<[string, RegExp]> = [
  [
    'kafka-even-replicas',
    /^synth failed, dist\/ left unchanged: profile 'cloud': KafkaCluster: replicas must be an odd integer 1\.\.9 .*got 2\n$/,
  ],
  [
    'bad-namespace',
    /^synth failed, dist\/ left unchanged: Profile 'kind': namespace must be .*got 'Memo_NS'\n$/,
  ],
  [
    'bad-storage-class',
    /^synth failed, dist\/ left unchanged: Profile 'k3d': storageClassName must be .*got 'local path'\n$/,
  ],
  [
    'tiny-kafka-memory',
    /^synth failed, dist\/ left unchanged: profile 'cloud': KafkaCluster: resources must have a memory limit of at least 256 MiB.*got 128 MiB/,
  ],
  ['duplicate-names', /^synth failed, dist\/ left unchanged: two profiles are named 'kind'/],
];

describe('synth with bad input (main.ts run)', () => {
  let work: string;
  let options: { distDir: string; secretsDir: string };
  let before: Record<string, string>;

  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'memostack-synth-path-'));
    options = { distDir: path.join(work, 'dist'), secretsDir: path.join(work, 'secrets') };
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      expect(run(SYNTH_CASES.valid, options)).toBe(0);
    } finally {
      log.mockRestore();
    }
    before = tree(options.distDir);
  });

  afterAll(() => {
    fs.rmSync(work, { recursive: true, force: true });
  });

  test('when every profile is valid, then the manifests are those committed in dist/', () => {
    for (const profile of ['kind', 'k3d', 'cloud']) {
      const committed = tree(path.join(ROOT, 'dist', profile));
      const written = Object.fromEntries(
        Object.entries(before).filter(([file]) => file.startsWith(`${profile}${path.sep}`)),
      );
      const yaml = (files: Record<string, string>, prefix: string) =>
        Object.fromEntries(
          Object.entries(files)
            .filter(([file]) => file.endsWith('.yaml'))
            .map(([file, text]) => [file.slice(prefix.length), text]),
        );
      expect(yaml(written, `${profile}${path.sep}`)).toEqual(yaml(committed, ''));
    }
  });

  test.each(BAD_CASES)(
    'when the case is %s, then run() returns 1 with one clear line and the output is untouched',
    (name, message) => {
      const stderr: string[] = [];
      const write = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
        stderr.push(String(chunk));
        return true;
      });
      try {
        expect(run(SYNTH_CASES[name], options)).toBe(1);
      } finally {
        write.mockRestore();
      }
      const text = stderr.join('');
      expect(text).toMatch(message);
      expect(text.split('\n').filter((l) => l !== '')).toHaveLength(1);
      expect(text).not.toMatch(/^\s+at /m);
      expect(tree(options.distDir)).toEqual(before);
    },
  );

  test('when the failure is a bug rather than bad input (a TypeError), then its stack is kept', () => {
    const broken = [{ ...SYNTH_CASES.valid[0], mariadb: undefined as never }];
    const stderr: string[] = [];
    const write = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr.push(String(chunk));
      return true;
    });
    try {
      expect(run(broken, options)).toBe(1);
    } finally {
      write.mockRestore();
    }
    expect(stderr.join('')).toMatch(
      /^synth failed, dist\/ left unchanged: profile 'kind': .*\nTypeError: .*\n\s+at /,
    );
    expect(tree(options.distDir)).toEqual(before);
  });
});

describe('synth with bad input (the cdk8s CLI)', () => {
  test('when `cdk8s synth` runs an app with a bad profile, then it exits non-zero, prints the message and writes no dist/', () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'memostack-synth-cli-'));
    try {
      const distDir = path.join(work, 'dist');
      const app = [
        path.join(ROOT, 'node_modules', '.bin', 'ts-node'),
        '--transpile-only',
        '-P',
        path.join(ROOT, 'tsconfig.json'),
        ENTRY,
        'kafka-even-replicas',
        distDir,
        path.join(work, 'secrets'),
      ].join(' ');
      const result = spawnSync(
        path.join(ROOT, 'node_modules', '.bin', 'cdk8s'),
        ['synth', '--app', app, '--output', path.join(work, 'out')],
        { cwd: work, encoding: 'utf8', timeout: 120_000 },
      );
      expect(result.status).not.toBe(0);
      // The app's own line; the CLI adds its own "returned a non-zero exit code" report after it.
      expect(result.stderr).toMatch(
        /^synth failed, dist\/ left unchanged: profile 'cloud': KafkaCluster: replicas must be an odd integer 1\.\.9 .*got 2$/m,
      );
      expect(result.stderr).not.toMatch(/main\.ts:\d+|charts\/[\w-]+\.ts:\d+/);
      expect(fs.existsSync(distDir)).toBe(false);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});
