/**
 * Local images: tags are `org.opencontainers.image.ref.name` annotations on the entries of the root's
 * `index.json`, one entry per tag, so the store root is itself a valid OCI image layout. Names are kept
 * in full (`docker.io/library/app:latest`). Every update runs under the index lock and replaces
 * index.json by rename, so readers never see half a file and concurrent writers lose nothing.
 */
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { canonicalJson } from "./canonical-json.js";
import { isDigest, type Digest } from "./digest.js";
import { parseJson } from "./image-config.js";
import { ImageError, imageNotFound } from "./image-errors.js";
import { platformOfConfig } from "./image-platform.js";
import { formatImageName, normalizeImageName, parseImageName, shortImageName, shortRepository } from "./image-name.js";
import { readImage, readManifestBlob, type ImageStore, type StoredImage } from "./image-store.js";
import { withIndexLock, type LockOptions } from "./local-images-lock.js";
import { OciIndexSchema, mediaTypeOf, type Descriptor, type OciIndex, type Platform } from "./manifest.js";
import { Annotation, MediaType } from "./media-types.js";
import { ownedName } from "./process-owner.js";

const OCI_LAYOUT = JSON.stringify({ imageLayoutVersion: "1.0.0" });

/** The root's index.json (an empty index when there is none yet). */
export async function readLocalIndex(root: string): Promise<OciIndex> {
  let text: string;
  try {
    text = await readFile(join(root, "index.json"), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] };
    throw err;
  }
  const result = OciIndexSchema.safeParse(parseJson(text, `${root}/index.json`));
  if (!result.success) {
    throw new ImageError("IMAGE_FORMAT_INVALID", `${root}/index.json is not a valid OCI index`, {
      hint: "restore it from a backup, or move it away and tag the images again",
    });
  }
  return result.data;
}

/** Runs `change` on index.json under the lock and writes the result atomically. */
export async function updateLocalIndex<T>(root: string, change: (index: OciIndex) => Promise<T> | T, options: LockOptions = {}): Promise<T> {
  return withIndexLock(
    root,
    async () => {
      const index = await readLocalIndex(root);
      const result = await change(index);
      await writeIndexFile(root, index);
      return result;
    },
    options,
  );
}

/** Writes index.json (and oci-layout) by tmp + rename. */
export async function writeIndexFile(dir: string, index: OciIndex, tmpDir = join(dir, "tmp")): Promise<void> {
  await mkdir(tmpDir, { recursive: true });
  const layoutTmp = join(tmpDir, ownedName(".oci-layout"));
  const indexTmp = join(tmpDir, ownedName(".index.json"));
  try {
    await writeFile(layoutTmp, OCI_LAYOUT);
    await rename(layoutTmp, join(dir, "oci-layout"));
    await writeFile(indexTmp, canonicalJson(index));
    await rename(indexTmp, join(dir, "index.json"));
  } finally {
    await rm(layoutTmp, { force: true });
    await rm(indexTmp, { force: true });
  }
}

function refNameOf(entry: Descriptor): string | undefined {
  return entry.annotations?.[Annotation.refName];
}

/**
 * Points `name` at a manifest or index already in the content store, replacing any previous target of
 * that name. Returns the full name.
 */
export async function tagImage(store: ImageStore, name: string, manifestDigest: Digest, options: LockOptions = {}): Promise<string> {
  const ref = parseImageName(name);
  if (ref.digest !== undefined) {
    throw new ImageError("IMAGE_NAME_INVALID", `cannot tag with '${name}': a tag names no digest`, { hint: "drop the @sha256:… part" });
  }
  const full = formatImageName(ref);
  const parsed = await readManifestBlob(store, manifestDigest);
  const descriptor: Descriptor = {
    mediaType: mediaTypeOf(parsed),
    digest: manifestDigest,
    size: await store.content.size(manifestDigest),
    annotations: { [Annotation.refName]: full },
  };
  if (parsed.kind === "manifest") {
    const image = await readImage(store, manifestDigest);
    descriptor.platform = platformOfConfig(image.config);
  }
  await updateLocalIndex(
    store.root,
    (index) => {
      // The name moves here; an untagged entry of the same image is no longer needed.
      index.manifests = index.manifests.filter((m) => refNameOf(m) !== full && !(refNameOf(m) === undefined && m.digest === manifestDigest));
      index.manifests.push(descriptor);
      index.manifests.sort((a, b) => (refNameOf(a) ?? "").localeCompare(refNameOf(b) ?? ""));
    },
    options,
  );
  return full;
}

