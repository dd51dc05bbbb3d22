/**
 * Security contexts that pass the Pod Security Standards "restricted" profile.
 * https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
 */

/** The user and group an image really runs as; runAsNonRoot alone fails for images whose USER is a name. */
export interface ImageUser {
  readonly uid: number;
  readonly gid: number;
}

export function restrictedPodSecurityContext(user: ImageUser): {
  runAsNonRoot: boolean;
  runAsUser: number;
  runAsGroup: number;
  fsGroup: number;
  fsGroupChangePolicy: string;
  seccompProfile: { type: string };
} {
  if (user.uid === 0) {
    throw new Error('restrictedPodSecurityContext: uid 0 (root) cannot pass Pod Security restricted');
  }
  return {
    runAsNonRoot: true,
    runAsUser: user.uid,
    runAsGroup: user.gid,
    // fsGroup makes freshly provisioned volumes writable by the image's user.
    fsGroup: user.gid,
    // Skip the recursive chown on every start when ownership is already right (large PVCs).
    fsGroupChangePolicy: 'OnRootMismatch',
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

export function restrictedContainerSecurityContext(options: { readonly readOnlyRootFilesystem: boolean }): {
  allowPrivilegeEscalation: boolean;
  readOnlyRootFilesystem: boolean;
  runAsNonRoot: boolean;
  capabilities: { drop: string[] };
  seccompProfile: { type: string };
} {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: options.readOnlyRootFilesystem,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}
