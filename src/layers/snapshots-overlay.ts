import { execFile } from "node:child_process";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { promisify } from "node:util";
import type { ContentStore } from "./content-store.js";
import { upperDirChanges } from "./diff-changes.js";
import { MAX_LOWERS, MAX_OPTIONS, mountOverlay, overlayOptions, unmount } from "./overlay.js";
import { ownedName } from "./process-owner.js";
import {
  allocate, applyInto, commitChanges, ensureLayout, idOf, listSnapshots, metaOf, removeChain, repoint, writeMeta,
  type SnapshotDirs, type SnapshotMeta,
} from "./snapshots-common.js";
import type { ActiveSnapshot, ApplyLayerOptions, CommittedLayer, Snapshotter } from "./snapshots.js";
import { StoreError } from "./store-errors.js";

const run = promisify(execFile);

export interface OverlaySnapshotterOptions {
  /** Flatten a chain once it would stack more lower dirs than this (default MAX_LOWERS). */
  maxLowers?: number;
}

/** The overlayfs snapshotter (see snapshots.ts): `fs` is an overlay upper dir. */
export async function overlaySnapshotter(dirs: SnapshotDirs, content: ContentStore, opts: OverlaySnapshotterOptions = {}): Promise<Snapshotter> {
  await ensureLayout(dirs);
  const maxLowers = Math.min(opts.maxLowers ?? MAX_LOWERS, MAX_LOWERS);
  const lowerdirs = (stack: number[]) => (stack.length ? stack.map((id) => `${id}/fs`) : ["empty"]);

  /** The lower stack for a child of `parent`, flattening the parent first if the child would not fit. */
  async function stackFor(parent: string | null): Promise<number[]> {
    if (parent === null) return [];
    const meta = await metaOf(dirs, parent);
    const tooDeep = meta.stack.length + 1 > maxLowers;
    const tooLong = overlayOptions({ lowers: lowerdirs([999999, ...meta.stack]), upper: "999999/fs", work: "999999/work", target: "", cwd: "" }).length > MAX_OPTIONS;
    return tooDeep || tooLong ? [await flatten(meta)] : meta.stack;
  }

  /** Copies a chain's merged tree into one new snapshot and points the chain at it. */
  async function flatten(meta: SnapshotMeta & { id: number }): Promise<number> {
    const { id, path } = await allocate(dirs);
    const view = await mountView(meta.stack);
    try {
      await run("cp", ["-a", "--reflink=auto", `${view.root}/.`, join(path, "fs")]);
    } catch (err) {
      await rm(path, { recursive: true, force: true });
      throw new StoreError("SNAPSHOT_FLATTEN_FAILED", `could not flatten chain ${meta.chainId}`, { cause: err });
    } finally {
      await view.release();
    }
    await writeMeta(dirs, id, { chainId: meta.chainId, parent: meta.parent, diffId: meta.diffId, stack: [id] });
    await repoint(dirs, meta.chainId, id);
    return id;
  }

  async function mountView(stack: number[]) {
    const target = join(dirs.tmp, ownedName(".view"));
    await mkdir(target);
    try {
      // A lowerdir-only mount is read-only; "empty" at the bottom makes even a one-layer stack valid.
      await mountOverlay({ lowers: [...lowerdirs(stack), "empty"], target, cwd: dirs.dir });
    } catch (err) {
      await rm(target, { recursive: true, force: true });
      throw err;
    }
    let released = false;
    return {
      root: target,
      release: async () => {
        if (released) return;
        released = true;
        await unmount(target);
        await rm(target, { recursive: true, force: true });
      },
    };
  }

  async function prepare(parent: string | null, opts: { signal?: AbortSignal } = {}): Promise<ActiveSnapshot> {
    opts.signal?.throwIfAborted();
    const stack = await stackFor(parent);
    const { id, path } = await allocate(dirs, ["work", "merged"], stack);
    const root = join(path, "merged");
    try {
      await mountOverlay({ lowers: lowerdirs(stack), upper: `${id}/fs`, work: `${id}/work`, target: root, cwd: dirs.dir });
    } catch (err) {
      await rm(path, { recursive: true, force: true });
      throw err;
    }
    let state: "active" | "done" = "active";
    const finish = async () => {
      if (state === "done") throw new StoreError("SNAPSHOT_STATE", `snapshot ${root} was already committed or aborted`);
      state = "done";
      await unmount(root);
    };
    return {
      root,
      upperDir: join(path, "fs"),
      parent,
      async commit(opts = {}): Promise<CommittedLayer> {
        await finish();
        return commitChanges(dirs, content, { id, path, stack: [id, ...stack] }, parent, () => upperDirChanges(join(path, "fs"), opts.signal), opts, async () => {
          await rm(join(path, "work"), { recursive: true, force: true });
          await rm(join(path, "merged"), { recursive: true, force: true });
        });
      },
      async abort() {
        if (state === "active") await finish().catch(() => undefined);
        await unmount(root).catch(() => undefined);
        await rm(path, { recursive: true, force: true });
      },
    };
  }

  async function applyLayer(parent: string | null, blob: Readable, opts: ApplyLayerOptions) {
    return applyInto(dirs, parent, blob, opts, "upper", async () => {
      const stack = await stackFor(parent);
      const { id, path } = await allocate(dirs);
      return { id, path, stack: [id, ...stack] };
    });
  }

  return {
    kind: "overlay",
    prepare,
    async view(chainId) {
      return mountView((await metaOf(dirs, chainId)).stack);
    },
    has: async (chainId) => (await idOf(dirs, chainId)) !== undefined,
    applyLayer,
    remove: (chainId) => removeChain(dirs, chainId),
    list: () => listSnapshots(dirs),
  };
}
