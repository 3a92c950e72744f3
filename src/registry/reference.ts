import { RegistryError } from "./errors.js";

/** An image reference, normalized the way Docker normalizes it (`alpine` → `docker.io/library/alpine:latest`). */
export interface ImageReference {
  /** `host[:port]` as the user wrote it, `docker.io` for Docker Hub. */
  registry: string;
  /** The path inside the registry, e.g. `library/alpine`. */
  repository: string;
  tag: string | undefined;
  digest: string | undefined;
  /** `registry/repository[:tag][@digest]`. */
  toString(): string;
}

export const DOCKER_HUB = "docker.io";

// The grammar of distribution/reference (reference/regexp.go).
const pathComponent = /^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$/;
const domainPattern = /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$/;
const tagPattern = /^[\w][\w.-]{0,127}$/;
const digestPattern = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const maxNameLength = 255;

function badReference(input: string, why: string): RegistryError {
  return new RegistryError("REGISTRY_BAD_REFERENCE", `invalid image reference "${input}": ${why}`, {
    hint: "write it as [registry[:port]/]repository[:tag][@sha256:<64 hex>], lower-case, e.g. 127.0.0.1:5000/app:1",
  });
}

export function makeReference(registry: string, repository: string, tag?: string, digest?: string): ImageReference {
  return {
    registry,
    repository,
    tag,
    digest,
    toString() {
      return `${registry}/${repository}${tag === undefined ? "" : `:${tag}`}${digest === undefined ? "" : `@${digest}`}`;
    },
  };
}

/** Parses a reference exactly as `docker pull` does; no tag and no digest means `:latest`. */
export function parseReference(input: string): ImageReference {
  if (input === "") throw badReference(input, "it is empty");
  if (/^[a-f0-9]{64}$/.test(input)) throw badReference(input, "a 64-character hexadecimal string is an image ID, not a name");

  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!digestPattern.test(digest)) throw badReference(input, `"${digest}" is not a digest`);
    const [algorithm, hex] = digest.split(":") as [string, string];
    if (algorithm === "sha256" && !/^[a-f0-9]{64}$/.test(hex)) throw badReference(input, "a sha256 digest has 64 lower-case hex digits");
    if (algorithm === "sha512" && !/^[a-f0-9]{128}$/.test(hex)) throw badReference(input, "a sha512 digest has 128 lower-case hex digits");
  }

  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!tagPattern.test(tag)) throw badReference(input, `"${tag}" is not a valid tag`);
  }

  let registry = DOCKER_HUB;
  let repository = rest;
  const slash = rest.indexOf("/");
  if (slash !== -1) {
    const first = rest.slice(0, slash);
    // As distribution's splitDockerDomain: the first part is a host only if it looks like one.
    if (/[.:]/.test(first) || first === "localhost" || first !== first.toLowerCase()) {
      registry = first;
      repository = rest.slice(slash + 1);
    }
  }
  if (!domainPattern.test(registry)) throw badReference(input, `"${registry}" is not a valid registry host`);
  if (registry === "index.docker.io") registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && !repository.includes("/")) repository = `library/${repository}`;

  if (repository === "") throw badReference(input, "the repository name is empty");
  if (repository !== repository.toLowerCase() && repository.split("/").every((part) => pathComponent.test(part.toLowerCase()))) {
    throw badReference(input, "repository names must be lower-case");
  }
  for (const part of repository.split("/")) {
    if (!pathComponent.test(part)) throw badReference(input, `"${part}" is not a valid repository path component`);
  }
  if (registry.length + 1 + repository.length > maxNameLength) throw badReference(input, `the name is longer than ${maxNameLength} characters`);
  if (tag === undefined && digest === undefined) tag = "latest";
  return makeReference(registry, repository, tag, digest);
}

/** The same repository with another tag (and no digest): for pushing one image under several tags. */
export function withTag(ref: ImageReference, tag: string): ImageReference {
  if (!tagPattern.test(tag)) throw badReference(tag, `"${tag}" is not a valid tag`);
  return makeReference(ref.registry, ref.repository, tag);
}
