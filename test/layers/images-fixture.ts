// An image made through the API for the image tests: a busybox-static root, then a layer that deletes a
// file, one that replaces a directory, one that changes only a mode. Each layer is a real overlayfs
// upper dir (whiteouts and opaque dirs made by the kernel), turned into a layer by diffToTar.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { PassThrough } from "node:stream";
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compressLayer } from "../../src/layers/compress.js";
import { diffToTar } from "../../src/layers/diff-tar.js";
import type { ImageConfig } from "../../src/layers/image-config.js";
import { writeImage, type ImageStore, type LayerDescriptor } from "../../src/layers/image-store.js";
import { MediaType } from "../../src/layers/media-types.js";
import { makeBusyboxRoot } from "../helpers/busybox.js";

export interface TestImage {
  manifestDigest: string;
  configDigest: string;
  layers: LayerDescriptor[];
  /** A read-only overlay mount of all layers: the tree any unpack of the image must give. */
  expectedRoot: string;
  cleanup(): Promise<void>;
}

function mountOverlay(lower: string[], target: string, upper?: { upper: string; work: string }): void {
  const opts = [`lowerdir=${lower.join(":")}`, ...(upper ? [`upperdir=${upper.upper}`, `workdir=${upper.work}`] : [])].join(",");
  execFileSync("mount", ["-t", "overlay", "overlay", "-o", opts, target]);
}

async function storeLayer(store: ImageStore, upperDir: string): Promise<LayerDescriptor & { diffId: string }> {
  const gzip = new PassThrough();
  const [layer, blob] = await Promise.all([compressLayer(diffToTar(upperDir), gzip), store.content.write(gzip)]);
  return { digest: blob.digest, size: blob.size, mediaType: MediaType.ociLayerGzip, diffId: layer.diffId };
}

export async function makeTestImage(store: ImageStore): Promise<TestImage> {
  const work = await mkdtemp(join(tmpdir(), "bi-image-fixture-"));
  const mounts: string[] = [];
  const cleanup = async () => {
    for (const m of mounts.reverse()) execFileSync("umount", [m]);
    await rm(work, { recursive: true, force: true });
  };
  try {
    const base = join(work, "l0");
    await makeBusyboxRoot(base);
    await mkdir(join(base, "opt/app/old"), { recursive: true });
    await writeFile(join(base, "opt/app/old/file"), "old\n");
    await writeFile(join(base, "etc/motd"), "hello\n");
    await writeFile(join(base, "etc/secret"), "s3cret\n");
    execFileSync("chown", ["-h", "1000:50", join(base, "etc/motd")]);
    execFileSync("ln", [join(base, "etc/motd"), join(base, "etc/motd.hardlink")]);

    const uppers: string[] = [];
    const step = async (name: string, change: (merged: string) => Promise<void>) => {
      const upper = join(work, name);
      const workdir = join(work, `${name}.work`);
      const merged = join(work, `${name}.merged`);
      await Promise.all([upper, workdir, merged].map((d) => mkdir(d)));
      mountOverlay([...uppers].reverse().concat(base), merged, { upper, work: workdir });
      try {
        await change(merged);
      } finally {
        execFileSync("umount", [merged]);
      }
      uppers.push(upper);
    };
    await step("l1-delete", async (m) => rm(join(m, "etc/secret")));
    await step("l2-replace-dir", async (m) => {
      await rm(join(m, "opt/app"), { recursive: true });
      await mkdir(join(m, "opt/app"));
      await writeFile(join(m, "opt/app/new"), "new\n");
    });
    await step("l3-chmod", async (m) => chmod(join(m, "etc/motd"), 0o600));

    const layers = [];
    for (const dir of [base, ...uppers]) layers.push(await storeLayer(store, dir));
    const config: ImageConfig = {
      architecture: "amd64",
      os: "linux",
      created: "2024-01-01T00:00:00Z",
      config: { Env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["/bin/sh"], WorkingDir: "/", Labels: { fixture: "yes" } },
      rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
      history: ["busybox", "rm secret", "replace /opt/app", "chmod motd"].map((created_by) => ({ created: "2024-01-01T00:00:00Z", created_by })),
    };
    const written = await writeImage(store, { config, layers: layers.map(({ diffId: _d, ...l }) => l) });
    const expectedRoot = join(work, "expected");
    await mkdir(expectedRoot);
    mountOverlay([...uppers].reverse().concat(base), expectedRoot);
    mounts.push(expectedRoot);
    return { manifestDigest: written.manifestDigest, configDigest: written.configDigest, layers: written.manifest.layers, expectedRoot, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
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
        if (st.nlink > 1) {
          const first = inodes.get(st.ino);
          if (first) what += ` =${first}`;
          else inodes.set(st.ino, path);
        }
      } else what = `special ${st.mode.toString(8)} ${st.rdev}`;
      out[path] = `${what} ${mode} ${st.uid}:${st.gid}`;
      if (st.isDirectory()) await walk(path);
    }
  };
  await walk("");
  return out;
}
