/**
 * `docker import`: a one-layer image from a root filesystem, given as a directory or a tar (plain,
 * gzip or zstd). A directory is packed as layers are (sorted, numeric owners, PAX xattrs, hardlinks);
 * a tar is kept entry for entry, as Docker does, and only recompressed.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { basename } from "node:path";
import { PassThrough, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { compressLayer } from "./compress.js";
import { diffToTar } from "./diff-tar.js";
import { decompressStream } from "./export-layer.js";
import type { ContainerConfig, ImageConfig } from "./image-config.js";
import { ImageError } from "./image-errors.js";
import { hostPlatform } from "./image-platform.js";
import { sniffFileCompression } from "./image-sniff.js";
import { writeImage, type ImageStore, type WrittenImage } from "./image-store.js";
import { addUntaggedImage, tagImage } from "./local-images.js";
import type { Platform } from "./manifest.js";
import { MediaType } from "./media-types.js";

export interface ImportRootfsOptions {
  /** Container config for the image (Cmd, Env, …), as `docker import --change` sets it. */
  config?: ContainerConfig;
  /** Default: this host's. */
  platform?: Platform;
  /** History comment; default "Imported from <name>". */
  message?: string;
  /** Seconds since the epoch for `created` and the clamp of file times; default SOURCE_DATE_EPOCH, else now. */
  sourceDateEpoch?: number;
  signal?: AbortSignal;
}

export interface ImportedRootfs extends WrittenImage {
  /** The full name it was tagged with; undefined when no tag was given. */
  name: string | undefined;
  diffId: string;
}

export async function importRootfs(store: ImageStore, dirOrTar: string, tag: string | undefined, options: ImportRootfsOptions = {}): Promise<ImportedRootfs> {
  const info = await stat(dirOrTar).catch((err: NodeJS.ErrnoException) => {
    throw new ImageError("IMAGE_ARCHIVE_INVALID", `cannot read ${dirOrTar}: ${err.code ?? err.message}`, { hint: "give a root filesystem directory or a tar of one", cause: err });
  });
  const envEpoch = process.env.SOURCE_DATE_EPOCH ? Number(process.env.SOURCE_DATE_EPOCH) : undefined;
  const epoch = options.sourceDateEpoch ?? (Number.isFinite(envEpoch) ? envEpoch : undefined);
  let tar: Readable;
  if (info.isDirectory()) tar = diffToTar(dirOrTar, { ...(epoch !== undefined ? { sourceDateEpoch: epoch } : {}), ...(options.signal ? { signal: options.signal } : {}) });
  else {
    const plain = decompressStream(await sniffFileCompression(dirOrTar));
    pipeline(createReadStream(dirOrTar), plain).catch((err) => plain.destroy(err));
    tar = plain;
  }
  const gzip = new PassThrough();
  const [layer, blob] = await Promise.all([
    compressLayer(tar, gzip, options.signal ? { signal: options.signal } : {}),
    store.content.write(gzip, options.signal ? { signal: options.signal } : {}),
  ]);
  const created = new Date(epoch !== undefined ? epoch * 1000 : Date.now()).toISOString().replace(/\.\d{3}Z$/, "Z");
  const { os, architecture, variant } = options.platform ?? hostPlatform();
  const config: ImageConfig = {
    created,
    architecture,
    os,
    ...(variant ? { variant } : {}),
    ...(options.config ? { config: options.config } : {}),
    rootfs: { type: "layers", diff_ids: [layer.diffId] },
    history: [{ created, created_by: "build-image import", comment: options.message ?? `Imported from ${basename(dirOrTar)}` }],
  };
  const written = await writeImage(store, { config, layers: [{ digest: blob.digest, size: blob.size, mediaType: MediaType.ociLayerGzip }] });
  const name = tag === undefined ? undefined : await tagImage(store, tag, written.manifestDigest);
  if (name === undefined) await addUntaggedImage(store, written.manifestDigest);
  return { ...written, name, diffId: layer.diffId };
}
