import {DockerOperatorError} from './errors.js';

/** The repository of the router image this package builds for itself. */
export const OWN_REPOSITORY = 'weave-net';

/** `weave-net:<package version>`: the router image that matches this CLI. */
export function defaultImage(version: string): string {
  return `${OWN_REPOSITORY}:${version}`;
}

/** An image reference split as Docker reads it: `[registry/]path[:tag][@digest]`. */
export interface ImageRef {
  /** Everything before the tag: `[registry/]path`. */
  repository: string;
  /** Explicit registry host (`registry.example.com:5000`, `localhost`); absent for Docker Hub. */
  registry?: string;
  /** The last path component, e.g. `weave-net` or `weave`. */
  name: string;
  tag: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

/** Parses WEAVE_IMAGE / --image, naming the rule it breaks. Digests are not taken: a tag names what gets built. */
export function parseImageRef(text: string): ImageRef {
  const bad = (why: string) => new DockerOperatorError(`invalid image "${text}": ${why}; expected [registry/]name[:tag], e.g. ${defaultImage('1.0.0')}`);
  if (text.includes('@')) throw bad('digests are not supported');
  const slash = text.indexOf('/');
  const first = slash < 0 ? '' : text.slice(0, slash);
  // Docker's rule: a first component with a dot or a port, or "localhost", is a registry host.
  const registry = first && (/[.:]/.test(first) || first === 'localhost') ? first : undefined;
  const rest = registry ? text.slice(slash + 1) : text;
  const colon = rest.lastIndexOf(':');
  const path = colon < 0 ? rest : rest.slice(0, colon);
  const tag = colon < 0 ? 'latest' : rest.slice(colon + 1);
  if (!/^[\w][\w.-]{0,127}$/.test(tag)) throw bad(`"${tag}" is not a valid tag`);
  const components = path.split('/');
  if (!components.every(c => COMPONENT.test(c))) throw bad('each name component is lower-case letters and digits, joined by ".", "_" or "-"');
  return {repository: registry ? `${registry}/${path}` : path, ...(registry ? {registry} : {}), name: components.at(-1)!, tag};
}

export function formatImageRef(ref: ImageRef): string {
  return `${ref.repository}:${ref.tag}`;
}

/** An image of ours (any registry, any tag): one we can build locally when it cannot be pulled. */
export function isOwnImage(ref: ImageRef): boolean {
  return ref.name === OWN_REPOSITORY;
}

/** `--image`, else WEAVE_IMAGE, else the image of this package's version. */
export function chooseImage(flag: string | undefined, env: Record<string, string | undefined>, version: string): ImageRef {
  return parseImageRef(flag || env.WEAVE_IMAGE || defaultImage(version));
}
