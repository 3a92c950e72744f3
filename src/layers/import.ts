/**
 * Importing images from an OCI image layout (directory), an OCI archive tar, or a `docker save` tar
 * (or directory), plain or gzip-compressed. Every blob is verified against its digest on the way in; the
 * images are tagged with the names the archive gives (`io.containerd.image.name`, a full
 * `org.opencontainers.image.ref.name`, or Docker's `RepoTags`), and kept untagged when it gives none.
 */
import { createReadStream } from "node:fs";
import { readFile, realpath, stat } from "node:fs/promises";
import { isAbsolute, join, posix, relative } from "node:path";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { extract as tarExtract } from "tar-stream";
import { isBuildImageError } from "../errors.js";
import type { BlobInfo } from "./content-store.js";
import { digestHex, isDigest, type Digest } from "./digest.js";
import { parseImageConfig, parseJson } from "./image-config.js";
import { ImageError } from "./image-errors.js";
import { normalizeImageName } from "./image-name.js";
import { writeManifest, type ImageStore, type LayerDescriptor } from "./image-store.js";
import { addUntaggedImage, tagImage } from "./local-images.js";
import { OciIndexSchema, parseManifest, type Descriptor } from "./manifest.js";
import { Annotation, ociLayerMediaType } from "./media-types.js";
import { sniffFileCompression } from "./image-sniff.js";

export interface ImportOptions {
  signal?: AbortSignal;
}

export interface ImportedImage {
  /** Full names given to it; empty when the archive named it not. */
  names: string[];
  manifestDigest: Digest;
}

/** Where an archive's files come from: a directory, or a tar read once with its blobs staged in the store. */
interface ImportSource {
  /** A small file (JSON) by its path in the archive; undefined when absent. */
  read(path: string): Promise<Buffer | undefined>;
  /** A file put into the content store (checked against `expected`); undefined when absent. */
  blob(path: string, expected?: Digest): Promise<BlobInfo | undefined>;
}

export async function importArchive(store: ImageStore, fileOrDir: string, options: ImportOptions = {}): Promise<ImportedImage[]> {
  const info = await stat(fileOrDir).catch((err: NodeJS.ErrnoException) => {
    throw new ImageError("IMAGE_ARCHIVE_INVALID", `cannot read ${fileOrDir}: ${err.code ?? err.message}`, { hint: "give an existing file or directory", cause: err });
  });
  const source = info.isDirectory() ? directorySource(store, fileOrDir, options.signal) : await stageTar(store, fileOrDir, options.signal);
  if ((await source.read("index.json")) !== undefined) return importOci(store, source, fileOrDir, options);
  if ((await source.read("manifest.json")) !== undefined) return importDocker(store, source, fileOrDir, options);
  throw new ImageError("IMAGE_ARCHIVE_INVALID", `${fileOrDir} is neither an OCI image layout nor a docker save archive (no index.json or manifest.json)`, {
    hint: "give a directory or tar written by `build-image save`, `docker save`, `skopeo copy … oci:` or `oci-archive:`",
  });
}

function outside(path: string): ImageError {
  return new ImageError("IMAGE_ARCHIVE_INVALID", `the archive refers to '${path}', outside itself`, { hint: "the archive is malformed or hostile; do not load it" });
}

