import { parseCidr } from '../http/addresses';

/*
 * The kinds of value a variable of the service's environment holds: how the service parses the
 * text at start, how MemoApi writes a value into its ConfigMap, and the bounds both keep to.
 * Pure functions over strings, with nothing of the service's runtime, because the construct
 * library imports this file (through contract.ts) to validate its props by the same rules.
 */

/** A text the service refuses. The loader puts the variable in front, MemoApi the prop. */
export class ContractViolation extends Error {
  constructor(
    /** What the value must be, e.g. "an integer from 0 to 86400". */
    readonly expected: string,
    /** The refused part of the text, as the message shows it. */
    readonly got?: string,
    message?: string,
  ) {
    super(message ?? (got === undefined ? `expected ${expected}` : `expected ${expected}, got ${got}`));
    this.name = 'ContractViolation';
  }
}

/** The entries of a comma-separated list that the list kinds check one by one. */
export type ListEntry = 'hostPort' | 'origin' | 'cidr';

/** The bounds of a kind as data, for the README, MemoApi's messages and the agreement test. */
export type Shape =
  | { readonly type: 'integer'; readonly min: number; readonly max: number }
  | { readonly type: 'oneOf'; readonly values: readonly string[] }
  | {
      readonly type: 'name';
      /** A regular-expression character class body, e.g. `A-Za-z0-9_`. */
      readonly characters: string;
      readonly maxLength: number;
      /** Names made of allowed characters that are still refused. */
      readonly reserved: readonly string[];
    }
  | { readonly type: 'text'; readonly controlCharacters: boolean }
  | { readonly type: 'secret' }
  | { readonly type: 'boolean' }
  | { readonly type: 'hostName' }
  | { readonly type: 'issuerUrl'; readonly maxLength: number }
  | { readonly type: 'list'; readonly entry: ListEntry; readonly atLeastOne: boolean };

export interface Kind<T> {
  readonly shape: Shape;
  /** What a value must be, in the words of the service's messages and the README. */
  readonly expected: string;
  /**
   * The value of a set variable: its text trimmed and not empty (a secret's text verbatim).
   * @throws ContractViolation
   */
  parse(text: string): T;
  /** The text MemoApi writes for a value; parse gives every accepted value back from it. */
  format(value: T): string;
}

const same = (value: string): string => value;

export function integer(min: number, max: number): Kind<number> {
  const expected = `an integer from ${min} to ${max}`;
  return {
    shape: { type: 'integer', min, max },
    expected,
    parse: (text) => {
      if (!/^\d+$/.test(text)) throw new ContractViolation(expected, `"${text}"`);
      const value = Number(text);
      if (value < min || value > max) throw new ContractViolation(expected, text);
      return value;
    },
    format: (value) => String(value),
  };
}

/** One of lower-case `values`; the service lowercases the text first, so any letter case is read. */
export function oneOf<const V extends string>(values: readonly V[]): Kind<V> {
  const expected = `one of ${values.join(', ')}`;
  const members: readonly string[] = values;
  return {
    shape: { type: 'oneOf', values },
    expected,
    parse: (text) => {
      const lower = text.toLowerCase();
      if (!members.includes(lower)) throw new ContractViolation(expected, `"${lower}"`);
      return lower as V;
    },
    format: same,
  };
}

/** 1 to `maxLength` of `characters` (a character class body), none of `reserved`. */
export function name(
  characters: string,
  maxLength: number,
  expected: string,
  reserved: readonly string[] = [],
): Kind<string> {
  const pattern = new RegExp(`^[${characters}]{1,${maxLength}}$`);
  return {
    shape: { type: 'name', characters, maxLength, reserved },
    expected,
    parse: (text) => {
      if (!pattern.test(text) || reserved.includes(text)) throw new ContractViolation(expected, `"${text}"`);
      return text;
    },
    format: same,
  };
}

