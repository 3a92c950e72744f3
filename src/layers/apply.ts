import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync, constants, fchmodSync, fchownSync, futimesSync, linkSync, lchownSync, lstatSync, lutimesSync,
  mkdirSync, chmodSync, openSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeSync, type Stats,
} from "node:fs";
import { writeFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { entryPathParts, hardlinkTargetMissing, hardlinkTargetParts, throughSymlink } from "./apply-errors.js";
import { OPAQUE_MARKER, WHITEOUT_PREFIX } from "./diff-changes.js";
import { layerCompressionOf } from "./media-types.js";
import { ownedName } from "./process-owner.js";
import { StoreError } from "./store-errors.js";
import { readTar, type TarEntry } from "./tar-reader.js";
import { isLayerXattr, writeTreeXattrs } from "./xattrs.js";

/**
 * How the unpacked layer is laid out:
 * - "upper": `target` is a fresh, empty overlay upper dir; `.wh.<name>` becomes a 0/0 char device and
 *   `.wh..wh..opq` the `trusted.overlay.opaque=y` xattr (the overlay snapshotter).
 * - "full": `target` already holds the parent's whole tree; whiteouts delete from it (the copy snapshotter).
 */
export type LayerForm = "upper" | "full";

export interface UnpackOptions {
  mediaType: string;
  form: LayerForm;
  /** Where helper files may go (the store's tmp/). */
  tmpDir: string;
  /**
   * Upper form only: the parent chain's layer dirs, top first. A directory the tar leaves out but
   * needs (a parent of an entry) then gets the mode, owner and time it has below, not 0755 root.
   */
  lowerDirs?: string[];
  signal?: AbortSignal;
}

/** Decompresses and unpacks a layer blob into `target`; returns the diff ID (sha256 of the tar). */
export async function unpackLayer(target: string, blob: Readable, opts: UnpackOptions): Promise<{ diffId: string; entries: number }> {
  const compression = layerCompressionOf(opts.mediaType);
  if (compression === undefined) {
    blob.destroy();
    throw new StoreError("LAYER_MEDIA_TYPE_UNKNOWN", `"${opts.mediaType}" is not a layer media type`, {
      hint: "Layers are tar, tar+gzip or tar+zstd (OCI or Docker media types).",
    });
  }
  const hash = createHash("sha256");
  const tar = decompress(blob, compression);
  async function* hashed() {
    for await (const chunk of tar) {
      hash.update(chunk as Buffer);
      yield chunk as Buffer;
    }
  }
  try {
    const entries = await applyTar(target, hashed(), opts);
    return { diffId: `sha256:${hash.digest("hex")}`, entries };
  } finally {
    tar.destroy();
    blob.destroy();
  }
}

function decompress(blob: Readable, compression: "none" | "gzip" | "zstd"): Readable {
  if (compression === "none") return blob;
  if (compression === "gzip") return forwardErrors(blob, blob.pipe(createGunzip({ chunkSize: 256 * 1024 })));
  const child = spawn("zstd", ["-dc", "-q"], { stdio: ["pipe", "pipe", "inherit"] });
  blob.pipe(child.stdin);
  child.stdin.on("error", () => undefined);
  child.on("exit", (code) => {
    if (code) child.stdout.destroy(new StoreError("LAYER_TAR_INVALID", `zstd could not decompress the layer (exit ${code})`));
  });
  return forwardErrors(blob, child.stdout);
}

function forwardErrors(from: Readable, to: Readable): Readable {
  from.on("error", (err) => to.destroy(err));
  return to;
}

interface PendingNode {
  type: "c" | "b" | "p";
  major: number;
  minor: number;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
}

/** Unpacks a plain tar stream into `target`, hardened against every path escape; returns the entry count. */
export async function applyTar(
  target: string,
  tar: AsyncIterable<Buffer>,
  opts: { form: LayerForm; tmpDir: string; lowerDirs?: string[]; signal?: AbortSignal },
): Promise<number> {
  const state = new ApplyState(target, opts.form, opts.lowerDirs ?? []);
  let count = 0;
  for await (const { entry, body } of readTar(tar)) {
    opts.signal?.throwIfAborted();
    count++;
    await state.apply(entry, body);
  }
  await state.finish(opts.tmpDir);
  return count;
}

const key = (parts: string[]) => parts.join("/");

/** The bookkeeping of one unpack. Paths are keys "a/b/c" relative to the target. */
class ApplyState {
  /** Directories verified (or made) as real directories during this unpack. */
  private readonly knownDirs = new Set<string>();
  /** Everything this layer itself created: whiteouts and opaque markers never remove these. */
  private readonly created = new Set<string>();
  /** Regular files this layer created: the only valid hardlink targets. */
  private readonly createdFiles = new Set<string>();
  /** Devices, fifos and whiteouts to make at the end, in one mknod batch (Node has no mknod). */
  private readonly nodes = new Map<string, PendingNode>();
  private readonly xattrs = new Map<string, Map<string, Buffer>>();
  private readonly dirTimes = new Map<string, number>();

  constructor(
    private readonly root: string,
    private readonly form: LayerForm,
    private readonly lowerDirs: string[],
  ) {}

  /**
   * The directory at `parts` as the lower layers show it, if they do: the first layer (top first) that has
   * the path decides; a whiteout or non-directory on the way hides it. Opaque markers are not read: at
   * worst a hidden directory lends its metadata.
   */
  private lowerDir(parts: string[]): Stats | undefined {
    for (const lower of this.lowerDirs) {
      for (let i = 1; i <= parts.length; i++) {
        let st: Stats | undefined;
        try {
          st = lstatSync(join(lower, ...parts.slice(0, i)));
        } catch {
          break; // not in this layer: look further down
        }
        if (!st.isDirectory()) return undefined;
        if (i === parts.length) return st;
      }
    }
    return undefined;
  }

  private abs(k: string): string {
    return k === "" ? this.root : join(this.root, k);
  }

  private lstat(k: string): Stats | undefined {
    try {
      return lstatSync(this.abs(k));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }

  /** Drops every record at or below `k`: it is about to be replaced, so nothing may be trusted there. */
  private forget(k: string): void {
    const below = `${k}/`;
    for (const set of [this.knownDirs, this.created, this.createdFiles]) {
      for (const item of set) if (item === k || item.startsWith(below)) set.delete(item);
    }
    for (const map of [this.nodes, this.xattrs, this.dirTimes] as Map<string, unknown>[]) {
      for (const item of map.keys()) if (item === k || item.startsWith(below)) map.delete(item);
    }
  }

  /** Removes whatever is at `k` (a whole tree for a directory; a symlink itself, never its target). */
  private remove(k: string): void {
    if (this.knownDirs.has(k) || this.created.has(k) || this.nodes.has(k)) this.forget(k);
    rmSync(this.abs(k), { recursive: true, force: true });
  }

  private readLink = (parts: string[]): string | undefined => {
    const st = this.lstat(key(parts));
    return st?.isSymbolicLink() ? readlinkSync(this.abs(key(parts))) : undefined;
  };

  /** Makes sure every parent of `parts` is a real directory inside the root; refuses our own symlinks. */
  private ensureParents(raw: string, parts: string[]): void {
    for (let i = 1; i < parts.length; i++) {
      const k = key(parts.slice(0, i));
      if (this.knownDirs.has(k)) continue;
      const st = this.lstat(k);
      if (st?.isDirectory()) {
        this.knownDirs.add(k);
        continue;
      }
      if (st?.isSymbolicLink() && (this.form === "upper" || this.created.has(k))) {
        throw throughSymlink(raw, k, readlinkSync(this.abs(k)), this.readLink);
      }
      // Missing, or a non-directory of a lower layer: as in overlayfs, the directory replaces it.
      if (st) this.remove(k);
      this.nodes.delete(k);
      mkdirSync(this.abs(k));
      const below = this.form === "upper" ? this.lowerDir(parts.slice(0, i)) : undefined;
      if (below) {
        lchownSync(this.abs(k), below.uid, below.gid);
        this.dirTimes.set(k, Math.floor(below.mtimeMs / 1000));
      }
      chmodSync(this.abs(k), below ? below.mode & 0o7777 : 0o755);
      this.knownDirs.add(k);
      this.created.add(k);
    }
  }

  async apply(entry: TarEntry, body: AsyncGenerator<Buffer>): Promise<void> {
    const parts = entryPathParts(entry.name);
    if (parts.length === 0) return; // the root directory itself: its metadata belongs to the parent
    const base = parts[parts.length - 1]!;
    if (base.startsWith(WHITEOUT_PREFIX)) return this.whiteout(entry.name, parts, base);
    this.ensureParents(entry.name, parts);
    const k = key(parts);
    if (entry.type === "dir") {
      const existing = this.lstat(k);
      if (!existing?.isDirectory()) {
        if (existing) this.remove(k);
        mkdirSync(this.abs(k));
      }
      this.nodes.delete(k);
      lchownSync(this.abs(k), entry.uid, entry.gid);
      chmodSync(this.abs(k), entry.mode & 0o7777);
      this.knownDirs.add(k);
      this.dirTimes.set(k, entry.mtime);
    } else {
      this.nodes.delete(k);
      if (entry.type === "file") await this.writeFile(k, entry, body);
      else if (entry.type === "symlink") {
        this.replacing(k, () => symlinkSync(entry.linkname, this.abs(k)));
        lchownSync(this.abs(k), entry.uid, entry.gid);
        lutimesSync(this.abs(k), entry.mtime, entry.mtime);
      } else if (entry.type === "hardlink") this.hardlink(entry, k);
      else {
        if (this.lstat(k)) this.remove(k);
        const type = entry.type === "char" ? "c" : entry.type === "block" ? "b" : "p";
        this.nodes.set(k, { type, major: entry.devmajor, minor: entry.devminor, mode: entry.mode & 0o7777, uid: entry.uid, gid: entry.gid, mtime: entry.mtime });
      }
    }
    this.created.add(k);
    const kept = [...entry.xattrs].filter(([name]) => isLayerXattr(name));
    if (kept.length) this.xattrs.set(k, new Map(kept));
  }

  /**
   * Creates something at `k` with `make`, which must fail with EEXIST when a name is in the way; then
   * whatever is there is removed and `make` runs once more. Saves an lstat per entry in the usual case.
   */
  private replacing<T>(k: string, make: () => T): T {
    try {
      return make();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      this.remove(k);
      return make();
    }
  }

  private async writeFile(k: string, entry: TarEntry, body: AsyncGenerator<Buffer>): Promise<void> {
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
    const fd = this.replacing(k, () => openSync(this.abs(k), flags, 0o600));
    try {
      for await (const chunk of body) {
        let off = 0;
        while (off < chunk.length) off += writeSync(fd, chunk, off);
      }
      fchownSync(fd, entry.uid, entry.gid);
      fchmodSync(fd, entry.mode & 0o7777);
      futimesSync(fd, entry.mtime, entry.mtime);
    } finally {
      closeSync(fd);
    }
    this.createdFiles.add(k);
  }

  private hardlink(entry: TarEntry, k: string): void {
    const targetParts = hardlinkTargetParts(entry.name, entry.linkname);
    const t = key(targetParts);
    if (!this.createdFiles.has(t)) throw hardlinkTargetMissing(entry.name, entry.linkname, "is not a file earlier in this layer");
    // Re-check the whole way with lstat: a later entry may have swapped a directory for a symlink.
    for (let i = 1; i < targetParts.length; i++) {
      if (!this.lstat(key(targetParts.slice(0, i)))?.isDirectory()) {
        throw hardlinkTargetMissing(entry.name, entry.linkname, "is no longer inside a real directory");
      }
    }
    if (!this.lstat(t)?.isFile()) throw hardlinkTargetMissing(entry.name, entry.linkname, "is no longer a regular file");
    if (t === k) return;
    this.replacing(k, () => linkSync(this.abs(t), this.abs(k)));
    this.createdFiles.add(k);
  }

  private whiteout(raw: string, parts: string[], base: string): void {
    const dirParts = parts.slice(0, -1);
    const dir = key(dirParts);
    if (base === OPAQUE_MARKER) {
      this.ensureParents(raw, parts);
      if (this.form === "upper") {
        const attrs = this.xattrs.get(dir) ?? new Map<string, Buffer>();
        this.xattrs.set(dir, attrs.set("trusted.overlay.opaque", Buffer.from("y")));
        return;
      }
      const below = dir === "" ? "" : `${dir}/`;
      for (const name of readdirSync(this.abs(dir))) if (!this.created.has(below + name)) this.remove(below + name);
      return;
    }
    const name = base.slice(WHITEOUT_PREFIX.length);
    // ".wh..wh.*" other than the opaque marker are aufs bookkeeping, meaningless here (Docker skips them too).
    if (name.startsWith(WHITEOUT_PREFIX)) return;
    const target = entryPathParts([...dirParts, name].join("/"));
    if (name === "" || target.length !== parts.length) return;
    const k = key(target);
    if (this.created.has(k)) return; // a whiteout hides lower layers only, never its own layer's entries
    this.ensureParents(raw, target);
    if (this.form === "full") this.remove(k);
    else this.nodes.set(k, { type: "c", major: 0, minor: 0, mode: 0, uid: 0, gid: 0, mtime: 0 });
  }

  /** Devices and whiteouts, then xattrs (after every chown: chown clears security.capability), then directory times. */
  async finish(tmpDir: string): Promise<void> {
    if (this.nodes.size) {
      const script = [...this.nodes].map(([k, n]) => `mknod -m 0${n.mode.toString(8)} -- ${quote(k)} ${n.type}${n.type === "p" ? "" : ` ${n.major} ${n.minor}`}`).join("\n");
      const file = join(tmpDir, ownedName(".mknod"));
      await writeFile(file, `set -e\n${script}\n`);
      try {
        await runScript(file, this.root);
      } finally {
        await rm(file, { force: true });
      }
      for (const [k, n] of this.nodes) {
        lchownSync(this.abs(k), n.uid, n.gid);
        if (n.mtime) lutimesSync(this.abs(k), n.mtime, n.mtime);
      }
    }
    await writeTreeXattrs(this.root, this.xattrs, join(tmpDir, ownedName(".xattrs")));
    const dirs = [...this.dirTimes].sort(([a], [b]) => b.split("/").length - a.split("/").length);
    for (const [k, mtime] of dirs) lutimesSync(this.abs(k), mtime, mtime);
  }
}

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function runScript(file: string, cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("sh", [file], { cwd, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0
        ? resolve()
        : reject(new StoreError("LAYER_MKNOD_FAILED", `could not create device nodes or whiteouts: ${stderr.trim()}`, {
            hint: "Unpacking devices and overlay whiteouts needs root (CAP_MKNOD).",
          })),
    );
  });
}
