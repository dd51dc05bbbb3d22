/** Narrowing helpers: manifests are untrusted input, so every read checks the shape it expects. */
export type Json = Record<string, unknown>;

export function rec(value: unknown): Json | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
}

export function arr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function num(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

/** Reads a nested field; numbers index arrays. */
export function get(value: unknown, ...path: ReadonlyArray<string | number>): unknown {
  let cur = value;
  for (const seg of path) {
    if (typeof seg === 'number') cur = Array.isArray(cur) ? cur[seg] : undefined;
    else cur = rec(cur)?.[seg];
    if (cur === undefined) return undefined;
  }
  return cur;
}

/** String-valued map (labels, selectors, ConfigMap data); non-string values are dropped. */
export function strMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(rec(value) ?? {})) if (typeof v === 'string') out[k] = v;
  return out;
}

export function quote(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}