/**
 * Keeps a manifest in the index without a name (as `docker load` keeps an untagged image), so `gc`
 * does not reclaim it. A no-op when an entry for it exists.
 */
export async function addUntaggedImage(store: ImageStore, manifestDigest: Digest, options: LockOptions = {}): Promise<void> {
  const parsed = await readManifestBlob(store, manifestDigest);
  const size = await store.content.size(manifestDigest);
  await updateLocalIndex(
    store.root,
    (index) => {
      if (!index.manifests.some((m) => m.digest === manifestDigest)) index.manifests.push({ mediaType: mediaTypeOf(parsed), digest: manifestDigest, size });
    },
    options,
  );
}

export interface ResolvedImage extends StoredImage {
  /** The full name it was found by, when found by name. */
  name?: string;
}

/**
 * Finds a local image by name (`app`, `app:1`, `127.0.0.1:5000/app@sha256:…`), by manifest digest, or by
 * a config or manifest digest prefix of at least 12 hex digits (as `docker images` shows IDs).
 * `undefined` when nothing matches; IMAGE_AMBIGUOUS when a prefix matches two images.
 */
export async function resolveLocalImage(store: ImageStore, nameOrDigest: string, options: { platform?: Platform } = {}): Promise<ResolvedImage | undefined> {
  const index = await readLocalIndex(store.root);
  const found = await findIndexEntries(store, index, nameOrDigest);
  if (found.entries.length > 0) {
    const entry = found.entries[0]!;
    const image = await readImage(store, entry.digest, options.platform, entry.mediaType);
    return found.name === undefined ? image : { ...image, name: found.name };
  }
  // A digest the store holds but no name points to (pulled by digest, or untagged by rmi before gc).
  const digest = /^sha256:[0-9a-f]{64}$/.test(nameOrDigest) ? nameOrDigest : nameOrDigest.includes("@") ? parseImageName(nameOrDigest).digest : undefined;
  if (digest === undefined || !isDigest(digest) || !(await isManifestBlob(store, digest))) return undefined;
  const image = await readImage(store, digest, options.platform);
  return digest === nameOrDigest ? image : { ...image, name: normalizeImageName(nameOrDigest) };
}

/** `resolveLocalImage`, throwing IMAGE_NOT_FOUND instead of returning undefined. */
export async function requireLocalImage(store: ImageStore, nameOrDigest: string, options: { platform?: Platform } = {}): Promise<ResolvedImage> {
  const image = await resolveLocalImage(store, nameOrDigest, options);
  if (!image) throw imageNotFound(nameOrDigest);
  return image;
}

async function isManifestBlob(store: ImageStore, digest: Digest): Promise<boolean> {
  return readManifestBlob(store, digest).then(() => true, () => false);
}

/**
 * The index entries a user's word names: a name (all entries of that full name), `name@digest` (entries
 * of that repository with that digest), or an ID (entries whose manifest or config digest starts with it).
 */
