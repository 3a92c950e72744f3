import { suite } from "uvu";
import * as assert from "uvu/assert";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rename, rm, symlink, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { openContentStore } from "../../src/layers/content-store.js";
import { exportDockerArchive, exportOciLayout } from "../../src/layers/export.js";
import { hostPlatform } from "../../src/layers/image-platform.js";
import { writeImage, type ImageStore } from "../../src/layers/image-store.js";
import { importArchive } from "../../src/layers/import.js";
import { listImages, resolveLocalImage, tagImage } from "../../src/layers/local-images.js";
import { MediaType } from "../../src/layers/media-types.js";

const run = promisify(execFile);

interface Ctx {
  dir: string;
  store: ImageStore;
  fresh: ImageStore;
  manifestDigest: string;
}

const importing = suite<Ctx>("import");

importing.before.each(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), "bi-import-"));
  const root = join(ctx.dir, "root");
  ctx.store = { root, content: await openContentStore(root) };
  const freshRoot = join(ctx.dir, "fresh");
  ctx.fresh = { root: freshRoot, content: await openContentStore(freshRoot) };
  // A plain-tar layer: its digest is its diff ID.
  const tree = join(ctx.dir, "tree");
  await mkdir(tree);
  await writeFile(join(tree, "hello"), "hello\n");
  await run("tar", ["-cf", join(ctx.dir, "layer.tar"), "--numeric-owner", "-C", tree, "."]);
  const layer = await ctx.store.content.writeBuffer(await readFile(join(ctx.dir, "layer.tar")));
  const { os, architecture } = hostPlatform();
  const image = await writeImage(ctx.store, {
    config: { os, architecture, rootfs: { type: "layers", diff_ids: [layer.digest] } },
    layers: [{ ...layer, mediaType: MediaType.ociLayer }],
  });
  ctx.manifestDigest = image.manifestDigest;
  await tagImage(ctx.store, "src:1", image.manifestDigest);
});
importing.after.each(async (ctx) => {
  await rm(ctx.dir, { recursive: true, force: true });
});

async function rejects(promise: Promise<unknown>, code: string, message?: RegExp) {
  await promise.then(
    () => assert.unreachable(`expected ${code}`),
    (err) => {
      assert.is(err.code, code, err.message);
      if (message) assert.match(err.message, message);
    },
  );
}

/** A docker save archive unpacked into a directory, so a test can tamper with it. */
async function dockerDir(ctx: Ctx): Promise<string> {
  const file = join(ctx.dir, "d.tar");
  await exportDockerArchive(ctx.store, ["src:1"], file);
  const out = join(ctx.dir, "docker-dir");
  await mkdir(out);
  await run("tar", ["-xf", file, "-C", out]);
  return out;
}

importing("a docker save directory imports like the tar", async (ctx) => {
  const [image] = await importArchive(ctx.fresh, await dockerDir(ctx));
  assert.equal(image?.names, ["docker.io/library/src:1"]);
  assert.is((await resolveLocalImage(ctx.fresh, "src:1"))?.manifestDigest, image!.manifestDigest);
});

importing("manifest.json paths that climb out of the archive are refused, nothing read", async (ctx) => {
  const dir = await dockerDir(ctx);
  const manifest = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8"));
  manifest[0].Config = "../../../../etc/passwd";
  await writeFile(join(dir, "manifest.json"), JSON.stringify(manifest));
  await rejects(importArchive(ctx.fresh, dir), "IMAGE_ARCHIVE_INVALID", /outside itself/);
  manifest[0].Config = "/etc/passwd";
  await writeFile(join(dir, "manifest.json"), JSON.stringify(manifest));
  await rejects(importArchive(ctx.fresh, dir), "IMAGE_ARCHIVE_INVALID", /outside itself/);
  assert.equal(await ctx.fresh.content.list(), []);
});

