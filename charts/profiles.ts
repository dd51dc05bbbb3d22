import { requirePinnedImage } from './common/image';
import {
  requireDnsLabel,
  requireDnsSubdomain,
  requireHostname,
  requireNamespace,
  requireOneOf,
} from './common/prop-checks';
import type { MemoApiAutoscaling } from './api/memo-api';
import { ResourcePreset } from './resources';

/** How a profile's credentials arrive in the cluster. */
export enum SecretSource {
  /** A kustomize secretGenerator fed by a git-ignored file that synth creates once. */
  LOCAL_GENERATED = 'local-generated',
  /**
   * Secrets created outside dist/ (by an operator, ExternalSecret or SealedSecret); the
   * manifests only reference them by name.
   */
  EXISTING = 'existing',
}

/** The OpenID Connect issuer whose tokens the API accepts (MemoApi's oidc* props). */
export interface ProfileOidcSettings {
  /** The issuer URL, exactly as its tokens carry it in `iss` (MemoApi's `oidcIssuerUrl`). */
  readonly issuerUrl: string;
  /** The audience tokens must be issued for (MemoApi's `oidcAudience`). */
  readonly audience: string;
  /**
   * The role that may change and delete every memo (MemoApi's `oidcAdminRole`).
   * @default - nobody is an admin
   */
  readonly adminRole?: string;
  /**
   * Token claim with the caller's roles (MemoApi's `oidcRolesClaim`).
   * @default "groups"
   */
  readonly rolesClaim?: string;
  /**
   * Token claim tried first for the display name (MemoApi's `oidcNameClaim`).
   * @default "name"
   */
  readonly nameClaim?: string;
}

/** The memo service's share of a profile. */
export interface ProfileApiSettings {
  /** Fixed replica count (the HPA's when `autoscaling` is set). */
  readonly replicas: number;
  /** Requests and memory limit of the API container. */
  readonly resources: ResourcePreset;
  /**
   * Where the ingress controller's pods get their addresses: X-Forwarded-For is believed only
   * from peers inside these ranges (TRUSTED_PROXY_CIDRS). Only as safe as the API's
   * NetworkPolicy, which must admit nothing else in these ranges to the API port.
   */
  readonly trustedProxyCidrs: string[];
  /**
   * HorizontalPodAutoscaler bounds.
   * @default - a fixed replica count
   */
  readonly autoscaling?: MemoApiAutoscaling;
  /**
   * Sign-in: the OpenID Connect issuer whose tokens the API accepts.
   * @default - no issuer; then `allowAnonymousWrites` must be true
   */
  readonly oidc?: ProfileOidcSettings;
  /**
   * No sign-in: anyone who reaches the Ingress may write. Local clusters only; never with `oidc`.
   * @default false
   */
  readonly allowAnonymousWrites?: boolean;
}

/** MariaDB's share of a profile. */
export interface ProfileMariaDbSettings {
  /** 1 = a single primary; more adds asynchronous replicas (ordinal 0 is the primary). */
  readonly replicas: number;
  /** Requests and memory limit of the database container. */
  readonly resources: ResourcePreset;
  /** Size of each server's data volume, in GiB. */
  readonly storageGiB: number;
}

/** Redis' share of a profile: a cache without persistence (RedisCache's default), so no volume to size. */
export interface ProfileRedisSettings {
  /** Requests and memory limit of the Redis container. */
  readonly resources: ResourcePreset;
}

/** Kafka's share of a profile. */
export interface ProfileKafkaSettings {
  /** Number of nodes (odd: 1 or 3). */
  readonly replicas: number;
  /** Requests and memory limit of each Kafka container. */
  readonly resources: ResourcePreset;
  /** Size of each node's data volume, in GiB. */
  readonly storageGiB: number;
}

/** The monitoring stack's share of a profile. */
export interface ProfileMonitoringSettings {
  /** Requests and memory limit of Prometheus. */
  readonly prometheusResources: ResourcePreset;
  /** Size of the Prometheus TSDB volume, in GiB. */
  readonly prometheusStorageGiB: number;
  /** Requests and memory limit of Grafana. */
  readonly grafanaResources: ResourcePreset;
  /** Requests and memory limit of Alertmanager. */
  readonly alertmanagerResources: ResourcePreset;
}

/**
 * Deployment profiles as plain data: everything that differs between a kind laptop cluster,
 * a k3d one and a cloud cluster lives here, so the constructs never branch on a profile name.
 */
