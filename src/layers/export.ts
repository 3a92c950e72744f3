/**
 * Exporting local images: an OCI image layout directory, the same as an OCI archive tar, and a
 * `docker save` tar (manifest.json + repositories + one uncompressed tar per layer) for `docker load`.
 * An image named by an index is exported as this platform's manifest (the one `resolveLocalImage` picks).
 */
import { constants } from "node:fs";
import { copyFile, mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { writeArchive } from "./image-archive-tar.js";
import { canonicalJson } from "./canonical-json.js";
import { digestHex, sha256Digest, type Digest } from "./digest.js";
import { ImageError } from "./image-errors.js";
import { platformOfConfig } from "./image-platform.js";
import { parseImageName, shortImageName, shortRepository } from "./image-name.js";
import type { ImageStore, StoredImage } from "./image-store.js";
import { decompressLayerToFile } from "./export-layer.js";
import { readLocalIndex, requireLocalImage, writeIndexFile } from "./local-images.js";
import { dockerToOciManifest, type Descriptor, type OciIndex } from "./manifest.js";
import { Annotation, MediaType } from "./media-types.js";
import { ownedName } from "./process-owner.js";

export interface ExportOptions {
  signal?: AbortSignal;
}

interface ExportItem {
  /** Full name when the image was named by name (without digest). */
  name: string | undefined;
  image: StoredImage;
}

/** An image as an OCI layout holds it: a Docker schema2 manifest is rewritten with OCI media types. */
interface OciExportItem extends ExportItem {
  /** The manifest's bytes when they are not the stored blob (a converted Docker manifest). */
  manifestBytes: Buffer | undefined;
  manifestSize: number;
}

async function resolveAll(store: ImageStore, images: string[]): Promise<ExportItem[]> {
  if (images.length === 0) throw new ImageError("IMAGE_NOT_FOUND", "no image to export was named", { hint: "name one or more local images" });
  const items: ExportItem[] = [];
  for (const text of images) {
    const image = await requireLocalImage(store, text);
    const name = image.name !== undefined && parseImageName(image.name).digest === undefined ? image.name : undefined;
    items.push({ name, image });
  }
  return items;
}

/**
 * umoci and other OCI tools refuse Docker media types, so a pulled Docker image is exported as the
 * equivalent OCI manifest (same config and layer bytes), built in memory: the store is not changed.
 */
async function asOci(store: ImageStore, item: ExportItem): Promise<OciExportItem> {
  if (item.image.manifest.mediaType !== MediaType.dockerManifest) {
    return { ...item, manifestBytes: undefined, manifestSize: await store.content.size(item.image.manifestDigest) };
  }
  const manifest = dockerToOciManifest(item.image.manifest);
  const manifestBytes = Buffer.from(canonicalJson(manifest));
  return { ...item, image: { ...item.image, manifest, manifestDigest: sha256Digest(manifestBytes) }, manifestBytes, manifestSize: manifestBytes.length };
}

async function resolveAllOci(store: ImageStore, images: string[]): Promise<OciExportItem[]> {
  return Promise.all((await resolveAll(store, images)).map((item) => asOci(store, item)));
}

/** What an OCI layout of the items holds, each blob once: manifests (maybe in memory), configs, layers. */
function layoutBlobs(items: OciExportItem[]): { digest: Digest; bytes: Buffer | undefined }[] {
  const out = new Map<Digest, Buffer | undefined>();
  for (const { image, manifestBytes } of items) {
    out.set(image.manifestDigest, manifestBytes);
    for (const digest of [image.configDigest, ...image.manifest.layers.map((l) => l.digest)]) if (!out.has(digest)) out.set(digest, undefined);
  }
  return [...out].map(([digest, bytes]) => ({ digest, bytes }));
}

/** The index.json entry of an exported image: ref.name is the tag, the full name in containerd's key. */
function layoutEntry(item: OciExportItem): Descriptor {
  const entry: Descriptor = {
    mediaType: item.image.manifest.mediaType ?? MediaType.ociManifest,
    digest: item.image.manifestDigest,
    size: item.manifestSize,
    platform: platformOfConfig(item.image.config),
  };
  if (item.name !== undefined) {
    entry.annotations = { [Annotation.containerdImageName]: item.name, [Annotation.refName]: parseImageName(item.name).tag ?? "latest" };
  }
  return entry;
}

/** Entries of `existing` that none of `added` replaces (same name, or same digest when unnamed). */
function mergeEntries(existing: Descriptor[], added: Descriptor[]): Descriptor[] {
  const key = (d: Descriptor) => d.annotations?.[Annotation.containerdImageName] ?? d.annotations?.[Annotation.refName] ?? d.digest;
  const replaced = new Set(added.map(key));
  const byKey = new Map<string, Descriptor>();
  for (const d of [...existing.filter((d) => !replaced.has(key(d))), ...added]) byKey.set(key(d), d);
  return [...byKey.values()];
}

/**
 * Writes the images into an OCI image layout at `dir` (made if missing; an existing layout keeps its
 * other images). Blobs are copied (reflinked where the filesystem can).
 */
export async function exportOciLayout(store: ImageStore, images: string[], dir: string, options: ExportOptions = {}): Promise<OciIndex> {
  const items = await resolveAllOci(store, images);
  const blobDir = join(dir, "blobs", "sha256");
  await mkdir(blobDir, { recursive: true });
  for (const { digest, bytes } of layoutBlobs(items)) {
    options.signal?.throwIfAborted();
    const target = join(blobDir, digestHex(digest));
    const size = bytes?.length ?? (await store.content.size(digest));
    if ((await stat(target).then((s) => s.size, () => -1)) === size) continue;
    const tmp = join(blobDir, `.${ownedName()}`);
    try {
      if (bytes) await writeFile(tmp, bytes);
      else await copyFile(store.content.path(digest), tmp, constants.COPYFILE_FICLONE);
      await rename(tmp, target);
    } finally {
      await rm(tmp, { force: true });
    }
  }
  // A damaged index.json there is an error, not something to overwrite.
  const existing = await readLocalIndex(dir);
  const index: OciIndex = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: mergeEntries(existing.manifests, items.map(layoutEntry)) };
  await writeIndexFile(dir, index, dir);
  return index;
}

