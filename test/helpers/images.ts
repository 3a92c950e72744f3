// Helpers for build tests: a store with busybox:latest made from busybox-static, and ways to look
// into a built image through the store (its files via a read-only snapshot view, its config).
import { mkdtemp, readFile, rm, lstat, readlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { childChainId, importRootfs, openStore, resolveLocalImage, type Store } from "../../src/layers/index.js";
import { makeBusyboxRoot } from "./busybox.js";

/** A fresh store root holding `busybox:latest` (and the temp dir to remove). */
export async function storeWithBusybox(prefix = "bi-build-"): Promise<{ root: string; dispose(): Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  const rootfs = await mkdtemp(join(tmpdir(), "bi-busybox-"));
  try {
    await makeBusyboxRoot(rootfs);
    const store = await openStore(root);
    try {
      await importRootfs(store, rootfs, "busybox:latest", { sourceDateEpoch: 0, message: "busybox-static" });
    } finally {
      await store.close();
    }
  } finally {
    await rm(rootfs, { recursive: true, force: true });
  }
  return { root, dispose: () => rm(root, { recursive: true, force: true }) };
}

export interface FileInfo {
  content?: string;
  mode: number;
  uid: number;
  gid: number;
  kind: "file" | "dir" | "symlink" | "other";
  linkTarget?: string;
}

/** Opens the image's root filesystem read-only and hands `fn` a function that describes a path in it. */
export async function inspectImage<T>(root: string, name: string, fn: (stat: (path: string) => Promise<FileInfo | undefined>, image: NonNullable<Awaited<ReturnType<typeof resolveLocalImage>>>) => Promise<T>): Promise<T> {
  const store: Store = await openStore(root);
  try {
    const image = await resolveLocalImage(store, name);
    if (!image) throw new Error(`no image ${name}`);
    let chain: string | null = null;
    for (const diffId of image.config.rootfs.diff_ids) chain = childChainId(chain, diffId);
    if (chain === null) return await fn(async () => undefined, image);
    const view = await store.snapshots.view(chain);
    try {
      return await fn(async (path) => {
        const abs = join(view.root, path);
        const info = await lstat(abs).catch(() => undefined);
        if (!info) return undefined;
        const kind = info.isFile() ? "file" : info.isDirectory() ? "dir" : info.isSymbolicLink() ? "symlink" : "other";
        return {
          kind,
          mode: info.mode & 0o7777,
          uid: info.uid,
          gid: info.gid,
          ...(kind === "file" ? { content: await readFile(abs, "utf8") } : {}),
          ...(kind === "symlink" ? { linkTarget: await readlink(abs) } : {}),
        };
      }, image);
    } finally {
      await view.release();
    }
  } finally {
    await store.close();
  }
}
