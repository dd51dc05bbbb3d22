/** Sign-in: the OIDC props checked together, and the issuer egress they open in the NetworkPolicy. */
import { isIP } from 'net';

import type { CidrBlock } from '../connections';
import type { MemoApiProps } from './memo-api';

/**
 * The issuer egress when no CIDRs are given: the public internet, IPv4 and IPv6, without the
 * ranges a cluster's pods, nodes and services live in (RFC 1918, RFC 6598 shared space, link-local
 * with the cloud metadata endpoint, loopback, IPv6 unique-local), so the rule opens no path into
 * the cluster or the node network.
 */
export const PUBLIC_INTERNET: CidrBlock[] = [
  {
    cidr: '0.0.0.0/0',
    except: [
      '10.0.0.0/8',
      '172.16.0.0/12',
      '192.168.0.0/16',
      '100.64.0.0/10',
      '169.254.0.0/16',
      '127.0.0.0/8',
    ],
  },
  { cidr: '::/0', except: ['fc00::/7', 'fe80::/10', '::1/128'] },
];
/** An IPv4 or IPv6 address with a /prefix within its family's width, as a NetworkPolicy ipBlock takes it. */
export function isCidr(text: string): boolean {
  const [address, prefix, extra] = text.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined || prefix === undefined) return false;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/** What sign-in adds to the NetworkPolicy: egress to the issuer. */
export interface ValidatedAuth {
  readonly port: number;
  readonly egressCidrs?: readonly string[];
}

/**
 * The sign-in props: an issuer (and its audience), or an explicit opt-out; never both, never
 * neither. Their formats are the service's, checked with the other settings.
 */
export function validateAuth(props: MemoApiProps): ValidatedAuth | undefined {
  const issuer = props.oidcIssuerUrl;
  if (issuer === undefined) {
    const needsIssuer = (
      [
        ['oidcAudience', props.oidcAudience],
        ['oidcAdminRole', props.oidcAdminRole],
        ['oidcEgressCidrs', props.oidcEgressCidrs],
        ['authRequiredForReads', props.authRequiredForReads === true ? true : undefined],
      ] as const
    ).find(([, value]) => value !== undefined);
    if (needsIssuer !== undefined) {
      throw new Error(
        `MemoApi: ${needsIssuer[0]} is used only with an oidcIssuerUrl, got ${JSON.stringify(needsIssuer[1])}`,
      );
    }
    if (props.allowAnonymousWrites !== true) {
      throw new Error(
        `MemoApi: oidcIssuerUrl is required (or allowAnonymousWrites: true, which lets anyone who reaches the Ingress change every memo), got oidcIssuerUrl undefined and allowAnonymousWrites ${String(props.allowAnonymousWrites)}`,
      );
    }
    return undefined;
  }
  const url = new URL(issuer);
  if (props.allowAnonymousWrites === true) {
    throw new Error(
      `MemoApi: allowAnonymousWrites contradicts oidcIssuerUrl '${issuer}' (writes need a token then), got true`,
    );
  }
  if (props.oidcAudience === undefined) {
    throw new Error(
      `MemoApi: oidcAudience is required with oidcIssuerUrl (the client id or API identifier tokens are issued for), got undefined`,
    );
  }
  for (const cidr of props.oidcEgressCidrs ?? []) {
    if (!isCidr(cidr))
      throw new Error(
        `MemoApi: oidcEgressCidrs entries must be CIDRs like 10.20.0.0/16 or 2001:db8::/32, got '${cidr}'`,
      );
  }
  if (props.oidcEgressCidrs !== undefined && props.oidcEgressCidrs.length === 0) {
    throw new Error(
      'MemoApi: oidcEgressCidrs must list at least one CIDR (leave it out for the public internet), got []',
    );
  }
  const port = url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  return { port, egressCidrs: props.oidcEgressCidrs };
}
