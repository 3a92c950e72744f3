import { execFile } from "node:child_process";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { promisify } from "node:util";
import { unpackLayer } from "./apply.js";
import type { ContentStore } from "./content-store.js";
import { treeChanges } from "./diff-changes.js";
import { childChainId } from "./digest.js";
import {
  allocate, checkDiffId, ensureLayout, idOf, listSnapshots, metaOf, register, removeChain, snapshotPath, writeLayer,
  type SnapshotDirs,
} from "./snapshots-common.js";
import type { ActiveSnapshot, CommittedLayer, Snapshotter } from "./snapshots.js";
import { StoreError } from "./store-errors.js";

const run = promisify(execFile);

/**
 * The copy snapshotter (see snapshots.ts), for machines where overlayfs cannot be mounted: every
 * snapshot's `fs` is a whole tree. No mounts at all, so a view is the committed tree itself (treat it as
 * read-only).
 */
export async function copySnapshotter(dirs: SnapshotDirs, content: ContentStore): Promise<Snapshotter> {
  await ensureLayout(dirs);

  async function treeOf(chainId: string | null): Promise<string> {
    if (chainId === null) return join(dirs.dir, "empty");
    return join(snapshotPath(dirs, (await metaOf(dirs, chainId)).id), "fs");
  }

  /** A new snapshot dir holding a copy of `parent`'s tree (reflinked where the filesystem can). */
  async function copyOf(parent: string | null) {
    const from = await treeOf(parent);
    const made = await allocate(dirs);
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

  async function prepare(parent: string | null): Promise<ActiveSnapshot> {
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
        try {
          const changes = await treeChanges(from, root, since, opts.signal);
          if (changes.length === 0) {
            await rm(path, { recursive: true, force: true });
            return { empty: true, chainId: parent };
          }
          const layer = await writeLayer(changes, content, opts);
          const chainId = childChainId(parent, layer.diffId);
          await register(dirs, id, { chainId, parent, diffId: layer.diffId, stack: [id] });
          return { empty: false, chainId, ...layer };
        } catch (err) {
          await rm(path, { recursive: true, force: true });
          throw err;
        }
      },
      async abort() {
        done = true;
        await rm(path, { recursive: true, force: true });
      },
    };
  }

  async function applyLayer(parent: string | null, blob: Readable, opts: { mediaType: string; diffId?: string; signal?: AbortSignal }) {
    if (opts.diffId !== undefined) {
      const chainId = childChainId(parent, opts.diffId);
      if ((await idOf(dirs, chainId)) !== undefined) {
        blob.destroy();
        return { chainId, diffId: opts.diffId };
      }
    }
    const { id, path } = await copyOf(parent);
    try {
      const { diffId } = await unpackLayer(join(path, "fs"), blob, { mediaType: opts.mediaType, form: "full", tmpDir: dirs.tmp, signal: opts.signal });
      checkDiffId(opts.diffId, diffId);
      const chainId = childChainId(parent, diffId);
      await register(dirs, id, { chainId, parent, diffId, stack: [id] });
      return { chainId, diffId };
    } catch (err) {
      await rm(path, { recursive: true, force: true });
      throw err;
    }
  }

  return {
    kind: "copy",
    prepare,
    async view(chainId) {
      return { root: await treeOf(chainId), release: async () => undefined };
    },
    has: async (chainId) => (await idOf(dirs, chainId)) !== undefined,
    applyLayer,
    remove: (chainId) => removeChain(dirs, chainId),
    list: () => listSnapshots(dirs),
  };
}
