// ADD's local archives: detected by content as Docker does (a known compression, or none, whose
// decompressed start is a valid tar header), then extracted into the destination directory,
// streamed entry by entry. Hardened like a chrooted untar: names are cleaned and may not climb
// out (`../`), parents and hardlink targets resolve inside the destination (symlinks included),
// an existing symlink at an entry's path is replaced, never written through.
import { spawn } from "node:child_process";
import { createReadStream, createWriteStream } from "node:fs";
import { chmod, lchown, link, lutimes, mkdir, open, symlink, utimes } from "node:fs/promises";
import { basename, join, posix } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { extract as tarExtract, type Extract } from "tar-stream";
import type { Owner } from "./copy.js";
import { clearTarget, ensureDirInRoot } from "./dest.js";
import { ContextError } from "./errors.js";
import { resolveInRoot } from "./in-root.js";

export type ArchiveFormat = "gzip" | "bzip2" | "xz" | "zstd" | "tar";

const MAGIC: [ArchiveFormat, number[]][] = [
  ["gzip", [0x1f, 0x8b, 0x08]],
  ["bzip2", [0x42, 0x5a, 0x68]],
  ["xz", [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ["zstd", [0x28, 0xb5, 0x2f, 0xfd]],
];

// External decompressors for what node:zlib lacks (Debian: bzip2, xz-utils, zstd).
const TOOLS: Partial<Record<ArchiveFormat, string>> = { bzip2: "bzip2", xz: "xz", zstd: "zstd" };

/** The archive format of the file at `path`, or undefined when ADD should copy it as a plain file. */
export async function detectArchive(path: string, signal?: AbortSignal): Promise<ArchiveFormat | undefined> {
  const head = await readHead(path, 8);
  const format = MAGIC.find(([, magic]) => magic.every((b, i) => head[i] === b))?.[0] ?? "tar";
  const stream = openDecompressed(path, format);
  try {
    const block = await readStart(stream.output, 512, signal);
    return isTarHeader(block) ? format : undefined;
  } catch {
    return undefined; // not decompressible: a plain file that happens to start like one
  } finally {
    stream.close();
  }
}

export interface ExtractOptions {
  /** Owner for every entry; without it the archive's uid/gid are kept, as Docker does. */
  chown?: Owner;
  signal?: AbortSignal;
}

/** Extracts the archive at `path` into `destAbs` (a host directory, already resolved inside the rootfs). */
export async function extractArchive(path: string, format: ArchiveFormat, destAbs: string, options: ExtractOptions = {}): Promise<void> {
  const stream = openDecompressed(path, format);
  const extract = tarExtract();
  // Settled into a value at once: it may fail while the loop below is still busy with an entry.
  const feeding = pipeline(stream.output, extract, { signal: options.signal }).then(
    () => undefined,
    (err: unknown) => err,
  );
  const dirTimes: { abs: string; mtime: Date }[] = [];
  try {
    for await (const entry of extract) {
      await extractEntry(entry, destAbs, options, dirTimes, path);
      entry.resume();
    }
    const failed = await feeding;
    if (failed) throw failed;
    await stream.done();
  } catch (err) {
    stream.close();
    await feeding;
    if (err instanceof ContextError || options.signal?.aborted) throw err;
    throw new ContextError("ADD_ARCHIVE_INVALID", `cannot extract ${basename(path)}: ${(err as Error).message}`, {
      hint: "Check that the archive is complete, or copy it unextracted with COPY.",
      cause: err,
    });
  }
  for (const { abs, mtime } of dirTimes.reverse()) await utimes(abs, mtime, mtime);
}

async function extractEntry(entry: TarEntry, destAbs: string, options: ExtractOptions, dirTimes: { abs: string; mtime: Date }[], archive: string): Promise<void> {
  const header = entry.header;
  const name = archivePath(header.name, archive);
  if (name === "") return; // the archive's "./" entry: the destination itself
  const parent = await ensureDirInRoot(destAbs, `/${posix.dirname(name)}`);
  const target = join(parent, posix.basename(name));
  const owner = options.chown ?? { uid: header.uid ?? 0, gid: header.gid ?? 0 };
  const mode = (header.mode ?? 0o644) & 0o7777;
  const mtime = header.mtime ?? new Date();
  switch (header.type) {
    case "directory": {
      const existing = await resolveInRoot(destAbs, `/${name}`);
      const kept = (await clearTarget(existing.abs, true)) === "dir";
      const abs = kept ? existing.abs : target;
      if (!kept) await mkdir(abs);
      await lchown(abs, owner.uid, owner.gid);
      await chmod(abs, mode);
      dirTimes.push({ abs, mtime });
      return;
    }
    case "file":
    case "contiguous-file":
    case undefined:
    case null:
      await clearTarget(target, false);
      await pipeline(entry, createWriteStream(target, { flags: "wx", mode: 0o600 }));
      await lchown(target, owner.uid, owner.gid);
      await chmod(target, mode);
      await utimes(target, mtime, mtime);
      return;
    case "symlink":
      await clearTarget(target, false);
      await symlink(header.linkname ?? "", target);
      await lchown(target, owner.uid, owner.gid);
      await lutimes(target, mtime, mtime);
      return;
    case "link": {
      const linked = await resolveInRoot(destAbs, `/${archivePath(header.linkname ?? "", archive)}`, { followFinal: false });
      await clearTarget(target, false);
      await link(linked.abs, target);
      return;
    }
    default:
      return; // devices and fifos: not created (no mknod without a native module)
  }
}

type TarEntry = Extract extends AsyncIterable<infer E> ? E : never;

/** An entry or hardlink name cleaned as Docker's untar does; one that climbs out with ".." is an error. */
function archivePath(raw: string, archive: string): string {
  const cleaned = posix.normalize(raw);
  if (!cleaned.startsWith("/") && (cleaned === ".." || cleaned.startsWith("../"))) {
    throw new ContextError("ADD_ARCHIVE_INVALID", `${basename(archive)}: ${JSON.stringify(raw)} points outside the destination`, {
      hint: "The archive is malformed or hostile; it is not extracted.",
    });
  }
  return posix.normalize(`/${cleaned}`).slice(1).replace(/\/$/, "");
}

interface Decompressed {
  output: Readable;
  /** Resolves when the decompressor finished cleanly; rejects with its error output otherwise. */
  done(): Promise<void>;
  close(): void;
}

function openDecompressed(path: string, format: ArchiveFormat): Decompressed {
  const file = createReadStream(path);
  if (format === "tar") return { output: file, done: async () => undefined, close: () => file.destroy() };
  if (format === "gzip") {
    const gunzip = createGunzip();
    // pipeline owns both streams' errors; a stream closed early (detection) must not throw later.
    const piping = pipeline(file, gunzip).then(
      () => undefined,
      (err: unknown) => err,
    );
    return {
      output: gunzip,
      done: async () => {
        const err = await piping;
        if (err) throw err;
      },
      close: () => gunzip.destroy(),
    };
  }
  const child = spawn(TOOLS[format]!, ["-dc"], { stdio: ["pipe", "pipe", "pipe"] });
  file.pipe(child.stdin);
  child.stdin.on("error", () => undefined); // the tool may stop reading early (detection)
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", resolve);
  });
  return {
    output: child.stdout,
    done: async () => {
      const code = await exited;
      if (code !== 0) throw new Error(`${TOOLS[format]} exited with ${code}: ${stderr.trim()}`);
    },
    close: () => {
      file.destroy();
      child.kill("SIGKILL");
    },
  };
}

async function readHead(path: string, size: number): Promise<Buffer> {
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.alloc(size);
    const { bytesRead } = await handle.read(buffer, 0, size, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function readStart(stream: Readable, size: number, signal?: AbortSignal): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of stream) {
    signal?.throwIfAborted();
    chunks.push(chunk as Buffer);
    length += (chunk as Buffer).length;
    if (length >= size) break;
  }
  return Buffer.concat(chunks).subarray(0, size);
}

/** A tar header block: not all zeros, and its checksum (unsigned or signed, as Go accepts) adds up. */
function isTarHeader(block: Buffer): boolean {
  if (block.length < 512 || block.every((b) => b === 0)) return false;
  const field = block.subarray(148, 156).toString("latin1").replace(/[\0 ]+$/, "").trim();
  if (!/^[0-7]+$/.test(field)) return false;
  const expected = parseInt(field, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < 512; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return expected === unsigned || expected === signed;
}