async function findIndexEntries(store: ImageStore, index: OciIndex, text: string): Promise<{ entries: Descriptor[]; name?: string }> {
  const idMatch = /^(?:sha256:)?([0-9a-f]{12,64})$/.exec(text);
  if (idMatch) {
    const hex = idMatch[1]!;
    const entries: Descriptor[] = [];
    for (const entry of index.manifests) {
      if (entry.digest.slice(7).startsWith(hex)) entries.push(entry);
      else {
        const image = await readImage(store, entry.digest, entry.platform, entry.mediaType).catch(() => undefined);
        if (image?.configDigest.slice(7).startsWith(hex)) entries.push(entry);
      }
    }
    const distinct = new Set(entries.map((e) => e.digest));
    if (distinct.size > 1) {
      throw new ImageError("IMAGE_AMBIGUOUS", `'${text}' matches ${distinct.size} images`, { hint: "give more digits of the ID" });
    }
    // 12 or more hex digits can also be a repository name: fall through to names when no ID matched.
    if (entries.length > 0 || text.startsWith("sha256:")) return { entries };
  }
  const ref = parseImageName(text);
  if (ref.digest !== undefined) {
    const repository = formatImageName({ ...ref, tag: undefined, digest: undefined });
    const entries = index.manifests.filter((m) => m.digest === ref.digest && refNameOf(m)?.startsWith(`${repository}:`));
    return { entries, name: formatImageName(ref) };
  }
  const name = formatImageName(ref);
  return { entries: index.manifests.filter((m) => refNameOf(m) === name), name };
}

export interface LocalImage {
  /** Full name (`docker.io/library/app:latest`); undefined for an untagged index entry. */
  name: string | undefined;
  /** As Docker shows it: `app:latest`. */
  shortName: string | undefined;
  repository: string | undefined;
  tag: string | undefined;
  manifestDigest: Digest;
  mediaType: string;
  /** The config digest (Docker's image ID), when the manifest is here and is not an index. */
  configDigest: Digest | undefined;
  created: string | undefined;
  platform: Platform | undefined;
  /** Config plus layer blobs, compressed, as stored. */
  size: number | undefined;
}

/** Every index entry, sorted by name. Entries whose blobs are missing are listed with what is known. */
export async function listImages(store: ImageStore): Promise<LocalImage[]> {
  const index = await readLocalIndex(store.root);
  const out: LocalImage[] = [];
  for (const entry of index.manifests) {
    const name = refNameOf(entry);
    const ref = name === undefined ? undefined : parseImageName(name);
    const image = await readImage(store, entry.digest, entry.platform, entry.mediaType).catch(() => undefined);
    out.push({
      name,
      shortName: name === undefined ? undefined : shortImageName(name),
      repository: ref === undefined ? undefined : shortRepository(ref),
      tag: ref?.tag,
      manifestDigest: entry.digest,
      mediaType: entry.mediaType,
      configDigest: image?.configDigest,
      created: image?.config.created,
      platform: image ? platformOfConfig(image.config) : entry.platform,
      size: image ? image.manifest.config.size + image.manifest.layers.reduce((n, l) => n + l.size, 0) : undefined,
    });
  }
  return out.sort((a, b) => (a.name ?? "").localeCompare(b.name ?? ""));
}

export interface RemovedImage {
  /** Full names that no longer exist. */
  untagged: string[];
  /** Manifest digests no name points to any more (their blobs stay until `gc`). */
  deleted: Digest[];
}

/**
 * Removes a name; by digest or ID, every name of that image. An image whose last name goes is gone from
 * the index (its blobs and snapshots are reclaimed by `gc`). Works when the image's blobs are missing.
 * Throws IMAGE_NOT_FOUND.
 */
export async function removeImage(store: ImageStore, nameOrDigest: string, options: LockOptions = {}): Promise<RemovedImage> {
  const removed = await updateLocalIndex(
    store.root,
    async (index) => {
      const { entries: gone } = await findIndexEntries(store, index, nameOrDigest);
      index.manifests = index.manifests.filter((m) => !gone.includes(m));
      const stillNamed = new Set(index.manifests.map((m) => m.digest));
      return {
        untagged: gone.map(refNameOf).filter((n): n is string => n !== undefined),
        deleted: [...new Set(gone.map((m) => m.digest))].filter((d) => !stillNamed.has(d)),
      };
    },
    options,
  );
  if (removed.untagged.length === 0 && removed.deleted.length === 0) {
    throw imageNotFound(nameOrDigest);
  }
  return removed;
}