importing("layers linked to another file of the archive load (old docker save); links out are refused", async (ctx) => {
  const dir = await dockerDir(ctx);
  const manifest = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8"));
  const layerPath: string = manifest[0].Layers[0];
  await mkdir(join(dir, "shared"));
  await rename(join(dir, layerPath), join(dir, "shared/layer.tar"));
  await symlink("../shared/layer.tar", join(dir, layerPath));
  const linkedTar = join(ctx.dir, "linked.tar");
  await run("tar", ["-cf", linkedTar, "-C", dir, "."]);
  const [image] = await importArchive(ctx.fresh, linkedTar);
  assert.equal(image?.names, ["docker.io/library/src:1"]);
  const [fromDir] = await importArchive(ctx.fresh, dir);
  assert.is(fromDir?.manifestDigest, image!.manifestDigest);

  await rm(join(dir, layerPath));
  await symlink("/etc/passwd", join(dir, layerPath));
  await rejects(importArchive(ctx.fresh, dir), "IMAGE_ARCHIVE_INVALID", /outside itself/);
  await rm(join(dir, layerPath));
  await symlink("../../../../../../etc/passwd", join(dir, layerPath));
  const hostileTar = join(ctx.dir, "hostile.tar");
  await run("tar", ["-cf", hostileTar, "-C", dir, "."]);
  await rejects(importArchive(ctx.fresh, hostileTar), "IMAGE_ARCHIVE_INVALID", /outside itself/);
});

importing("a docker layer that does not match the config's diff ID is refused", async (ctx) => {
  const dir = await dockerDir(ctx);
  const manifest = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8"));
  await writeFile(join(dir, manifest[0].Layers[0]), "not the layer");
  await rejects(importArchive(ctx.fresh, dir), "IMAGE_ARCHIVE_INVALID", /config says/);
  assert.equal(await listImages(ctx.fresh), []);
});

importing("an OCI layout blob whose bytes do not match its name is refused", async (ctx) => {
  const layout = join(ctx.dir, "layout");
  await exportOciLayout(ctx.store, ["src:1"], layout);
  const image = await resolveLocalImage(ctx.store, "src:1");
  const layerPath = join(layout, "blobs/sha256", image!.manifest.layers[0]!.digest.slice(7));
  await rm(layerPath);
  await writeFile(layerPath, "tampered");
  await rejects(importArchive(ctx.fresh, layout), "BLOB_DIGEST_MISMATCH");
  // The same through an OCI archive tar.
  const tarFile = join(ctx.dir, "tampered.tar");
  await run("tar", ["-cf", tarFile, "-C", layout, "."]);
  await rejects(importArchive(ctx.fresh, tarFile), "BLOB_DIGEST_MISMATCH");
  assert.equal(await listImages(ctx.fresh), []);
});

importing("an OCI layout missing a layer blob is incomplete", async (ctx) => {
  const layout = join(ctx.dir, "layout");
  await exportOciLayout(ctx.store, ["src:1"], layout);
  const image = await resolveLocalImage(ctx.store, "src:1");
  await rm(join(layout, "blobs/sha256", image!.manifest.layers[0]!.digest.slice(7)));
  await rejects(importArchive(ctx.fresh, layout), "IMAGE_ARCHIVE_INVALID", /lacks blob/);
});

importing("neither format, a truncated tar, a missing path: each its own clear error", async (ctx) => {
  const empty = join(ctx.dir, "empty");
  await mkdir(empty);
  await rejects(importArchive(ctx.fresh, empty), "IMAGE_ARCHIVE_INVALID", /neither an OCI image layout nor a docker save/);
  await rejects(importArchive(ctx.fresh, join(ctx.dir, "missing.tar")), "IMAGE_ARCHIVE_INVALID", /ENOENT/);
  const file = join(ctx.dir, "cut.tar");
  await exportDockerArchive(ctx.store, ["src:1"], file);
  await truncate(file, 1500);
  await rejects(importArchive(ctx.fresh, file), "IMAGE_ARCHIVE_INVALID");
});

importing("an OCI layout entry named only by a full ref.name (our store root) keeps that name", async (ctx) => {
  const [image] = await importArchive(ctx.fresh, ctx.store.root);
  assert.equal(image?.names, ["docker.io/library/src:1"]);
  assert.is(image?.manifestDigest, ctx.manifestDigest);
});

importing.run();
