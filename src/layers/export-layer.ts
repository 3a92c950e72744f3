/** A stored layer as a plain tar file on disk, for formats (`docker save`) that want uncompressed layers. */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { Duplex, PassThrough, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import type { Digest } from "./digest.js";
import { ImageError } from "./image-errors.js";
import { scratchPath, type ImageStore, type LayerDescriptor } from "./image-store.js";
import { layerCompressionOf, type LayerCompression } from "./media-types.js";
import { sniffFileCompression } from "./image-sniff.js";

export interface PlainLayerFile {
  path: string;
  dispose(): Promise<void>;
}

/**
 * The layer's uncompressed tar: the blob itself when it is a plain tar, else a decompressed copy in
 * the store's tmp/ whose sha256 is checked against `diffId` (removed by `dispose`).
 */
export async function decompressLayerToFile(store: ImageStore, layer: LayerDescriptor, diffId: Digest, signal?: AbortSignal): Promise<PlainLayerFile> {
  const compression = layerCompressionOf(layer.mediaType) ?? (await sniffFileCompression(store.content.path(layer.digest)));
  if (compression === "none") return { path: store.content.path(layer.digest), dispose: async () => undefined };
  const path = scratchPath(store, ".layer.tar");
  const hash = createHash("sha256");
  const hasher = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(store.content.open(layer.digest), decompressStream(compression), hasher, createWriteStream(path, { flags: "wx" }), { signal });
    const actual = `sha256:${hash.digest("hex")}`;
    if (actual !== diffId) {
      throw new ImageError("IMAGE_FORMAT_INVALID", `layer ${layer.digest} decompresses to ${actual}, but the config says ${diffId}`, {
        hint: "the image is corrupt; pull or build it again",
      });
    }
  } catch (err) {
    await rm(path, { force: true });
    throw err;
  }
  return { path, dispose: () => rm(path, { force: true }) };
}

/** A decompressing stream: gzip through zlib; zstd through the `zstd` tool (Node 20's zlib has none); none passes through. */
export function decompressStream(compression: LayerCompression): Duplex {
  if (compression === "none") return new PassThrough();
  if (compression === "gzip") return createGunzip();
  const child = spawn("zstd", ["-dcq"], { stdio: ["pipe", "pipe", "ignore"] });
  const duplex = Duplex.from({ writable: child.stdin, readable: child.stdout });
  child.on("error", (err) => duplex.destroy(err));
  child.on("close", (code) => {
    if (code !== 0) duplex.destroy(new ImageError("IMAGE_FORMAT_INVALID", `zstd could not decompress a layer (exit ${code})`, { hint: "the layer is corrupt; pull or build it again" }));
  });
  return duplex;
}
