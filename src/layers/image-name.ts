/**
 * Image names as Docker reads them (distribution's reference grammar): `app` means
 * `docker.io/library/app:latest`. Names are kept in full inside the store and shown short.
 */
import { ImageError } from "./image-errors.js";

export interface ImageReference {
  /** Registry host, with port when given: `docker.io`, `127.0.0.1:5000`. */
  domain: string;
  /** Repository path inside the registry: `library/app`, `team/app`. */
  path: string;
  tag: string | undefined;
  digest: string | undefined;
}

export const DEFAULT_DOMAIN = "docker.io";
export const DEFAULT_TAG = "latest";

const domainComponent = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const domainRe = new RegExp(`^(?:${domainComponent}(?:\\.${domainComponent})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?$`);
const pathComponentRe = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const tagRe = /^[\w][\w.-]{0,127}$/;
const digestRe = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-fA-F]{32,}$/;

/** Parses and normalises a name; a tagless, digestless name gets `:latest`. Throws IMAGE_NAME_INVALID. */
export function parseImageName(name: string): ImageReference {
  const bad = (why: string) =>
    new ImageError("IMAGE_NAME_INVALID", `invalid image name '${name}': ${why}`, {
      hint: "use [REGISTRY/]REPOSITORY[:TAG][@DIGEST] with a lower-case repository, e.g. app:1 or 127.0.0.1:5000/team/app",
    });
  let rest = name;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!digestRe.test(digest)) throw bad(`'${digest}' is not a digest`);
  }
  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(":");
  if (lastColon > rest.lastIndexOf("/")) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!tagRe.test(tag)) throw bad(`'${tag}' is not a valid tag`);
  }
  if (rest === "") throw bad("the repository is empty");
  const slash = rest.indexOf("/");
  const first = slash < 0 ? "" : rest.slice(0, slash);
  let domain = DEFAULT_DOMAIN;
  let path = rest;
  if (slash >= 0 && (first.includes(".") || first.includes(":") || first === "localhost" || first !== first.toLowerCase())) {
    domain = first;
    path = rest.slice(slash + 1);
    if (!domainRe.test(domain)) throw bad(`'${domain}' is not a valid registry host`);
  }
  if (domain === "index.docker.io" || domain === "registry-1.docker.io") domain = DEFAULT_DOMAIN;
  for (const component of path.split("/")) {
    if (!pathComponentRe.test(component)) {
      throw bad(component.toLowerCase() !== component ? "repository names must be lower case" : `'${component}' is not a valid path component`);
    }
  }
  if (domain === DEFAULT_DOMAIN && !path.includes("/")) path = `library/${path}`;
  if (`${domain}/${path}`.length > 255) throw bad("the name is longer than 255 characters");
  if (tag === undefined && digest === undefined) tag = DEFAULT_TAG;
  return { domain, path, tag, digest };
}

/** `docker.io/library/app:latest`, `127.0.0.1:5000/team/app@sha256:…`: the form kept in the store. */
export function formatImageName(ref: ImageReference): string {
  return `${ref.domain}/${ref.path}${ref.tag === undefined ? "" : `:${ref.tag}`}${ref.digest === undefined ? "" : `@${ref.digest}`}`;
}

/** Normalises a name to the full form: `app` → `docker.io/library/app:latest`. */
export function normalizeImageName(name: string): string {
  return formatImageName(parseImageName(name));
}

/** The repository as Docker shows it: `docker.io/library/app` → `app`, `docker.io/team/app` → `team/app`. */
export function shortRepository(ref: ImageReference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return `${ref.domain}/${ref.path}`;
  return ref.path.startsWith("library/") && ref.path.split("/").length === 2 ? ref.path.slice("library/".length) : ref.path;
}

/** The short form Docker shows: `docker.io/library/app:latest` → `app:latest`, `docker.io/team/app:1` → `team/app:1`. */
export function shortImageName(name: string): string {
  const ref = parseImageName(name);
  return `${shortRepository(ref)}${ref.tag === undefined ? "" : `:${ref.tag}`}${ref.digest === undefined ? "" : `@${ref.digest}`}`;
}