/** Archive paths come from the archive's own JSON and links: never let one climb out of it. */
function safeArchivePath(path: string): string {
  const clean = posix.normalize(path.replace(/^\.\//, ""));
  if (posix.isAbsolute(clean) || clean === ".." || clean.startsWith("../")) throw outside(path);
  return clean;
}

function directorySource(store: ImageStore, dir: string, signal?: AbortSignal): ImportSource {
  let realDir: Promise<string> | undefined;
  /** The file's real path, checked to be inside the directory even through symlinks (`layer.tar` → `/etc/shadow`). */
  const full = async (path: string): Promise<string | undefined> => {
    let real: string;
    try {
      real = await realpath(join(dir, safeArchivePath(path)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT" || (err as NodeJS.ErrnoException).code === "ENOTDIR") return undefined;
      throw err;
    }
    const rel = relative(await (realDir ??= realpath(dir)), real);
    if (rel.startsWith("..") || isAbsolute(rel)) throw outside(path);
    return real;
  };
  return {
    read: async (path) => {
      const file = await full(path);
      return file === undefined ? undefined : readFile(file);
    },
    blob: async (path, expected) => {
      const file = await full(path);
      if (file === undefined || !(await stat(file).then((s) => s.isFile(), () => false))) return undefined;
      if (expected !== undefined && (await store.content.has(expected))) return { digest: expected, size: await store.content.size(expected) };
      return store.content.write(createReadStream(file), { ...(expected ? { expected } : {}), ...(signal ? { signal } : {}) });
    },
  };
}

const SMALL_FILE = 8 * 1024 * 1024;
const metadataName = /(^|\/)(index\.json|oci-layout|manifest\.json|repositories|json|VERSION)$|\.json$/;

/**
 * Reads a tar once: `blobs/sha256/<hex>` entries stream into the content store verified by name, small
 * metadata files stay in memory, anything else (Docker's `<id>/layer.tar`) streams into the store too.
 */
async function stageTar(store: ImageStore, file: string, signal?: AbortSignal): Promise<ImportSource> {
  const small = new Map<string, Buffer>();
  const staged = new Map<string, BlobInfo>();
  /** Link entries, name → the archive path they point to (old `docker save` links repeated layers). */
  const links = new Map<string, string>();
  const extract = tarExtract();
  const feeding = (await sniffFileCompression(file)) === "gzip"
    ? pipeline(createReadStream(file), createGunzip(), extract, { signal })
    : pipeline(createReadStream(file), extract, { signal });
  try {
    for await (const entry of extract) {
      signal?.throwIfAborted();
      const name = entry.header.name.replace(/^(\.\/|\/)+/, "").replace(/\/$/, "");
      const type = entry.header.type ?? "file";
      if ((type === "symlink" || type === "link") && entry.header.linkname) {
        const target = type === "symlink" ? posix.join(posix.dirname(name), entry.header.linkname) : entry.header.linkname;
        links.set(name, target.replace(/^(\.\/)+/, ""));
      }
      if (type !== "file" && type !== "contiguous-file") {
        entry.resume();
        continue;
      }
      const blobName = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(name);
      if (!blobName && metadataName.test(name) && (entry.header.size ?? 0) <= SMALL_FILE) {
        const chunks: Buffer[] = [];
        for await (const chunk of entry) chunks.push(chunk as Buffer);
        small.set(name, Buffer.concat(chunks));
        continue;
      }
      const expected = blobName ? `sha256:${blobName[1]}` : undefined;
      staged.set(name, await store.content.write(entry as unknown as Readable, { ...(expected ? { expected } : {}), size: entry.header.size ?? 0, ...(signal ? { signal } : {}) }));
    }
    await feeding;
  } catch (err) {
    extract.destroy();
    await feeding.catch(() => undefined);
    if (isBuildImageError(err) || signal?.aborted) throw err;
    throw new ImageError("IMAGE_ARCHIVE_INVALID", `${file} is not a readable tar archive: ${(err as Error).message}`, { hint: "check that the file is complete", cause: err });
  }
  /** The archive path of the file `path` names, through at most 16 links, none leading outside. */
  const resolve = (path: string): string => {
    let key = safeArchivePath(path);
    for (let hops = 0; links.has(key); hops++) {
      if (hops === 16) throw new ImageError("IMAGE_ARCHIVE_INVALID", `too many links from '${path}' in the archive`, { hint: "the archive is malformed" });
      key = safeArchivePath(links.get(key)!);
    }
    return key;
  };
  return {
    read: async (path) => {
      const key = resolve(path);
      const info = staged.get(key);
      return small.get(key) ?? (info ? store.content.readBuffer(info.digest) : undefined);
    },
    blob: async (path, expected) => {
      const key = resolve(path);
      const data = small.get(key);
      const info = data ? await store.content.writeBuffer(data) : staged.get(key);
      if (info && expected !== undefined && info.digest !== expected) {
        throw new ImageError("IMAGE_ARCHIVE_INVALID", `${path} in the archive hashes to ${info.digest}, not ${expected}`, { hint: "the archive is damaged" });
      }
      return info;
    },
  };
}

function missing(what: string, where: string): ImageError {
  return new ImageError("IMAGE_ARCHIVE_INVALID", `${where} lacks ${what}`, { hint: "the archive is incomplete; export it again" });
}

/** The name an OCI layout entry gives, in full; a bare tag in ref.name names no repository. */
function nameOfEntry(entry: Descriptor): string | undefined {
  const full = entry.annotations?.[Annotation.containerdImageName];
  if (full) return normalizeImageName(full);
  const ref = entry.annotations?.[Annotation.refName];
  if (ref && /[/:]/.test(ref)) return normalizeImageName(ref);
  return undefined;
}

async function importOci(store: ImageStore, source: ImportSource, where: string, options: ImportOptions): Promise<ImportedImage[]> {
  const parsed = OciIndexSchema.safeParse(parseJson((await source.read("index.json"))!, `${where}/index.json`));
  if (!parsed.success) throw new ImageError("IMAGE_ARCHIVE_INVALID", `${where}/index.json is not an OCI image index`, { hint: "the layout is damaged" });
  const blob = async (digest: Digest) => source.blob(`blobs/sha256/${digestHex(digest)}`, digest);
  /** Copies a manifest or index and what it needs; index children absent from the layout are skipped. */
  const copy = async (descriptor: Descriptor, optional: boolean): Promise<boolean> => {
    options.signal?.throwIfAborted();
    if (!isDigest(descriptor.digest)) throw missing(`a sha256 blob for ${descriptor.digest}`, where);
    if (!(await blob(descriptor.digest))) {
      if (optional) return false;
      throw missing(`blob ${descriptor.digest}`, where);
    }
    const doc = parseManifest(await store.content.readBuffer(descriptor.digest), descriptor.mediaType, `manifest ${descriptor.digest}`);
    if (doc.kind === "index") {
      const copied = await Promise.all(doc.index.manifests.map((child) => copy(child, true)));
      if (!copied.some(Boolean)) throw missing(`every manifest of index ${descriptor.digest}`, where);
      return true;
    }
    for (const d of [doc.manifest.config, ...doc.manifest.layers]) {
      if (!(await blob(d.digest))) throw missing(`blob ${d.digest}`, where);
    }
    return true;
  };
  const imported = new Map<Digest, ImportedImage>();
  for (const entry of parsed.data.manifests) {
    await copy(entry, false);
    const item = imported.get(entry.digest) ?? { names: [], manifestDigest: entry.digest };
    imported.set(entry.digest, item);
    const name = nameOfEntry(entry);
    if (name !== undefined) item.names.push(await tagImage(store, name, entry.digest));
  }
  return keepUntagged(store, [...imported.values()]);
}

async function keepUntagged(store: ImageStore, images: ImportedImage[]): Promise<ImportedImage[]> {
  for (const image of images) if (image.names.length === 0) await addUntaggedImage(store, image.manifestDigest);
  return images;
}

interface DockerArchiveEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

async function importDocker(store: ImageStore, source: ImportSource, where: string, options: ImportOptions): Promise<ImportedImage[]> {
  const list = parseJson((await source.read("manifest.json"))!, `${where}/manifest.json`);
  const valid = Array.isArray(list) && list.every((e) => typeof e?.Config === "string" && Array.isArray(e?.Layers) && e.Layers.every((l: unknown) => typeof l === "string"));
  if (!valid) throw new ImageError("IMAGE_ARCHIVE_INVALID", `${where}/manifest.json is not a docker save manifest`, { hint: "the archive is damaged" });
  const imported: ImportedImage[] = [];
  for (const entry of list as DockerArchiveEntry[]) {
    options.signal?.throwIfAborted();
    const configBytes = await source.read(entry.Config);
    if (!configBytes) throw missing(entry.Config, where);
    const config = parseImageConfig(configBytes, `${where}/${entry.Config}`);
    if (config.rootfs.diff_ids.length !== entry.Layers.length) {
      throw new ImageError("IMAGE_ARCHIVE_INVALID", `${entry.Config} lists ${config.rootfs.diff_ids.length} diff IDs for ${entry.Layers.length} layers`, { hint: "the archive is damaged" });
    }
    const configBlob = await store.content.writeBuffer(configBytes);
    const layers: LayerDescriptor[] = [];
    for (const [i, path] of entry.Layers.entries()) {
      const info = await source.blob(path);
      if (!info) throw missing(path, where);
      const compression = await sniffFileCompression(store.content.path(info.digest));
      if (compression === "none" && info.digest !== config.rootfs.diff_ids[i]) {
        throw new ImageError("IMAGE_ARCHIVE_INVALID", `layer ${path} hashes to ${info.digest}, but the config says ${config.rootfs.diff_ids[i]}`, { hint: "the archive is damaged" });
      }
      layers.push({ digest: info.digest, size: info.size, mediaType: ociLayerMediaType(compression) });
    }
    const written = await writeManifest(store, configBlob, layers);
    const names: string[] = [];
    for (const tag of entry.RepoTags ?? []) names.push(await tagImage(store, tag, written.manifestDigest));
    imported.push({ names, manifestDigest: written.manifestDigest });
  }
  return keepUntagged(store, imported);
}