export interface Profile {
  /** Profile name; also the dist/ sub-folder. */
  readonly name: string;
  /** The namespace everything is deployed into. */
  readonly namespace: string;
  /**
   * StorageClass for every PVC.
   * @default - the cluster's default class
   */
  readonly storageClassName?: string;
  /** IngressClass of the API's Ingress. */
  readonly ingressClassName: string;
  /**
   * Namespace the ingress controller of `ingressClassName` runs in: the only namespace allowed
   * to open the API's HTTP port.
   */
  readonly ingressControllerNamespace: string;
  /**
   * Host name the Ingress answers for.
   * @default - any host
   */
  readonly ingressHost?: string;
  /**
   * cert-manager ClusterIssuer for the Ingress TLS certificate.
   * @default - plain HTTP
   */
  readonly tlsClusterIssuer?: string;
  /** Spread replicas across zones and hosts (topologySpreadConstraints + anti-affinity). */
  readonly spreadAcrossZones: boolean;
  /** How credentials arrive. */
  readonly secrets: SecretSource;
  /**
   * Emit ExternalSecret objects (external-secrets.io) pulling from this ClusterSecretStore.
   * @default - no ExternalSecrets
   */
  readonly externalSecretStore?: string;
  /**
   * The memo service image, pinned. Local clusters run an image loaded into them by name
   * (`kind load docker-image`, `k3d image import`); a cloud cluster pulls it, so its reference
   * must name the registry it was pushed to (a bare `memo-api` means Docker Hub, where none is).
   */
  readonly apiImage: string;
  /** The memo service's replicas, size, proxies, scaling and sign-in. */
  readonly api: ProfileApiSettings;
  /** MariaDB's replicas, size and storage. */
  readonly mariadb: ProfileMariaDbSettings;
  /** Redis' size. */
  readonly redis: ProfileRedisSettings;
  /** Kafka's nodes, size and storage. */
  readonly kafka: ProfileKafkaSettings;
  /** The monitoring stack's sizes and storage. */
  readonly monitoring: ProfileMonitoringSettings;
}

const localBase = {
  namespace: 'memo',
  apiImage: 'memo-api:0.1.0',
  spreadAcrossZones: false,
  secrets: SecretSource.LOCAL_GENERATED,
  // A laptop cluster, reachable from the laptop only: writes without sign-in (README, "Sign-in (cloud)").
  api: { replicas: 1, resources: ResourcePreset.SMALL, allowAnonymousWrites: true },
  mariadb: { replicas: 1, resources: ResourcePreset.SMALL, storageGiB: 2 },
  redis: { resources: ResourcePreset.MICRO },
  kafka: { replicas: 1, resources: ResourcePreset.MEDIUM, storageGiB: 2 },
  monitoring: {
    prometheusResources: ResourcePreset.SMALL,
    prometheusStorageGiB: 2,
    grafanaResources: ResourcePreset.SMALL,
    alertmanagerResources: ResourcePreset.MICRO,
  },
} as const;

export const KIND: Profile = {
  ...localBase,
  name: 'kind',
  storageClassName: 'standard',
  ingressClassName: 'nginx',
  // ingress-nginx's kind manifest (README, "Quick start: kind") installs it in its own namespace.
  ingressControllerNamespace: 'ingress-nginx',
  // kind's default pod subnet, where ingress-nginx's pods run.
  api: { ...localBase.api, trustedProxyCidrs: ['10.244.0.0/16'] },
};

export const K3D: Profile = {
  ...localBase,
  name: 'k3d',
  storageClassName: 'local-path',
  ingressClassName: 'traefik',
  // k3s deploys its bundled Traefik into kube-system.
  ingressControllerNamespace: 'kube-system',
  // k3s's default cluster CIDR, where Traefik's pods run.
  api: { ...localBase.api, trustedProxyCidrs: ['10.42.0.0/16'] },
};

/** The cloud profile's image until a real registry is named; main.ts warns while it is in use. */
export const CLOUD_API_IMAGE_PLACEHOLDER = 'registry.example.com/memostack/memo-api:0.1.0';

/**
 * The cloud profile's issuer until a real one is named (RFC 2606's example.com, which serves no
 * discovery document): deployed as is, every write is refused (503, no keys), never let through.
 * main.ts warns while it is in use; MEMO_OIDC_ISSUER_URL and MEMO_OIDC_AUDIENCE replace it.
 */
export const CLOUD_OIDC_ISSUER_PLACEHOLDER = 'https://login.example.com/realms/memostack';

