import { mkdir, readdir, readFile, readlink, rename, rm, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { PassThrough } from "node:stream";
import { unpackLayer, type LayerForm } from "./apply.js";
import { compressLayer } from "./compress.js";
import type { ContentStore } from "./content-store.js";
import type { Change } from "./diff-changes.js";
import { changesToTar } from "./diff-tar.js";
import { childChainId, digestHex } from "./digest.js";
import { MediaType } from "./media-types.js";
import { mountsUnder, snapshotIdsInUse, unmount } from "./overlay.js";
import { ownedName, ownerAlive, ownerTag } from "./process-owner.js";
import type { Readable } from "node:stream";
import type { ApplyLayerOptions, CommitOptions, CommittedLayer, SnapshotInfo } from "./snapshots.js";
import { StoreError } from "./store-errors.js";

// The on-disk index both snapshotters share (layout in snapshots.ts), and the commit pipeline.

export interface SnapshotMeta {
  chainId: string;
  parent: string | null;
  diffId: string;
  /** Snapshot ids to mount as lower dirs for this chain, top first (itself first). */
  stack: number[];
}

export interface SnapshotDirs {
  /** `<root>/snapshots` */
  dir: string;
  /** `<root>/tmp` */
  tmp: string;
}

const chainLink = (d: SnapshotDirs, chainId: string) => join(d.dir, "chains", digestHex(chainId));
export const snapshotPath = (d: SnapshotDirs, id: number) => join(d.dir, String(id));

export async function ensureLayout(d: SnapshotDirs): Promise<void> {
  await mkdir(join(d.dir, "chains"), { recursive: true });
  await mkdir(join(d.dir, "empty"), { recursive: true });
}

export function notFound(chainId: string | null): StoreError {
  return new StoreError("SNAPSHOT_NOT_FOUND", `no snapshot for chain ${chainId}`, {
    hint: "Unpack the image's layers first (pull it or build it again).",
  });
}

/** The id a chain ID names, or undefined. */
export async function idOf(d: SnapshotDirs, chainId: string): Promise<number | undefined> {
  try {
    return Number((await readlink(chainLink(d, chainId))).replace(/^\.\.\//, ""));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

export async function readMeta(d: SnapshotDirs, id: number): Promise<SnapshotMeta> {
  return JSON.parse(await readFile(join(snapshotPath(d, id), "meta.json"), "utf8")) as SnapshotMeta;
}

/** The committed snapshot of a chain; throws SNAPSHOT_NOT_FOUND. */
export async function metaOf(d: SnapshotDirs, chainId: string): Promise<SnapshotMeta & { id: number }> {
  const id = await idOf(d, chainId);
  if (id === undefined) throw notFound(chainId);
  return { ...(await readMeta(d, id)), id };
}

/**
 * A new snapshot dir, built aside in tmp/ (an `owner` file naming this process, an empty `fs`, whatever
 * `extra` adds, the ids in `uses`) and renamed to the next free `snapshots/<id>`: so a snapshot dir always says who owns it.
 */
export async function allocate(d: SnapshotDirs, extra: string[] = [], uses: number[] = []): Promise<{ id: number; path: string }> {
  const staging = join(d.tmp, ownedName(".snap"));
  await mkdir(staging);
  await writeFile(join(staging, "owner"), ownerTag());
  // The snapshots this one is built on, kept by prune while the owner lives (the parent may be removed meanwhile).
  await writeFile(join(staging, "uses.json"), JSON.stringify(uses));
  for (const sub of ["fs", ...extra]) await mkdir(join(staging, sub));
  for (let attempt = 0; ; attempt++) {
    const ids = (await readdir(d.dir)).filter((n) => /^\d+$/.test(n)).map(Number);
    const id = Math.max(0, ...ids) + 1 + attempt;
    try {
      await rename(staging, snapshotPath(d, id));
      return { id, path: snapshotPath(d, id) };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code !== "EEXIST" && code !== "ENOTEMPTY") || attempt > 100) {
        await rm(staging, { recursive: true, force: true });
        throw err;
      }
    }
  }
}

export async function writeMeta(d: SnapshotDirs, id: number, meta: SnapshotMeta): Promise<void> {
  const path = snapshotPath(d, id);
  await writeFile(join(path, "meta.json.tmp"), JSON.stringify(meta));
  await rename(join(path, "meta.json.tmp"), join(path, "meta.json"));
}

/**
 * Commits snapshot `id` as `meta.chainId`: meta.json, then the index link. When another writer committed
 * the same chain first, its snapshot wins and ours is removed. Returns the id that holds the chain.
 */
export async function register(d: SnapshotDirs, id: number, meta: SnapshotMeta): Promise<number> {
  const path = snapshotPath(d, id);
  await writeMeta(d, id, meta);
  try {
    await symlink(`../${id}`, chainLink(d, meta.chainId));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    const winner = await idOf(d, meta.chainId);
    await rm(path, { recursive: true, force: true });
    return winner!;
  }
  await rm(join(path, "owner"), { force: true });
  await rm(join(path, "uses.json"), { force: true });
  return id;
}

/** Points a chain at another snapshot (a flattened copy), atomically. */
export async function repoint(d: SnapshotDirs, chainId: string, id: number): Promise<void> {
  const tmpLink = join(d.dir, "chains", ownedName(".link"));
  await symlink(`../${id}`, tmpLink);
  await rename(tmpLink, chainLink(d, chainId));
  await rm(join(snapshotPath(d, id), "owner"), { force: true });
  await rm(join(snapshotPath(d, id), "uses.json"), { force: true });
}

/** Every indexed chain's meta, by chain ID order. */
async function indexedMetas(d: SnapshotDirs): Promise<(SnapshotMeta & { id: number })[]> {
  const out: (SnapshotMeta & { id: number })[] = [];
  for (const hex of (await readdir(join(d.dir, "chains"))).filter((n) => /^[0-9a-f]{64}$/.test(n)).sort()) {
    const id = await idOf(d, `sha256:${hex}`);
    if (id === undefined) continue;
    const meta = await readMeta(d, id).catch(() => undefined);
    if (meta) out.push({ ...meta, id });
  }
  return out;
}

export async function listSnapshots(d: SnapshotDirs): Promise<SnapshotInfo[]> {
  return (await indexedMetas(d)).map(({ chainId, parent, diffId, id }) => ({ chainId, parent, diffId, id }));
}

export async function removeChain(d: SnapshotDirs, chainId: string): Promise<boolean> {
  const existed = (await idOf(d, chainId)) !== undefined;
  await rm(chainLink(d, chainId), { force: true });
  await prune(d);
  return existed;
}

/**
 * Removes snapshot dirs nothing needs: a dead process's active or half-made snapshots (unmounting
 * what it left mounted), and committed ones no indexed chain stacks on. Live owners' dirs are kept.
 */
export async function prune(d: SnapshotDirs): Promise<void> {
  // Besides indexed chains, whatever a live mount stacks on (an active snapshot or a view of a chain
  // that was flattened meanwhile) must stay until it is unmounted.
  const referenced = await snapshotIdsInUse(dirname(d.dir));
  for (const meta of await indexedMetas(d)) for (const id of meta.stack) referenced.add(id);
  const names = (await readdir(d.dir)).filter((n) => /^\d+$/.test(n));
  const owners = new Map<string, string | undefined>();
  for (const name of names) {
    const owner = await readFile(join(d.dir, name, "owner"), "utf8").catch(() => undefined);
    owners.set(name, owner);
    if (owner === undefined || !ownerAlive(owner)) continue;
    const uses = await readFile(join(d.dir, name, "uses.json"), "utf8").catch(() => "[]");
    for (const id of JSON.parse(uses) as number[]) referenced.add(id);
  }
  for (const name of names) {
    const path = join(d.dir, name);
    const owner = owners.get(name);
    if (owner !== undefined ? ownerAlive(owner) : referenced.has(Number(name))) continue;
    for (const mount of await mountsUnder(path)) await unmount(mount);
    await rm(path, { recursive: true, force: true });
  }
}

/** Changes → tar → parallel gzip → content store, one streaming pass. */
export async function writeLayer(
  changes: Change[],
  content: ContentStore,
  opts: CommitOptions = {},
): Promise<{ diffId: string; digest: string; size: number; mediaType: string }> {
  const pipe = new PassThrough({ highWaterMark: 4 << 20 });
  const stored = content.write(pipe, { signal: opts.signal });
  try {
    const tarOpts = { ...(opts.sourceDateEpoch === undefined ? {} : { sourceDateEpoch: opts.sourceDateEpoch }), signal: opts.signal };
    const layer = await compressLayer(changesToTar(changes, tarOpts), pipe, {
      signal: opts.signal,
      ...(opts.compressionLevel === undefined ? {} : { level: opts.compressionLevel }),
    });
    const blob = await stored;
    return { diffId: layer.diffId, digest: blob.digest, size: blob.size, mediaType: MediaType.ociLayerGzip };
  } catch (err) {
    pipe.destroy(err as Error);
    await stored.catch(() => undefined);
    throw err;
  }
}

/** LAYER_DIFF_ID_MISMATCH unless the unpacked tar hashed to what the image config says. */
export function checkDiffId(expected: string | undefined, actual: string): void {
  if (expected !== undefined && expected !== actual) {
    throw new StoreError("LAYER_DIFF_ID_MISMATCH", `layer tar hashes to ${actual}, but the image says ${expected}`, {
      hint: "The layer blob does not belong to this image config; pull the image again.",
    });
  }
}

/** A snapshot dir being filled: its id, path, and the stack its meta will record. */
export interface NewSnapshot {
  id: number;
  path: string;
  stack: number[];
}

/**
 * The end of a commit, for both snapshotters: no changes → an empty layer and the dir removed; else the
 * layer blob, then the chain registered. On any failure the new dir is removed.
 */
export async function commitChanges(
  d: SnapshotDirs,
  content: ContentStore,
  snap: NewSnapshot,
  parent: string | null,
  changes: () => Promise<Change[]>,
  opts: CommitOptions,
  beforeRegister: () => Promise<void> = async () => undefined,
): Promise<CommittedLayer> {
  try {
    const found = await changes();
    if (found.length === 0) {
      await rm(snap.path, { recursive: true, force: true });
      return { empty: true, chainId: parent };
    }
    const layer = await writeLayer(found, content, opts);
    const chainId = childChainId(parent, layer.diffId);
    await beforeRegister();
    await register(d, snap.id, { chainId, parent, diffId: layer.diffId, stack: snap.stack });
    return { empty: false, chainId, ...layer };
  } catch (err) {
    await rm(snap.path, { recursive: true, force: true });
    throw err;
  }
}

/**
 * applyLayer for both snapshotters: reuse a present chain without reading the blob, else unpack into the
 * dir `make` prepares (empty for overlay, a copy of the parent for copy), check the diff ID, register.
 */
export async function applyInto(
  d: SnapshotDirs,
  parent: string | null,
  blob: Readable,
  opts: ApplyLayerOptions,
  form: LayerForm,
  make: () => Promise<NewSnapshot>,
): Promise<{ chainId: string; diffId: string }> {
  if (opts.diffId !== undefined) {
    const chainId = childChainId(parent, opts.diffId);
    if ((await idOf(d, chainId)) !== undefined) {
      blob.destroy();
      return { chainId, diffId: opts.diffId };
    }
  }
  const snap = await make();
  try {
    // The stack below the new snapshot (overlay), for directories the tar needs but leaves out.
    const lowerDirs = form === "upper" ? snap.stack.slice(1).map((id) => join(snapshotPath(d, id), "fs")) : [];
    const { diffId } = await unpackLayer(join(snap.path, "fs"), blob, { mediaType: opts.mediaType, form, tmpDir: d.tmp, lowerDirs, signal: opts.signal });
    checkDiffId(opts.diffId, diffId);
    const chainId = childChainId(parent, diffId);
    await register(d, snap.id, { chainId, parent, diffId, stack: snap.stack });
    return { chainId, diffId };
  } catch (err) {
    await rm(snap.path, { recursive: true, force: true });
    throw err;
  }
}