/** Free text, trimmed; without `controlCharacters`, none of U+0000-U+001F and U+007F. */
export function text(options: { readonly controlCharacters: boolean }): Kind<string> {
  const expected = options.controlCharacters ? 'any text' : 'text without control characters';
  return {
    shape: { type: 'text', controlCharacters: options.controlCharacters },
    expected,
    parse: (value) => {
      if (!options.controlCharacters && /[\u0000-\u001f\u007f]/.test(value)) {
        throw new ContractViolation(expected, JSON.stringify(value), 'must not contain control characters');
      }
      return value;
    },
    format: same,
  };
}

/** A password: verbatim, because trimming would corrupt one that ends in a space; empty is a value. */
export const secret: Kind<string> = {
  shape: { type: 'secret' },
  expected: 'any text, verbatim (may be empty)',
  parse: same,
  format: same,
};

export const boolean: Kind<boolean> = {
  shape: { type: 'boolean' },
  expected: 'true or false',
  parse: (value) => {
    if (value !== 'true' && value !== 'false') throw new ContractViolation('true or false', `"${value}"`);
    return value === 'true';
  },
  format: (value) => String(value),
};

export const hostName: Kind<string> = {
  shape: { type: 'hostName' },
  expected: 'a host name or IP address',
  parse: (value) => {
    if (!/^[A-Za-z0-9.-]+$|^\[?[0-9A-Fa-f:]+\]?$/.test(value)) {
      throw new ContractViolation('a host name or IP address', `"${value}"`);
    }
    return value;
  },
  format: same,
};

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * An issuer is an https URL without query or fragment (OpenID Connect Discovery 1.0, section 2).
 * Plain http is accepted for a loopback host only, where tests run their own provider. Memos
 * store the issuer of their owner in a column `maxLength` characters wide.
 */
export function issuerUrl(maxLength: number): Kind<string> {
  return {
    shape: { type: 'issuerUrl', maxLength },
    expected: `an https URL (http only for localhost) without query, fragment or credentials, at most ${maxLength} characters`,
    parse: (value) => {
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        throw new ContractViolation('an https URL like https://login.example.com/realms/memo', `"${value}"`);
      }
      const loopback = LOOPBACK_HOSTS.has(url.hostname);
      if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
        throw new ContractViolation('an https URL (http only for localhost)', `"${value}"`);
      }
      if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
        throw new ContractViolation('a URL without query, fragment or credentials', `"${value}"`);
      }
      if (value.length > maxLength) {
        throw new ContractViolation(`at most ${maxLength} characters`, String(value.length));
      }
      return value;
    },
    format: same,
  };
}

/** The non-empty entries of a comma-separated setting, trimmed. */
function commaList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function list(
  entry: ListEntry,
  expected: string,
  atLeastOne: boolean,
  check: (item: string) => void,
): Kind<readonly string[]> {
  return {
    shape: { type: 'list', entry, atLeastOne },
    expected,
    parse: (value) => {
      const items = commaList(value);
      if (atLeastOne && items.length === 0) throw new ContractViolation(expected);
      items.forEach(check);
      return items;
    },
    format: (items) => items.join(','),
  };
}

export const hostPorts = list('hostPort', 'a comma-separated list of host:port', true, (item) => {
  const match = /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(item);
  if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) {
    throw new ContractViolation('host:port entries', `"${item}"`);
  }
});

export const origins = list(
  'origin',
  'comma-separated origins (scheme://host[:port], as browsers send them) or *',
  false,
  (item) => {
    if (item === '*') return;
    let url: URL;
    try {
      url = new URL(item);
    } catch {
      throw new ContractViolation('origins like https://example.com', `"${item}"`);
    }
    if (url.origin !== item) {
      throw new ContractViolation('a bare origin (scheme://host[:port])', `"${item}"`);
    }
  },
);

export const cidrs = list(
  'cidr',
  'comma-separated CIDR ranges (a bare address is its own /32 or /128)',
  false,
  (item) => {
    if (parseCidr(item) === undefined) {
      throw new ContractViolation('CIDR ranges like 10.0.0.0/8 or fd00::/8', `"${item}"`);
    }
  },
);
