import * as path from 'path';
import { parseAllDocuments, stringify } from 'yaml';
import { get, rec, str } from './json';
import { readSourceFiles } from './load';
import type { SourceFile, ValidationOptions, ValidationResult } from './types';
import { validateDocuments } from './validate';

/** Manifests are edited by path in tests (`o.spec.template.spec.containers[0]`); strict types would only add casts. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Editable = Record<string, any>;

export interface ManifestObject {
  readonly file: string;
  readonly index: number;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly value: Record<string, unknown>;
}

/**
 * A folder of manifests held in memory, for mutation tests: break one thing in a real profile,
 * validate the edited copy, and expect exactly the finding that thing should cause. Files are
 * re-parsed on validation, so lines and columns are those of the edited text.
 */
export class ManifestSet {
  static fromDirectory(...dirs: string[]): ManifestSet {
    return new ManifestSet(readSourceFiles(dirs));
  }

  private readonly files = new Map<string, string>();

  constructor(sources: readonly SourceFile[]) {
    for (const s of sources) this.files.set(s.file, s.text);
  }

  get sources(): SourceFile[] {
    return [...this.files].map(([file, text]) => ({ file, text }));
  }

  text(file: string): string {
    const t = this.files.get(file);
    if (t === undefined)
      throw new Error(`no file ${file} in this set (files: ${[...this.files.keys()].join(', ')})`);
    return t;
  }

  objects(): ManifestObject[] {
    const out: ManifestObject[] = [];
    for (const [file, text] of this.files)
      parseAllDocuments(text).forEach((d, index) => {
        const value = rec(d.toJS());
        if (!value || typeof value.kind !== 'string') return;
        out.push({
          file,
          index,
          kind: value.kind,
          namespace: str(get(value, 'metadata', 'namespace')) ?? '',
          name: str(get(value, 'metadata', 'name')) ?? '',
          value,
        });
      });
    return out;
  }

  find(kind: string, name: string, namespace?: string): ManifestObject {
    const hits = this.objects().filter(
      (o) => o.kind === kind && o.name === name && (namespace === undefined || o.namespace === namespace),
    );
    if (hits.length !== 1) throw new Error(`expected one ${kind} ${name}, found ${hits.length}`);
    return hits[0];
  }

  /** Edits one object (the callback may change it in place or return a replacement) and rewrites its file. */
  mutate(kind: string, name: string, edit: (obj: Editable) => unknown, namespace?: string): this {
    const target = this.find(kind, name, namespace);
    const docs = parseAllDocuments(this.text(target.file));
    const pieces = docs.map((d, i) => {
      if (i !== target.index) return d.toString().replace(/^---\n/, '');
      const value = d.toJS() as Record<string, unknown>;
      const replaced = edit(value);
      return stringify(replaced === undefined ? value : replaced);
    });
    this.files.set(target.file, pieces.join('---\n'));
    return this;
  }

  /** Replaces a file's text (for defects an object edit cannot express, like duplicate keys). */
  setText(file: string, text: string): this {
    this.files.set(file, text);
    return this;
  }

  removeFile(file: string): this {
    this.files.delete(file);
    return this;
  }

  validate(options: ValidationOptions = {}): ValidationResult {
    return validateDocuments(this.sources, options);
  }

  /** A file's path as findings print it, from its base name. */
  fileNamed(base: string): string {
    const hit = [...this.files.keys()].find((f) => path.basename(f) === base);
    if (!hit) throw new Error(`no file named ${base}`);
    return hit;
  }
}
