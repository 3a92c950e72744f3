// Minimal OCI images made by hand for registry tests (no src/layers): gzipped tars made with GNU tar,
// a config and a manifest; and OCI layouts of them for skopeo.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import type { Readable } from "node:stream";
import { join, dirname } from "node:path";
import { makeBusyboxRoot } from "./busybox.js";

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
export const OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";

export interface TestBlob {
  digest: string;
  size: number;
  mediaType: string;
  path: string;
  open: () => Readable;
}

export interface TestImage {
  manifest: { bytes: Buffer; mediaType: string; digest: string; size: number };
  config: TestBlob;
  layers: TestBlob[];
  /** Config and layers, ready for pushImage. */
  blobs: TestBlob[];
  architecture: string;
}

const sha256 = (data: Buffer): string => `sha256:${createHash("sha256").update(data).digest("hex")}`;

async function blobFile(dir: string, bytes: Buffer, mediaType: string): Promise<TestBlob> {
  const digest = sha256(bytes);
  const path = join(dir, "blobs", "sha256", digest.slice(7));
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, bytes);
  return { digest, size: bytes.length, mediaType, path, open: () => createReadStream(path) };
}

/** A deterministic tar of `root` (sorted, numeric owners, mtime 0) and its gzip (no name, no time). */
function tarGz(root: string): { tar: Buffer; gz: Buffer } {
  const tar = execFileSync("tar", ["--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0", "--format=pax", "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime", "-C", root, "-cf", "-", "."], { maxBuffer: 1 << 30 });
  const gz = execFileSync("gzip", ["-n", "-6"], { input: tar, maxBuffer: 1 << 30 });
  return { tar, gz };
}

/**
 * An image whose blobs live under `dir/blobs/sha256/` (so `dir` is half an OCI layout): a busybox root
 * layer unless `busybox` is false, then one layer per entry of `layers` (path → content).
 */
export async function makeTestImage(dir: string, options: { architecture?: string; busybox?: boolean; layers?: Record<string, string | Buffer>[] } = {}): Promise<TestImage> {
  const architecture = options.architecture ?? "amd64";
  const work = await mkdtemp(join(dir, ".work-"));
  try {
    const roots: string[] = [];
    if (options.busybox !== false) {
      const root = join(work, "busybox");
      await makeBusyboxRoot(root);
      roots.push(root);
    }
    for (const [i, files] of (options.layers ?? []).entries()) {
      const root = join(work, `layer${i}`);
      for (const [path, content] of Object.entries(files)) {
        await mkdir(dirname(join(root, path)), { recursive: true });
        await writeFile(join(root, path), content);
      }
      roots.push(root);
    }
    const layers: TestBlob[] = [];
    const diffIds: string[] = [];
    for (const root of roots) {
      const { tar, gz } = tarGz(root);
      diffIds.push(sha256(tar));
      layers.push(await blobFile(dir, gz, OCI_LAYER_GZIP));
    }
    const config = await blobFile(dir, Buffer.from(JSON.stringify({
      created: "1970-01-01T00:00:00Z",
      architecture,
      os: "linux",
      config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["/bin/sh"] },
      rootfs: { type: "layers", diff_ids: diffIds },
      history: diffIds.map(() => ({ created: "1970-01-01T00:00:00Z", created_by: "test-image" })),
    })), OCI_CONFIG);
    const descriptor = (b: TestBlob): object => ({ mediaType: b.mediaType, digest: b.digest, size: b.size });
    const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: descriptor(config), layers: layers.map(descriptor) }));
    await blobFile(dir, bytes, OCI_MANIFEST);
    return { manifest: { bytes, mediaType: OCI_MANIFEST, digest: sha256(bytes), size: bytes.length }, config, layers, blobs: [config, ...layers], architecture };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** An image index over `images` (each with its architecture), written to `dir`'s blobs. */
export async function makeTestIndex(dir: string, images: TestImage[]): Promise<{ bytes: Buffer; mediaType: string; digest: string; size: number }> {
  const bytes = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: images.map((img) => ({
      mediaType: img.manifest.mediaType, digest: img.manifest.digest, size: img.manifest.size,
      platform: { os: "linux", architecture: img.architecture, ...(img.architecture === "arm64" ? { variant: "v8" } : {}) },
    })),
  }));
  const blob = await blobFile(dir, bytes, OCI_INDEX);
  return { bytes, mediaType: OCI_INDEX, digest: blob.digest, size: blob.size };
}

/** Makes `dir` an OCI layout whose index.json names `top` (a manifest or index) as `tag`. */
export async function writeOciLayout(dir: string, top: { mediaType: string; digest: string; size: number }, tag: string): Promise<void> {
  await writeFile(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  await writeFile(join(dir, "index.json"), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: top.mediaType, digest: top.digest, size: top.size, annotations: { "org.opencontainers.image.ref.name": tag } }],
  }));
}

export async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, "utf8")) as T;
}