export const CLOUD: Profile = {
  name: 'cloud',
  namespace: 'memo',
  ingressClassName: 'nginx',
  // The ingress-nginx Helm chart's and manifests' namespace; change it with the controller's.
  ingressControllerNamespace: 'ingress-nginx',
  ingressHost: 'memo.example.com',
  tlsClusterIssuer: 'letsencrypt-prod',
  spreadAcrossZones: true,
  secrets: SecretSource.EXISTING,
  // A placeholder on purpose (RFC 2606's example.com): synth says so until MEMO_API_IMAGE names
  // the registry the image was pushed to (README, "Build and push the API image").
  apiImage: CLOUD_API_IMAGE_PLACEHOLDER,
  api: {
    replicas: 3,
    resources: ResourcePreset.MEDIUM,
    // The private ranges a cloud cluster's pod network is carved from; narrow this to the
    // cluster's pod CIDR (README, "Client addresses behind the Ingress").
    trustedProxyCidrs: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
    autoscaling: { minReplicas: 3, maxReplicas: 10, cpuUtilizationPercent: 70, memoryUtilizationPercent: 80 },
    oidc: { issuerUrl: CLOUD_OIDC_ISSUER_PLACEHOLDER, audience: 'memo-api', adminRole: 'memo-admin' },
  },
  mariadb: { replicas: 2, resources: ResourcePreset.LARGE, storageGiB: 50 },
  redis: { resources: ResourcePreset.MEDIUM },
  kafka: { replicas: 3, resources: ResourcePreset.LARGE, storageGiB: 50 },
  monitoring: {
    prometheusResources: ResourcePreset.MEDIUM,
    prometheusStorageGiB: 20,
    grafanaResources: ResourcePreset.SMALL,
    alertmanagerResources: ResourcePreset.MICRO,
  },
};

/**
 * Throws, naming the profile, the field and the value, when a profile-wide field is malformed or
 * two fields contradict each other. The sizes and counts under `api`, `mariadb`, `redis`, `kafka`
 * and `monitoring` are checked by the construct that receives them (MemoStack passes them on).
 */
export function validateProfile(profile: Profile): void {
  const owner = `Profile '${profile.name}'`;
  // The name is a folder under dist/: a path such as '../x' would write outside it.
  requireDnsLabel(owner, 'name', profile.name);
  requireNamespace(owner, 'namespace', profile.namespace);
  if (profile.storageClassName !== undefined) {
    requireDnsSubdomain(owner, 'storageClassName', profile.storageClassName);
  }
  requireDnsSubdomain(owner, 'ingressClassName', profile.ingressClassName);
  requireNamespace(owner, 'ingressControllerNamespace', profile.ingressControllerNamespace);
  requirePinnedImage(owner, 'apiImage', profile.apiImage, 'memo-api:0.1.0');
  if (profile.ingressHost !== undefined) {
    requireHostname(owner, 'ingressHost', profile.ingressHost);
  }
  if (profile.tlsClusterIssuer !== undefined) {
    requireDnsSubdomain(owner, 'tlsClusterIssuer', profile.tlsClusterIssuer);
    if (profile.ingressHost === undefined) {
      throw new Error(
        `${owner}: tlsClusterIssuer '${profile.tlsClusterIssuer}' needs an ingressHost (a certificate names a host), got ingressHost undefined`,
      );
    }
  }
  if (typeof profile.spreadAcrossZones !== 'boolean') {
    throw new Error(
      `${owner}: spreadAcrossZones must be true or false, got ${String(profile.spreadAcrossZones)}`,
    );
  }
  requireOneOf(owner, 'secrets', profile.secrets, Object.values(SecretSource));
  if (profile.externalSecretStore !== undefined) {
    requireDnsSubdomain(owner, 'externalSecretStore', profile.externalSecretStore);
    // Both would create the same Secrets: kustomize's generator and the ExternalSecret's owner.
    if (profile.secrets !== SecretSource.EXISTING) {
      throw new Error(
        `${owner}: externalSecretStore '${profile.externalSecretStore}' needs secrets 'existing' (ExternalSecrets create the Secrets), got secrets '${profile.secrets}'`,
      );
    }
  }
}

/** Every profile main.ts synthesizes, in output order. */
export const PROFILES: readonly Profile[] = [KIND, K3D, CLOUD];

/**
 * The built-in profiles for every language: jsii publishes classes, not exported constants, so
 * Python, Java and Go reach `KIND` as `Profiles.KIND`. The same objects as the constants above.
 */
export class Profiles {
  /** A kind cluster: storage class `standard`, ingress-nginx, generated local secrets. */
  public static readonly KIND: Profile = KIND;
  /** A k3d cluster: storage class `local-path`, k3s's bundled Traefik, generated local secrets. */
  public static readonly K3D: Profile = K3D;
  /** A cloud cluster: replicated and spread across zones, TLS, sign-in, Secrets that exist in the cluster. */
  public static readonly CLOUD: Profile = CLOUD;
  /** Every built-in profile, in the order main.ts synthesizes them. */
  public static readonly ALL: Profile[] = [...PROFILES];

  private constructor() {}
}
