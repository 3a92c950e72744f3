// Real tools judge our images: umoci unpacks our OCI layouts, skopeo inspects them and our docker-save
// tars, GNU tar lists our layers; what we export and import back unpacks to the same tree.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { openContentStore } from "../../src/layers/content-store.js";
import { exportDockerArchive, exportOciArchive, exportOciLayout } from "../../src/layers/export.js";
import type { ImageStore } from "../../src/layers/image-store.js";
import { importArchive } from "../../src/layers/import.js";
import { listImages, resolveLocalImage, tagImage } from "../../src/layers/local-images.js";
import { describeTree, makeTestImage, type TestImage } from "./images-fixture.js";

const run = promisify(execFile);

interface Ctx {
  dir: string;
  store: ImageStore;
  image: TestImage;
}

const interop = suite<Ctx>("interop");

async function freshStore(dir: string, name: string): Promise<ImageStore> {
  const root = join(dir, name);
  return { root, content: await openContentStore(root) };
}

interop.before(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), "bi-interop-"));
  ctx.store = await freshStore(ctx.dir, "root");
  ctx.image = await makeTestImage(ctx.store);
  await tagImage(ctx.store, "fixture:1", ctx.image.manifestDigest);
  await tagImage(ctx.store, "127.0.0.1:5000/team/fixture", ctx.image.manifestDigest);
});
interop.after(async (ctx) => {
  await ctx.image?.cleanup();
  await rm(ctx.dir, { recursive: true, force: true });
});

async function umociUnpack(layout: string, tag: string, bundle: string): Promise<Record<string, string>> {
  await run("umoci", ["unpack", "--image", `${layout}:${tag}`, bundle]);
  return describeTree(join(bundle, "rootfs"));
}

interop("the store root itself is an OCI layout skopeo reads", async ({ store, image }) => {
  const { stdout } = await run("skopeo", ["inspect", "--raw", `oci:${store.root}:docker.io/library/fixture:1`]);
  assert.is(JSON.parse(stdout).config.digest, image.configDigest);
});

interop("OCI layout export: umoci unpacks the same tree, skopeo inspects it", async ({ dir, store, image }) => {
  const layout = join(dir, "layout");
  await exportOciLayout(store, ["fixture:1"], layout);
  const { stdout } = await run("skopeo", ["inspect", `oci:${layout}:1`]);
  const info = JSON.parse(stdout);
  assert.is(info.Layers.length, 4);
  assert.is(info.Labels.fixture, "yes");
  const expected = await describeTree(image.expectedRoot);
  const got = await umociUnpack(layout, "1", join(dir, "bundle-layout"));
  assert.equal(got, expected);
  assert.not.ok("etc/secret" in got, "deleted file stays deleted");
  assert.is(got["opt/app/new"]?.split(" ")[0], "file");
  assert.not.ok("opt/app/old" in got, "replaced directory has none of its old entries");
  assert.match(got["etc/motd"]!, / 600 1000:50$/);
  assert.match(got["bin/sh"]!, /^link -> /);
});

interop("tar -tvf lists the whiteout and the opaque marker", async ({ store, image }) => {
  const list = async (i: number) => (await run("tar", ["-tvzf", store.content.path(image.layers[i]!.digest)])).stdout;
  assert.match(await list(1), /etc\/\.wh\.secret/);
  assert.match(await list(2), /opt\/app\/\.wh\.\.wh\.\.opq/);
  const chmodLayer = await list(3);
  assert.match(chmodLayer, /-rw------- 1000\/50 .* etc\/motd/);
});

interop("docker save tar: skopeo inspects it, and it imports back to the same tree", async ({ dir, store, image }) => {
  const file = join(dir, "image-docker.tar");
  const manifest = await exportDockerArchive(store, ["fixture:1", "127.0.0.1:5000/team/fixture"], file);
  assert.equal(manifest.map((m) => m.RepoTags), [["fixture:1"], ["127.0.0.1:5000/team/fixture:latest"]]);
  const { stdout } = await run("skopeo", ["inspect", `docker-archive:${file}:fixture:1`]);
  assert.is(JSON.parse(stdout).Layers.length, 4);
  const tarList = (await run("tar", ["-tf", file])).stdout.split("\n");
  assert.ok(tarList.includes("manifest.json") && tarList.includes("repositories"));

  const fresh = await freshStore(dir, "from-docker");
  const imported = await importArchive(fresh, file);
  assert.equal(imported.map((i) => i.names), [["docker.io/library/fixture:1"], ["127.0.0.1:5000/team/fixture:latest"]]);
  const back = await resolveLocalImage(fresh, "fixture:1");
  assert.is(back?.configDigest, image.configDigest, "the config bytes, hence the image ID, survive");
  const layout = join(dir, "layout-from-docker");
  await exportOciLayout(fresh, ["fixture:1"], layout);
  assert.equal(await umociUnpack(layout, "1", join(dir, "bundle-docker")), await describeTree(image.expectedRoot));
});

interop("OCI archive and layout import back into a fresh root with names and identical digests", async ({ dir, store, image }) => {
  const file = join(dir, "image-oci.tar");
  await exportOciArchive(store, ["fixture:1", "127.0.0.1:5000/team/fixture"], file);
  const { stdout } = await run("skopeo", ["inspect", "--raw", `oci-archive:${file}:1`]);
  assert.is(JSON.parse(stdout).config.digest, image.configDigest);
  for (const [name, source] of [["from-oci-archive", file], ["from-oci-layout", join(dir, "layout")]] as const) {
    const fresh = await freshStore(dir, name);
    const imported = await importArchive(fresh, source);
    assert.ok(imported.every((i) => i.manifestDigest === image.manifestDigest), name);
    assert.is((await resolveLocalImage(fresh, "fixture:1"))?.manifestDigest, image.manifestDigest, name);
    const fsck = await fresh.content.fsck();
    assert.ok(fsck.ok, name);
  }
});

interop("skopeo's own copies import: docker-archive names, an OCI layout with a bare tag stays untagged", async ({ dir, store, image }) => {
  const dockerTar = join(dir, "skopeo-docker.tar");
  await run("skopeo", ["copy", `oci:${store.root}:docker.io/library/fixture:1`, `docker-archive:${dockerTar}:skopeo/copy:2`]);
  const fresh = await freshStore(dir, "from-skopeo");
  const [fromTar] = await importArchive(fresh, dockerTar);
  assert.equal(fromTar?.names, ["docker.io/skopeo/copy:2"]);
  const skopeoLayout = join(dir, "skopeo-layout");
  await run("skopeo", ["copy", `oci:${store.root}:docker.io/library/fixture:1`, `oci:${skopeoLayout}:v9`]);
  const [fromLayout] = await importArchive(fresh, skopeoLayout);
  assert.equal(fromLayout?.names, []);
  const listed = await listImages(fresh);
  assert.ok(listed.some((i) => i.name === undefined && i.manifestDigest === fromLayout!.manifestDigest), "kept untagged");
  const layout = join(dir, "layout-from-skopeo");
  await exportOciLayout(fresh, ["skopeo/copy:2"], layout);
  assert.equal(await umociUnpack(layout, "2", join(dir, "bundle-skopeo")), await describeTree(image.expectedRoot));
});

interop.run();
