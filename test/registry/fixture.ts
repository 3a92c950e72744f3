// Shared by the registry tests: a temp dir, one busybox test image, and small helpers.
import { createHash } from "node:crypto";
import { createWriteStream, rmSync } from "node:fs";
import { mkdtemp, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { makeTestImage, type TestImage } from "../helpers/test-image.js";
import type { TestRegistry } from "../helpers/registry.js";
import type { RegistryClientOptions, RegistryEvent } from "../../src/registry/index.js";

export async function tempDir(): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), "build-image-registry-test-"));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

let image: Promise<TestImage> | undefined;
/** The busybox image plus one small layer; made once per process, removed when it exits. */
export function busyboxImage(): Promise<TestImage> {
  image ??= mkdtemp(join(tmpdir(), "build-image-test-image-")).then((dir) => {
    process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
    return makeTestImage(dir, { layers: [{ "etc/hello": "hello from the test image\n" }] });
  });
  return image;
}

export async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export const sha256 = (data: Buffer): string => `sha256:${createHash("sha256").update(data).digest("hex")}`;

/** Writes a stream as a content store does: to a temp name, renamed into place only when it ended well. */
export async function storeBlob(stream: Readable, path: string): Promise<void> {
  const tmp = `${path}.partial`;
  try {
    await pipeline(stream, createWriteStream(tmp));
    await rename(tmp, path);
  } finally {
    await rm(tmp, { force: true });
  }
}

/** Client options that reach `registry` with its credentials and CA, with quick retries. */
export function clientOptions(registry: TestRegistry, events?: RegistryEvent[]): RegistryClientOptions {
  return {
    credentials: registry.username ? { [registry.host]: { username: registry.username, password: registry.password! } } : {},
    caFile: registry.caFile,
    env: {},
    retry: { retries: 2, minDelayMs: 20 },
    onEvent: events ? (e) => events.push(e) : undefined,
  };
}

export async function rejects(promise: Promise<unknown>): Promise<Error & { code?: string; hint?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error("expected the promise to reject");
}
