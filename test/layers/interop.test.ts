// Real tools judge our images: umoci unpacks our OCI layouts, skopeo inspects them and our docker-save
// tars, GNU tar lists our layers; what we export and import back unpacks to the same tree.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { exportDockerArchive, exportOciArchive, exportOciLayout } from "../../src/layers/export.js";
import { importArchive } from "../../src/layers/import.js";
import { listImages, resolveLocalImage, tagImage } from "../../src/layers/local-images.js";
import { openStore, type Store } from "../../src/layers/store.js";
import { describeChain, describeTree, makeTestImage, type TestImage } from "./images-fixture.js";

const run = promisify(execFile);

interface Ctx {
  dir: string;
  store: Store;
  image: TestImage;
  expected: Record<string, string>;
}

const interop = suite<Ctx>("interop");

const freshStore = (dir: string, name: string) => openStore(join(dir, name));

/** Unpacks an image's layers with our snapshotter (applyLayer, one by one) and describes the tree. */
async function unpackWithSnapshotter(store: Store, name: string): Promise<Record<string, string>> {
  const image = await resolveLocalImage(store, name);
  assert.ok(image, name);
  let chainId: string | null = null;
  for (const [i, layer] of image.manifest.layers.entries()) {
    ({ chainId } = await store.snapshots.applyLayer(chainId, store.content.open(layer.digest), { mediaType: layer.mediaType, diffId: image.config.rootfs.diff_ids[i]! }));
  }
  return describeChain(store, chainId!);
}

interop.before(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), "bi-interop-"));
  ctx.store = await freshStore(ctx.dir, "root");
  ctx.image = await makeTestImage(ctx.store);
  ctx.expected = await describeChain(ctx.store, ctx.image.chainId);
  await tagImage(ctx.store, "fixture:1", ctx.image.manifestDigest);
  await tagImage(ctx.store, "127.0.0.1:5000/team/fixture", ctx.image.manifestDigest);
});
interop.after(async (ctx) => {
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

interop("OCI layout export: umoci unpacks the same tree, skopeo inspects it", async ({ dir, store, expected }) => {
  const layout = join(dir, "layout");
  await exportOciLayout(store, ["fixture:1"], layout);
  const { stdout } = await run("skopeo", ["inspect", `oci:${layout}:1`]);
  const info = JSON.parse(stdout);
  assert.is(info.Layers.length, 4);
  assert.is(info.Labels.fixture, "yes");
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

interop("docker save tar: skopeo inspects it, and it imports back to the same tree", async ({ dir, store, image, expected }) => {
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
  assert.equal(await umociUnpack(layout, "1", join(dir, "bundle-docker")), expected);
  assert.equal(await unpackWithSnapshotter(fresh, "fixture:1"), expected, "our own unpack of the uncompressed docker layers");
});

interop("OCI archive and layout import back into a fresh root with names, identical digests and the same tree", async ({ dir, store, image, expected }) => {
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
    assert.equal(await unpackWithSnapshotter(fresh, "fixture:1"), expected, name);
  }
});

interop("skopeo's own copies import: docker-archive names, an OCI layout with a bare tag stays untagged", async ({ dir, store, expected }) => {
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
  assert.equal(await umociUnpack(layout, "2", join(dir, "bundle-skopeo")), expected);
});

interop.run();
