/** Image references: the one shape every construct's `image` props are checked against. */

/** The tag of an image reference, for the `app.kubernetes.io/version` label. */
export function imageTag(image: string): string {
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const colon = lastSegment.indexOf(':');
  return colon === -1 ? 'latest' : lastSegment.slice(colon + 1).split('@')[0];
}

/**
 * An image reference as the container runtimes parse it (distribution/reference):
 * `[registry[:port]/]path[:tag][@algorithm:hex]`, the path in lower case.
 */
const IMAGE_REFERENCE = new RegExp(
  '^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?)/)?' +
    '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*' +
    '(?::([\\w][\\w.-]{0,127}))?' +
    '(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$',
);

/**
 * Throws unless the image is a valid reference pinned to a tag or digest (a moving `latest`
 * breaks reproducible rollouts); returns its tag, or the digest's first 12 hex digits when it has
 * none, for the `app.kubernetes.io/version` label.
 */
export function requirePinnedImage(
  owner: string,
  prop: string,
  image: string,
  example = 'mariadb:10.11.19',
): string {
  const match = typeof image === 'string' ? IMAGE_REFERENCE.exec(image) : null;
  if (match === null) {
    throw new Error(
      `${owner}: ${prop} must be an image reference like '${example}' (lowercase repository, optional registry, :tag and/or @digest), got '${image}'`,
    );
  }
  const [, tag, digest] = match;
  if (digest === undefined && (tag === undefined || tag === 'latest')) {
    throw new Error(
      `${owner}: ${prop} must be pinned to a tag or digest (e.g. '${example}'), not 'latest' or untagged, got '${image}'`,
    );
  }
  return tag ?? digest.slice(digest.indexOf(':') + 1, digest.indexOf(':') + 13);
}
