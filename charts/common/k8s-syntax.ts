/**
 * The API server's name and value validators (k8s.io/apimachinery/pkg/util/validation) and the
 * CronJob controller's schedule parser, with their messages: each returns why a value would be
 * refused, or an empty list. The one place these rules live: the constructs' prop checks
 * (prop-checks.ts) and the manifest validator (validation/) both read them. Dependency-free on
 * purpose, so the validator loads neither cdk8s nor the generated Kubernetes types.
 */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const ENV_VAR_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

const tooLong = (max: number): string => `must be no more than ${max} characters`;

export function dns1123Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push(tooLong(63));
  if (!DNS1123_LABEL.test(value))
    errs.push(
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    );
  return errs;
}

export function dns1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 253) errs.push(tooLong(253));
  if (!DNS1123_SUBDOMAIN.test(value))
    errs.push(
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    );
  return errs;
}

export function dns1035Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push(tooLong(63));
  if (!DNS1035_LABEL.test(value))
    errs.push(
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    );
  return errs;
}

/** RBAC objects and a few others only need to be usable as a URL path segment. */
export function pathSegmentName(value: string): string[] {
  if (value === '.' || value === '..') return [`may not be '${value}'`];
  if (/[/%]/.test(value)) return [`may not contain '/' or '%'`];
  return [];
}

export function qualifiedName(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split('/');
  let name = value;
  if (parts.length === 2) {
    const [prefix] = parts;
    name = parts[1];
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else errs.push(...dns1123Subdomain(prefix).map((e) => `prefix part ${e}`));
  } else if (parts.length > 2) {
    return [
      "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push(`name part ${tooLong(63)}`);
  if (name.length > 0 && !QUALIFIED_NAME.test(name))
    errs.push(
      "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    );
  return errs;
}

export function labelValue(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push(tooLong(63));
  if (!LABEL_VALUE.test(value))
    errs.push(
      "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    );
  return errs;
}

/** IANA_SVC_NAME, what a container port name must be (RFC 6335). */
export function ianaServiceName(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 15) errs.push(tooLong(15));
  if (!/^[-a-z0-9]+$/.test(value))
    errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (value.includes('--')) errs.push('must not contain consecutive hyphens');
  if (!/[a-z]/.test(value)) errs.push('must contain at least one letter (a-z)');
  if (value.startsWith('-') || value.endsWith('-')) errs.push('must not begin or end with a hyphen');
  return errs;
}

export function envVarName(value: string): string[] {
  if (ENV_VAR_NAME.test(value)) return [];
  return [
    "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')",
  ];
}

export function configMapKey(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 253) errs.push(tooLong(253));
  if (!CONFIG_KEY.test(value))
    errs.push(
      "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
    );
  if (value === '.' || value === '..') errs.push(`must not be '${value}'`);
  return errs;
}

export function portInRange(value: number, min = 1): string[] {
  return Number.isInteger(value) && value >= min && value <= 65535
    ? []
    : [`must be between ${min} and 65535, inclusive`];
}

/** Quantity syntax as the API server parses it; returns the value in base units, or undefined when malformed. */
export const QUANTITY_PATTERN = '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$';

const SUFFIX: Record<string, number> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

export function parseQuantity(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return undefined;
  const m = /^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(?:([numkMGTPE]|[KMGTPE]i)|[eE]([-+]?[0-9]+))?$/.exec(
    value,
  );
  if (!m) return undefined;
  const base = Number(m[1]);
  if (m[3] !== undefined) return base * 10 ** Number(m[3]);
  return base * SUFFIX[m[2] ?? ''];
}

const CRON_FIELDS: ReadonlyArray<readonly [string, number, number, readonly string[]]> = [
  ['minute', 0, 59, []],
  ['hour', 0, 23, []],
  ['day of month', 1, 31, []],
  ['month', 1, 12, ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC']],
  ['day of week', 0, 6, ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT']],
];

/**
 * Why the CronJob controller's parser (robfig/cron, standard five fields or a descriptor) would
 * reject `schedule`, or an empty list. test/validation's rule tests and the constructs' props
 * tests each hold their own accepted and refused schedules, so a mistake here fails both.
 */
export function cronSchedule(schedule: string): string[] {
  if (/^\s*(CRON_)?TZ=/.test(schedule))
    return ['cannot use TZ or CRON_TZ in schedule, use timeZone field instead'];
  if (schedule.startsWith('@')) {
    return /^@(yearly|annually|monthly|weekly|daily|midnight|hourly|every \S+)$/.test(schedule)
      ? []
      : [`unrecognized descriptor: ${schedule}`];
  }
  const fields = schedule.trim().split(/\s+/);
  if (fields.length !== 5) return [`expected exactly 5 fields, found ${fields.length}: ${schedule}`];
  const errs: string[] = [];
  fields.forEach((field, i) => {
    const [name, min, max, names] = CRON_FIELDS[i];
    // Day of week 7 is Sunday too.
    const top = name === 'day of week' ? 7 : max;
    const value = (t: string): number =>
      names.includes(t.toUpperCase())
        ? names.indexOf(t.toUpperCase()) + min
        : /^\d+$/.test(t)
          ? Number(t)
          : NaN;
    for (const part of field.split(',')) {
      const m = /^(\*|\?|[^-/]+(?:-[^-/]+)?)(?:\/(\d+))?$/.exec(part);
      if (m === null) {
        errs.push(`${name} field: unparseable ${JSON.stringify(part)}`);
        continue;
      }
      if (m[2] !== undefined && Number(m[2]) === 0)
        errs.push(`${name} field: step of range should be a positive number: ${part}`);
      if (m[1] === '*' || m[1] === '?') continue;
      const bounds = m[1].split('-').map(value);
      if (bounds.some((b) => Number.isNaN(b))) errs.push(`${name} field: failed to parse int from ${m[1]}`);
      else if (bounds.some((b) => b < min || b > top))
        errs.push(`${name} field: ${m[1]} is outside ${min}-${top}`);
      else if (bounds.length === 2 && bounds[0] > bounds[1])
        errs.push(
          `${name} field: beginning of range (${bounds[0]}) beyond end of range (${bounds[1]}): ${m[1]}`,
        );
    }
  });
  return errs;
}
