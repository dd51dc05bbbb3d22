import { errors as joseErrors, jwtVerify } from 'jose';
import type { JWTPayload } from 'jose';
import { ClaimSettings, ClaimsError, Principal, principalFromClaims } from './principal';
import { KeysUnavailableError, KeySet, UnknownKeyError } from './key-set';
import { createVerifiedTokens, VerifiedTokensOptions } from './verified-tokens';

/**
 * Asymmetric algorithms only. `none` and the HMAC family (HS*) are never accepted, whatever key
 * would match: an HS256 token "signed" with the issuer's public key is the classic forgery.
 */
export const ALLOWED_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'EdDSA',
];

/** Clock difference tolerated between this service and the issuer for `exp`, `nbf` and `iat`. */
export const CLOCK_LEEWAY_SECONDS = 30;

/** A token longer than this is refused before any parsing (real access tokens are 1-4 KiB). */
export const MAX_TOKEN_CHARS = 16 * 1024;

/** Why a token was refused, meant for the client (RFC 6750 error_description). */
export class InvalidTokenError extends Error {
  constructor(description: string, options?: { cause?: unknown }) {
    super(description, options);
    this.name = 'InvalidTokenError';
  }
}

export interface TokenVerifierOptions extends ClaimSettings {
  readonly issuer: string;
  readonly audience: string;
  readonly keys: KeySet;
  /** Clock difference tolerated for `exp`, `nbf` and `iat`. @default CLOCK_LEEWAY_SECONDS */
  readonly clockLeewaySeconds?: number;
  /**
   * Bounds of the cache of verified tokens, or `false` for a full check on every request.
   * @default - the defaults of VerifiedTokensOptions
   */
  readonly verifiedTokens?: Omit<VerifiedTokensOptions, 'keysVersion'> | false;
}

export type TokenVerifier = (token: string) => Promise<Principal>;

/**
 * Checks an access token (a JWS compact JWT): signature by a current key of the issuer with an
 * allowed algorithm, `iss` exactly the issuer, `aud` containing the audience, `exp` present and
 * `exp`/`nbf` within the leeway, a subject. Throws InvalidTokenError with a reason for the client,
 * or KeysUnavailableError when the issuer's keys have never been loaded. A token that passed is
 * remembered (see createVerifiedTokens), so a client sending the same token again costs a hash
 * and a map lookup instead of a signature check.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const { issuer, audience, keys } = options;
  const verified =
    options.verifiedTokens === false
      ? undefined
      : createVerifiedTokens({ ...options.verifiedTokens, keysVersion: () => keys.version() });
  return async (token) => {
    if (token.length > MAX_TOKEN_CHARS)
      throw new InvalidTokenError(`the token is longer than ${MAX_TOKEN_CHARS} characters`);
    const known = verified?.get(token);
    if (known !== undefined) return known;
    const keysVersion = keys.version();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, (header) => keys.keyFor(header), {
        issuer,
        audience,
        algorithms: ALLOWED_ALGORITHMS,
        clockTolerance: options.clockLeewaySeconds ?? CLOCK_LEEWAY_SECONDS,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (err) {
      if (err instanceof KeysUnavailableError) throw err;
      throw new InvalidTokenError(describe(err), { cause: err });
    }
    let principal: Principal;
    try {
      principal = principalFromClaims(payload, options);
    } catch (err) {
      if (err instanceof ClaimsError) throw new InvalidTokenError(err.message, { cause: err });
      throw err;
    }
    // requiredClaims made jose check that exp is there and a number.
    verified?.remember(token, principal, payload.exp as number, keysVersion);
    return principal;
  };
}

/** A short reason per failure; never the token or key material. */
function describe(err: unknown): string {
  if (err instanceof UnknownKeyError) return `the token is signed with an ${err.message}`;
  if (err instanceof joseErrors.JWTExpired) return 'the token has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return 'the token is not valid yet';
    if (err.claim === 'iss') return 'the token is from another issuer';
    if (err.claim === 'aud') return 'the token is not meant for this API (audience)';
    return `the token's ${err.claim} claim is missing or invalid`;
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed)
    return 'the token is signed with an algorithm this API does not accept';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'the token signature is invalid';
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid)
    return 'the token is malformed';
  if (err instanceof joseErrors.JOSENotSupported)
    return 'the token uses a key or algorithm this API does not support';
  return 'the token could not be verified';
}
