import type { JWTPayload } from 'jose';
import { LIMITS } from '../memos/schema';

/** Who is calling, as a verified access token says. */
export interface Principal {
  /** The token's `sub`: stable and unique within the issuer. */
  readonly subject: string;
  /** The token's `iss`; a subject means something only together with it. */
  readonly issuer: string;
  /** What goes into a memo's `author`. */
  readonly displayName: string;
  /** The values of the roles claim. */
  readonly roles: readonly string[];
  /** Holds the configured admin role: may change and delete every memo. */
  readonly isAdmin: boolean;
}

export interface ClaimSettings {
  /** Dotted path of the claim listing roles or groups (`groups`, `roles`, `realm_access.roles`). */
  readonly rolesClaim: string;
  readonly adminRole: string | undefined;
  /** The claim tried first for the display name. */
  readonly nameClaim: string;
}

/** OIDC Core caps `sub` at 255 ASCII characters; the owner columns are that wide. */
export const MAX_SUBJECT_CHARS = 255;
export const MAX_ISSUER_CHARS = 255;
const CONTROL = /[\u0000-\u001f\u007f]/g;

/** The token does not name a usable caller (no subject, or one the owner columns cannot hold). */
export class ClaimsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClaimsError';
  }
}

function claimAt(payload: JWTPayload, path: string): unknown {
  // A claim whose name has dots (Auth0's namespaced "https://x/roles") is tried whole first.
  if (path in payload) return payload[path];
  let value: unknown = payload;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** Roles as a JSON array of strings, or one space-separated string (as some issuers send scopes). */
function rolesOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  if (typeof value === 'string') return value.split(' ').filter((v) => v !== '');
  return [];
}

/** A single-line display name of at most the author column's width. */
function cleanName(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  // An unpaired surrogate has no UTF-8 form; the database would store U+FFFD anyway.
  const name = value
    .replace(CONTROL, ' ')
    .replace(/[\ud800-\udfff]/gu, '\ufffd')
    .trim();
  if (name === '') return undefined;
  return [...name].slice(0, LIMITS.authorChars).join('');
}

/** Builds the caller from a verified payload (signature, issuer, audience and times already checked). */
export function principalFromClaims(payload: JWTPayload, settings: ClaimSettings): Principal {
  const { sub, iss } = payload;
  if (typeof sub !== 'string' || sub === '') throw new ClaimsError('the token has no subject (sub)');
  if (sub.length > MAX_SUBJECT_CHARS)
    throw new ClaimsError(`the subject is longer than ${MAX_SUBJECT_CHARS} characters`);
  if (typeof iss !== 'string' || iss.length > MAX_ISSUER_CHARS) {
    throw new ClaimsError(`the issuer must be at most ${MAX_ISSUER_CHARS} characters`);
  }
  const roles = rolesOf(claimAt(payload, settings.rolesClaim));
  const displayName =
    [settings.nameClaim, 'preferred_username', 'email']
      .map((claim) => cleanName(claimAt(payload, claim)))
      .find((name) => name !== undefined) ??
    cleanName(sub) ??
    // A subject of blanks and control characters only: nothing printable to show.
    'unnamed';
  return {
    subject: sub,
    issuer: iss,
    displayName,
    roles,
    isAdmin: settings.adminRole !== undefined && roles.includes(settings.adminRole),
  };
}
