// An image made through the API for the image tests: a busybox-static root, then a layer that deletes a
// file, one that replaces a directory, one that changes only a mode. Every layer is a real snapshot
// (prepare → change the overlay root → commit), so whiteouts and opaque dirs are the kernel's own.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, lstat, mkdir, readdir, readFile, readlink, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ImageConfig } from "../../src/layers/image-config.js";
import { writeImage, type LayerDescriptor } from "../../src/layers/image-store.js";
import type { CommittedLayer } from "../../src/layers/snapshots.js";
import { runInSnapshot } from "../../src/layers/snapshots-run.js";
import type { Store } from "../../src/layers/store.js";
import { makeBusyboxRoot } from "../helpers/busybox.js";

export interface TestImage {
  manifestDigest: string;
  configDigest: string;
  chainId: string;
  layers: LayerDescriptor[];
}

export async function makeTestImage(store: Store): Promise<TestImage> {
  const layers: Extract<CommittedLayer, { empty: false }>[] = [];
  const step = async (change: (root: string) => Promise<void>) => {
    const { layer } = await runInSnapshot(store.snapshots, layers.at(-1)?.chainId ?? null, change, { sourceDateEpoch: 1_700_000_000 });
    if (layer.empty) throw new Error("fixture step changed nothing");
    layers.push(layer);
  };
  await step(async (root) => {
    await makeBusyboxRoot(root);
    await mkdir(join(root, "opt/app/old"), { recursive: true });
    await writeFile(join(root, "opt/app/old/file"), "old\n");
    await writeFile(join(root, "etc/motd"), "hello\n");
    await writeFile(join(root, "etc/secret"), "s3cret\n");
    execFileSync("chown", ["-h", "1000:50", join(root, "etc/motd")]);
    execFileSync("ln", [join(root, "etc/motd"), join(root, "etc/motd.hardlink")]);
  });
  await step((root) => rm(join(root, "etc/secret")));
  await step(async (root) => {
    await rm(join(root, "opt/app"), { recursive: true });
    await mkdir(join(root, "opt/app"));
    await writeFile(join(root, "opt/app/new"), "new\n");
  });
  await step((root) => chmod(join(root, "etc/motd"), 0o600));

  const created = "2024-01-01T00:00:00Z";
  const config: ImageConfig = {
    architecture: "amd64",
    os: "linux",
    created,
    config: { Env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["/bin/sh"], WorkingDir: "/", Labels: { fixture: "yes" } },
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
    history: ["busybox", "rm secret", "replace /opt/app", "chmod motd"].map((created_by) => ({ created, created_by })),
  };
  const written = await writeImage(store, { config, layers: layers.map(({ digest, size, mediaType }) => ({ digest, size, mediaType })) });
  return { manifestDigest: written.manifestDigest, configDigest: written.configDigest, chainId: layers.at(-1)!.chainId, layers: written.manifest.layers };
}

/** The tree of a committed chain, as our snapshotter shows it. */
export async function describeChain(store: Store, chainId: string): Promise<Record<string, string>> {
  const view = await store.snapshots.view(chainId);
  try {
    return await describeTree(view.root);
  } finally {
    await view.release();
  }
}

/** Every entry of a tree: type, mode, owner, content hash or link target, and hardlink groups. */
export async function describeTree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const inodes = new Map<number, string>();
  const walk = async (rel: string) => {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const full = join(root, path);
      const st = await lstat(full);
      const mode = (st.mode & 0o7777).toString(8);
      let what: string;
      if (st.isSymbolicLink()) what = `link -> ${await readlink(full)}`;
      else if (st.isDirectory()) what = "dir";
      else if (st.isFile()) {
        what = `file ${createHash("sha256").update(await readFile(full)).digest("hex").slice(0, 16)}`;
        const first = inodes.get(st.ino);
        if (first) what += ` =${first}`;
        else if (st.nlink > 1) inodes.set(st.ino, path);
      } else what = `special ${st.mode.toString(8)} ${st.rdev}`;
      out[path] = `${what} ${mode} ${st.uid}:${st.gid}`;
      if (st.isDirectory()) await walk(path);
    }
  };
  await walk("");
  return out;
}
