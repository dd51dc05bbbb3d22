import { BlockList, isIP } from 'node:net';

/*
 * Client addresses for the rate limiter: which hop of X-Forwarded-For to believe, and which
 * bucket an address falls in. Pure functions over strings, so every case is unit tested.
 */

export interface Cidr {
  readonly family: 'ipv4' | 'ipv6';
  readonly address: string;
  readonly prefix: number;
}

/** A socket peer such as ::ffff:10.1.2.3 is the IPv4 address 10.1.2.3. */
export function normalizeAddress(address: string): string | undefined {
  let value = address.trim();
  // X-Forwarded-For may carry "[2001:db8::1]" or, from some proxies, "[2001:db8::1]:443".
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(value);
  if (bracketed) value = bracketed[1];
  // An IPv4 address with a port ("203.0.113.7:51234"), as a few proxies write it.
  const withPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(value);
  if (withPort) value = withPort[1];
  const zone = value.indexOf('%');
  if (zone !== -1) value = value.slice(0, zone);
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(value);
  if (mapped) value = mapped[1];
  const family = isIP(value);
  if (family === 4) return value;
  if (family === 6) return value.toLowerCase();
  return undefined;
}

/** "10.0.0.0/8", "fd00::/8", or a bare address (its own /32 or /128); undefined when malformed. */
export function parseCidr(text: string): Cidr | undefined {
  const [addressPart, prefixPart, extra] = text.trim().split('/');
  if (extra !== undefined) return undefined;
  const address = normalizeAddress(addressPart);
  if (address === undefined) return undefined;
  const family = isIP(address) === 4 ? 'ipv4' : 'ipv6';
  const max = family === 'ipv4' ? 32 : 128;
  if (prefixPart === undefined) return { family, address, prefix: max };
  if (!/^\d{1,3}$/.test(prefixPart) || Number(prefixPart) > max) return undefined;
  return { family, address, prefix: Number(prefixPart) };
}

/** Membership test over the configured proxy ranges. */
export function proxyRanges(cidrs: readonly string[]): (address: string) => boolean {
  const list = new BlockList();
  for (const text of cidrs) {
    const cidr = parseCidr(text);
    if (cidr === undefined) throw new Error(`not a CIDR range: ${text}`);
    list.addSubnet(cidr.address, cidr.prefix, cidr.family);
  }
  return (address) => {
    const normal = normalizeAddress(address);
    if (normal === undefined) return false;
    return list.check(normal, isIP(normal) === 4 ? 'ipv4' : 'ipv6');
  };
}

/**
 * The client's address. Each proxy appends the peer it saw to X-Forwarded-For, so reading from
 * the right, every entry added by a trusted proxy is believed, and the first one that is not
 * itself a trusted proxy is the client: entries to its left were written by the client and
 * choose nothing. A peer outside the trusted ranges is the client whatever the header says.
 * A malformed entry ends the walk at the trusted hop that passed it on.
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string,
  trusted: (address: string) => boolean,
): string {
  let client = normalizeAddress(peer ?? '') ?? 'unknown';
  if (!trusted(client) || forwardedFor.trim() === '') return client;
  const hops = forwardedFor.split(',').reverse();
  for (const hop of hops) {
    const address = normalizeAddress(hop);
    if (address === undefined) return client;
    client = address;
    if (!trusted(address)) return client;
  }
  return client;
}

/** The eight 16-bit groups of an IPv6 address (valid by isIP), with an embedded IPv4 tail expanded. */
function ipv6Groups(address: string): number[] {
  let text = address;
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number);
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const parse = (part: string | undefined): number[] =>
    part === undefined || part === '' ? [] : part.split(':').map((g) => parseInt(g, 16));
  const left = parse(head);
  const right = parse(tail);
  const fill = tail === undefined ? [] : new Array<number>(8 - left.length - right.length).fill(0);
  return [...left, ...fill, ...right];
}

/**
 * The rate-limit bucket of an address: an IPv4 address alone; an IPv6 address by its /64, since
 * one subscriber usually holds a whole /64 and could otherwise take a fresh address per request.
 */
export function addressBucket(address: string): string {
  const normal = normalizeAddress(address);
  if (normal === undefined) return address;
  if (isIP(normal) === 4) return normal;
  const groups = ipv6Groups(normal).slice(0, 4);
  return `${groups.map((g) => g.toString(16)).join(':')}::/64`;
}
