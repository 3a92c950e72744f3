import { execFile } from "node:child_process";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { promisify } from "node:util";
import type { ContentStore } from "./content-store.js";
import { treeChanges } from "./diff-changes.js";
import {
  allocate, applyInto, commitChanges, ensureLayout, idOf, listSnapshots, metaOf, removeChain, snapshotPath,
  type SnapshotDirs,
} from "./snapshots-common.js";
import type { ActiveSnapshot, ApplyLayerOptions, CommittedLayer, Snapshotter } from "./snapshots.js";
import { StoreError } from "./store-errors.js";

const run = promisify(execFile);

/**
 * The copy snapshotter (see snapshots.ts), for machines where overlayfs cannot be mounted: every
 * snapshot's `fs` is a whole tree. No mounts at all, so a view is the committed tree itself (treat it as
 * read-only).
 */
export async function copySnapshotter(dirs: SnapshotDirs, content: ContentStore): Promise<Snapshotter> {
  await ensureLayout(dirs);

  async function snapshotOf(chainId: string | null): Promise<{ tree: string; uses: number[] }> {
    if (chainId === null) return { tree: join(dirs.dir, "empty"), uses: [] };
    const { id } = await metaOf(dirs, chainId);
    return { tree: join(snapshotPath(dirs, id), "fs"), uses: [id] };
  }

  /** A new snapshot dir holding a copy of `parent`'s tree (reflinked where the filesystem can). */
  async function copyOf(parent: string | null) {
    const { tree: from, uses } = await snapshotOf(parent);
    const made = await allocate(dirs, [], uses);
    try {
      await run("cp", ["-a", "--reflink=auto", `${from}/.`, join(made.path, "fs")]);
    } catch (err) {
      await rm(made.path, { recursive: true, force: true });
      throw new StoreError("SNAPSHOT_COPY_FAILED", `could not copy the tree of ${parent ?? "the empty root"}`, {
        hint: "Check free space in the store.",
        cause: err,
      });
    }
    return { ...made, from };
  }

  async function prepare(parent: string | null, opts: { signal?: AbortSignal } = {}): Promise<ActiveSnapshot> {
    opts.signal?.throwIfAborted();
    const { id, path, from } = await copyOf(parent);
    // Anything whose ctime is later than this was touched after the copy: its content may have changed.
    const since = Date.now();
    const root = join(path, "fs");
    let done = false;
    const finish = () => {
      if (done) throw new StoreError("SNAPSHOT_STATE", `snapshot ${root} was already committed or aborted`);
      done = true;
    };
    return {
      root,
      parent,
      async commit(opts = {}): Promise<CommittedLayer> {
        finish();
        return commitChanges(dirs, content, { id, path, stack: [id] }, parent, () => treeChanges(from, root, since, opts.signal), opts);
      },
      async abort() {
        done = true;
        await rm(path, { recursive: true, force: true });
      },
    };
  }

  async function applyLayer(parent: string | null, blob: Readable, opts: ApplyLayerOptions) {
    return applyInto(dirs, parent, blob, opts, "full", async () => {
      const { id, path } = await copyOf(parent);
      return { id, path, stack: [id] };
    });
  }

  return {
    kind: "copy",
    prepare,
    async view(chainId) {
      return { root: (await snapshotOf(chainId)).tree, release: async () => undefined };
    },
    has: async (chainId) => (await idOf(dirs, chainId)) !== undefined,
    applyLayer,
    remove: (chainId) => removeChain(dirs, chainId),
    list: () => listSnapshots(dirs),
  };
}