/** Writes the images as an OCI archive: a tar of an OCI image layout (`skopeo … oci-archive:FILE`). */
export async function exportOciArchive(store: ImageStore, images: string[], file: string, options: ExportOptions = {}): Promise<OciIndex> {
  const items = await resolveAllOci(store, images);
  const index: OciIndex = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: mergeEntries([], items.map(layoutEntry)) };
  await writeArchive(
    file,
    async (archive) => {
      await archive.addBuffer("oci-layout", JSON.stringify({ imageLayoutVersion: "1.0.0" }));
      await archive.addBuffer("index.json", canonicalJson(index));
      for (const { digest, bytes } of layoutBlobs(items)) {
        options.signal?.throwIfAborted();
        const name = `blobs/sha256/${digestHex(digest)}`;
        await (bytes ? archive.addBuffer(name, bytes) : archive.addFile(name, store.content.path(digest)));
      }
    },
    options.signal,
  );
  return index;
}

/** One entry of a `docker save` manifest.json. */
export interface DockerArchiveManifestEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}

/**
 * Writes the images as `docker save` does: `<config hex>.json`, `<diff ID hex>/layer.tar` (uncompressed,
 * checked against the config's diff ID), `manifest.json` and `repositories`, for `docker load` and
 * `skopeo … docker-archive:FILE`.
 */
export async function exportDockerArchive(store: ImageStore, images: string[], file: string, options: ExportOptions = {}): Promise<DockerArchiveManifestEntry[]> {
  const items = await resolveAll(store, images);
  const manifestJson: DockerArchiveManifestEntry[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  await writeArchive(
    file,
    async (archive) => {
      const written = new Set<string>();
      const addOnce = async (name: string, add: () => Promise<void>) => {
        if (written.has(name)) return;
        written.add(name);
        await add();
      };
      for (const { name, image } of items) {
        const configName = `${digestHex(image.configDigest)}.json`;
        await addOnce(configName, () => archive.addFile(configName, store.content.path(image.configDigest)));
        const layerNames: string[] = [];
        for (const [i, layer] of image.manifest.layers.entries()) {
          const diffId = image.config.rootfs.diff_ids[i];
          if (diffId === undefined) {
            throw new ImageError("IMAGE_FORMAT_INVALID", `image ${image.manifestDigest} has more layers than diff IDs`, { hint: "rebuild the image" });
          }
          const layerName = `${digestHex(diffId)}/layer.tar`;
          layerNames.push(layerName);
          await addOnce(layerName, async () => {
            options.signal?.throwIfAborted();
            const plain = await decompressLayerToFile(store, layer, diffId, options.signal);
            try {
              await archive.addFile(layerName, plain.path);
            } finally {
              await plain.dispose();
            }
          });
        }
        const repoTags = name === undefined ? null : [shortImageName(name)];
        manifestJson.push({ Config: configName, RepoTags: repoTags, Layers: layerNames });
        if (name !== undefined && layerNames.length > 0) {
          const ref = parseImageName(name);
          (repositories[shortRepository(ref)] ??= {})[ref.tag ?? "latest"] = layerNames.at(-1)!.split("/")[0]!;
        }
      }
      await archive.addBuffer("manifest.json", JSON.stringify(manifestJson));
      await archive.addBuffer("repositories", JSON.stringify(repositories));
    },
    options.signal,
  );
  return manifestJson;
}
