// ADD <url>: the file is downloaded with fetch, streamed to a temp file while it is hashed
// (never held in memory), checked against --checksum, and never extracted. It lands with mode
// 0600 (unless --chmod) and the Last-Modified time (else the epoch), as BuildKit's http source.
import { createHash, type Hash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { chmod, copyFile, lchown, mkdtemp, rm, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, posix } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import type { Owner } from "./copy.js";
import { clearTarget, ensureDirInRoot, resolveDestination, type DestinationOptions } from "./dest.js";
import { ContextError } from "./errors.js";

export interface DownloadOptions {
  /** `--checksum=<algo>:<hex>` (sha256, sha384 or sha512). */
  checksum?: string;
  /** Where the temp file goes (the store's tmp/). Default: the OS temp dir. */
  tmpDir?: string;
  signal?: AbortSignal;
}

export interface Download {
  /** The URL with any user:password removed, for messages and cache keys. */
  url: string;
  /** Temp file holding the content; call `cleanup` when done. */
  path: string;
  /** `sha256:<hex>` of the content: the cache key input for ADD <url>. */
  digest: string;
  size: number;
  /** Last-Modified, else the Unix epoch (BuildKit's http source). */
  lastModified: Date;
  /** The response's ETag, for a cache that wants to revalidate. */
  etag: string | undefined;
  /** File name when the destination is a directory: Content-Disposition, else the URL path's last part, else "download". */
  filename: string;
  cleanup(): Promise<void>;
}

const CHECKSUM = /^(sha256|sha384|sha512):([0-9a-f]+)$/;
const HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

export function isUrlSource(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

export async function downloadUrl(url: string, options: DownloadOptions = {}): Promise<Download> {
  const expected = options.checksum === undefined ? undefined : parseChecksum(options.checksum);
  const parsed = new URL(url);
  const shown = redact(parsed);
  let response: Response;
  try {
    // fetch refuses URLs with credentials: send them as basic auth instead.
    const headers: Record<string, string> = {};
    if (parsed.username !== "" || parsed.password !== "") {
      const user = decodeURIComponent(parsed.username);
      headers.authorization = `Basic ${Buffer.from(`${user}:${decodeURIComponent(parsed.password)}`).toString("base64")}`;
    }
    response = await fetch(shown, { signal: options.signal, redirect: "follow", headers });
  } catch (err) {
    if (options.signal?.aborted) throw err;
    throw new ContextError("ADD_URL_FAILED", `cannot download ${shown}: ${(err as Error).message}`, {
      hint: "Check the URL and that the host is reachable from this machine.",
      cause: err,
    });
  }
  if (!response.ok || response.body === null) {
    await response.body?.cancel();
    throw new ContextError("ADD_URL_FAILED", `cannot download ${shown}: HTTP ${response.status} ${response.statusText}`, {
      hint: "Check the URL; the server did not return the file.",
    });
  }
  const dir = await mkdtemp(join(options.tmpDir ?? tmpdir(), "add-url-"));
  const path = join(dir, "download");
  const cleanup = () => rm(dir, { recursive: true, force: true });
  const sha256 = createHash("sha256");
  const verify = expected && expected.algorithm !== "sha256" ? createHash(expected.algorithm) : undefined;
  let size = 0;
  try {
    const body = Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>);
    await pipeline(body, hashing([sha256, ...(verify ? [verify] : [])], (n) => (size += n)), createWriteStream(path, { mode: 0o600 }), {
      signal: options.signal,
    });
  } catch (err) {
    await cleanup();
    if (options.signal?.aborted) throw err;
    throw new ContextError("ADD_URL_FAILED", `download of ${shown} failed: ${(err as Error).message}`, { hint: "Retry the build.", cause: err });
  }
  const hex = sha256.digest("hex");
  if (expected) {
    const actual = verify ? verify.digest("hex") : hex;
    if (actual !== expected.hex) {
      await cleanup();
      throw new ContextError("ADD_CHECKSUM_MISMATCH", `${shown}: checksum ${expected.algorithm}:${actual} does not match --checksum=${options.checksum}`, {
        hint: "The file at the URL changed or is not the one you expect; update --checksum only if you trust the new content.",
      });
    }
  }
  const modified = response.headers.get("last-modified");
  const lastModified = modified === null || Number.isNaN(Date.parse(modified)) ? new Date(0) : new Date(modified);
  const etag = response.headers.get("etag") ?? undefined;
  return { url: shown, path, digest: `sha256:${hex}`, size, lastModified, etag, filename: filenameOf(parsed, response.headers), cleanup };
}

export interface UrlCopyOptions extends DestinationOptions {
  chown?: Owner;
  chmod?: number;
}

/** Places a download at `dest` in the rootfs; returns the destination path inside the rootfs. */
export async function copyDownloadIntoRoot(download: Download, rootfs: string, dest: string, options: UrlCopyOptions = {}): Promise<string> {
  const destination = await resolveDestination(rootfs, dest, options);
  const path = destination.isDir ? posix.join(destination.path, download.filename) : destination.path;
  const parent = await ensureDirInRoot(rootfs, posix.dirname(path), options.chown);
  const target = join(parent, basename(path));
  await clearTarget(target, false);
  await copyFile(download.path, target);
  await lchown(target, options.chown?.uid ?? 0, options.chown?.gid ?? 0);
  await chmod(target, options.chmod ?? 0o600);
  await utimes(target, download.lastModified, download.lastModified);
  return path;
}

function parseChecksum(checksum: string): { algorithm: string; hex: string } {
  const match = CHECKSUM.exec(checksum);
  if (!match || match[2]!.length !== HEX_LENGTH[match[1]!]) {
    throw new ContextError("ADD_CHECKSUM_INVALID", `invalid --checksum ${JSON.stringify(checksum)}`, {
      hint: "Write --checksum=sha256:<64 lowercase hex digits> (sha384 and sha512 work too).",
    });
  }
  return { algorithm: match[1]!, hex: match[2]! };
}

function hashing(hashes: Hash[], count: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      for (const hash of hashes) hash.update(chunk);
      count(chunk.length);
      callback(null, chunk);
    },
  });
}

function filenameOf(url: URL, headers: Headers): string {
  const disposition = /filename\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(headers.get("content-disposition") ?? "");
  const named = disposition?.[1] ?? disposition?.[2] ?? "";
  if (named !== "" && !named.endsWith("/")) {
    const base = posix.basename(named);
    if (base !== "" && base !== "." && base !== "..") return base;
  }
  // Decoded before taking the last part, as Go's url.Path: "%2F" can never smuggle a "/" in.
  const fromPath = posix.basename(safeDecode(url.pathname));
  return fromPath === "" || fromPath === "." || fromPath === ".." ? "download" : fromPath;
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

function redact(url: URL): string {
  if (url.username === "" && url.password === "") return url.href;
  const copy = new URL(url.href);
  copy.username = "";
  copy.password = "";
  return copy.href;
}
