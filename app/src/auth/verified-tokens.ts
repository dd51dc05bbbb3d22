import { hash } from 'node:crypto';
import type { Principal } from './principal';

/**
 * Room for verified tokens, counted as the characters of the tokens themselves (the principal
 * kept for each is made of a part of them). About 14,000 tokens of Dex's 575 characters, or 2,000
 * of the largest accepted (16 KiB): a few MiB of heap whatever the tokens look like.
 */
export const VERIFIED_TOKENS_MAX_CHARS = 8 * 1024 * 1024;
/**
 * Longest a verified token is trusted without checking its signature again. A token stays cached
 * only while the issuer's key set is the one it was verified against (see `keysVersion`), so this
 * bounds what the cache can change only for a key the issuer withdrew without the service
 * refetching its keys, and a key refetch happens anyway within `JWKS_MAX_AGE_MS`.
 */
export const VERIFIED_TOKENS_MAX_AGE_MS = 60_000;
/** What an entry costs besides its token: the hash key, the principal object, the map slot. */
const ENTRY_OVERHEAD_CHARS = 256;

export interface VerifiedTokensOptions {
  /** @default VERIFIED_TOKENS_MAX_CHARS */
  readonly maxChars?: number;
  /** @default VERIFIED_TOKENS_MAX_AGE_MS */
  readonly maxAgeMs?: number;
  /** Increases whenever the issuer's key set is replaced: entries of an older set are not used. */
  readonly keysVersion: () => number;
  /** The clock, in milliseconds. */
  readonly now?: () => number;
}

/** Tokens whose signature and claims were checked, so a client's next request skips the crypto. */
export interface VerifiedTokens {
  /** The principal of a token verified earlier, while it is still valid for the cache. */
  get(token: string): Principal | undefined;
  /**
   * Keeps a verified token until `exp` (seconds since the epoch) or the cache's own bound.
   * `keysVersion` is the version read before the check began: a key set replaced during the check
   * then costs one more check, never trust in a key that the newer set no longer holds.
   */
  remember(token: string, principal: Principal, exp: number, keysVersion: number): void;
  /** Entries held now (tests and the benchmark report it). */
  size(): number;
}

interface Entry {
  readonly principal: Principal;
  readonly validUntilMs: number;
  readonly keysVersion: number;
  readonly chars: number;
}

/**
 * A bounded cache of verified tokens, least recently used first out. Keys are SHA-256 digests, so
 * the heap holds no bearer tokens and every key has the same size. An entry is used only before the
 * token's `exp` (without the clock leeway: past `exp`, the full check decides, leeway included),
 * within `maxAgeMs` of its check, and while the issuer's key set is the one that verified it: after
 * a key rotation every token is checked again, so one signed by a withdrawn key is refused.
 * Refused tokens are never cached: each costs its full check.
 */
export function createVerifiedTokens(options: VerifiedTokensOptions): VerifiedTokens {
  const maxChars = options.maxChars ?? VERIFIED_TOKENS_MAX_CHARS;
  const maxAgeMs = options.maxAgeMs ?? VERIFIED_TOKENS_MAX_AGE_MS;
  const { keysVersion } = options;
  const now = options.now ?? Date.now;
  // A Map iterates in insertion order; re-inserting on a hit makes the first entry the least recent.
  const entries = new Map<string, Entry>();
  let chars = 0;

  // The one-shot hash: half the cost of createHash().update().digest() for a token-sized input.
  const digest = (token: string): string => hash('sha256', token, 'base64url');

  function drop(key: string, entry: Entry): void {
    entries.delete(key);
    chars -= entry.chars;
  }

  return {
    get(token) {
      const key = digest(token);
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      if (entry.keysVersion !== keysVersion() || now() >= entry.validUntilMs) {
        drop(key, entry);
        return undefined;
      }
      entries.delete(key);
      entries.set(key, entry);
      return entry.principal;
    },

    remember(token, principal, exp, verifiedWith) {
      const checkedAt = now();
      const validUntilMs = Math.min(exp * 1000, checkedAt + maxAgeMs);
      const cost = token.length + ENTRY_OVERHEAD_CHARS;
      if (validUntilMs <= checkedAt || cost > maxChars) return;
      const key = digest(token);
      const previous = entries.get(key);
      if (previous !== undefined) drop(key, previous);
      for (const [oldest, entry] of entries) {
        if (chars + cost <= maxChars) break;
        drop(oldest, entry);
      }
      entries.set(key, { principal, validUntilMs, keysVersion: verifiedWith, chars: cost });
      chars += cost;
    },

    size: () => entries.size,
  };
}
