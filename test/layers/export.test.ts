import { suite } from "uvu";
import * as assert from "uvu/assert";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { openContentStore } from "../../src/layers/content-store.js";
import { exportDockerArchive, exportOciArchive, exportOciLayout } from "../../src/layers/export.js";
import { hostPlatform } from "../../src/layers/image-platform.js";
import { writeImage, type ImageStore } from "../../src/layers/image-store.js";
import { importArchive } from "../../src/layers/import.js";
import { readLocalIndex, resolveLocalImage, tagImage } from "../../src/layers/local-images.js";
import { canonicalJson } from "../../src/layers/canonical-json.js";
import { MediaType } from "../../src/layers/media-types.js";

const run = promisify(execFile);

interface Ctx {
  dir: string;
  store: ImageStore;
}

const exporting = suite<Ctx>("export");

exporting.before.each(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), "bi-export-"));
  const root = join(ctx.dir, "root");
  ctx.store = { root, content: await openContentStore(root) };
});
exporting.after.each(async (ctx) => {
  await rm(ctx.dir, { recursive: true, force: true });
});

const sha256 = (data: Buffer) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

/** A layer made by GNU tar from a small tree, compressed with the given tool. */
async function tarLayer(store: ImageStore, dir: string, name: string, compress: "none" | "gzip" | "zstd") {
  const tree = join(dir, `tree-${name}`);
  await mkdir(join(tree, "data"), { recursive: true });
  await writeFile(join(tree, "data", name), `${name}\n`.repeat(1000));
  const tarFile = join(dir, `${name}.tar`);
  await run("tar", ["-cf", tarFile, "--numeric-owner", "--sort=name", "--mtime=@0", "-C", tree, "."]);
  const tar = await readFile(tarFile);
  const blobFile = compress === "none" ? tarFile : `${tarFile}.${compress === "gzip" ? "gz" : "zst"}`;
  if (compress === "gzip") await run("gzip", ["-kn", tarFile]);
  if (compress === "zstd") await run("zstd", ["-q", tarFile, "-o", blobFile]);
  const blob = await store.content.writeBuffer(await readFile(blobFile));
  const mediaType = { none: MediaType.ociLayer, gzip: MediaType.ociLayerGzip, zstd: MediaType.ociLayerZstd }[compress];
  return { layer: { ...blob, mediaType }, diffId: sha256(tar) };
}

async function imageOf(store: ImageStore, layers: Awaited<ReturnType<typeof tarLayer>>[], label: string) {
  const { os, architecture } = hostPlatform();
  return writeImage(store, {
    config: { os, architecture, config: { Labels: { label } }, rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) } },
    layers: layers.map((l) => l.layer),
  });
}

exporting("docker save tar decompresses gzip and zstd layers into tars matching the diff IDs", async ({ dir, store }) => {
  const layers = [await tarLayer(store, dir, "a", "gzip"), await tarLayer(store, dir, "b", "zstd"), await tarLayer(store, dir, "c", "none")];
  const image = await imageOf(store, layers, "mixed");
  await tagImage(store, "mixed", image.manifestDigest);
  const file = join(dir, "mixed.tar");
  const manifest = await exportDockerArchive(store, ["mixed"], file);
  assert.equal(manifest[0]!.Layers, layers.map((l) => `${l.diffId.slice(7)}/layer.tar`));
  const out = join(dir, "unpacked");
  await mkdir(out);
  await run("tar", ["-xf", file, "-C", out]);
  for (const l of layers) assert.is(sha256(await readFile(join(out, l.diffId.slice(7), "layer.tar"))), l.diffId);
  assert.equal(JSON.parse(await readFile(join(out, "repositories"), "utf8")), { mixed: { latest: layers[2]!.diffId.slice(7) } });
  const inspected = JSON.parse((await run("skopeo", ["inspect", `docker-archive:${file}`])).stdout);
  assert.is(inspected.Labels.label, "mixed");
});

exporting("a layer whose bytes do not decompress to its diff ID is refused, and no archive is left", async ({ dir, store }) => {
  const good = await tarLayer(store, dir, "a", "gzip");
  const image = await imageOf(store, [{ ...good, diffId: `sha256:${"0".repeat(64)}` }], "broken");
  const file = join(dir, "broken.tar");
  await exportDockerArchive(store, [image.manifestDigest], file).then(
    () => assert.unreachable(),
    (err) => assert.is(err.code, "IMAGE_FORMAT_INVALID"),
  );
  await readFile(file).then(() => assert.unreachable("partial archive left"), (err) => assert.is(err.code, "ENOENT"));
});

exporting("archives are deterministic: the same images give the same bytes", async ({ dir, store }) => {
  const image = await imageOf(store, [await tarLayer(store, dir, "a", "gzip")], "det");
  await tagImage(store, "det:1", image.manifestDigest);
  for (const exporter of [exportOciArchive, exportDockerArchive]) {
    await exporter(store, ["det:1"], join(dir, "one.tar"));
    await exporter(store, ["det:1"], join(dir, "two.tar"));
    assert.is(sha256(await readFile(join(dir, "one.tar"))), sha256(await readFile(join(dir, "two.tar"))), exporter.name);
  }
});

exporting("exporting into an existing layout keeps its other images and replaces a same name", async ({ dir, store }) => {
  const one = await imageOf(store, [await tarLayer(store, dir, "a", "gzip")], "one");
  const two = await imageOf(store, [await tarLayer(store, dir, "b", "gzip")], "two");
  await tagImage(store, "app:1", one.manifestDigest);
  await tagImage(store, "app:2", two.manifestDigest);
  const layout = join(dir, "layout");
  await exportOciLayout(store, ["app:1", "app:2"], layout);
  await tagImage(store, "app:1", two.manifestDigest);
  const index = await exportOciLayout(store, ["app:1"], layout);
  assert.equal(
    index.manifests.map((m) => [m.annotations?.["io.containerd.image.name"], m.annotations?.["org.opencontainers.image.ref.name"], m.digest]).sort(),
    [["docker.io/library/app:1", "1", two.manifestDigest], ["docker.io/library/app:2", "2", two.manifestDigest]].sort(),
  );
  assert.equal(await readLocalIndex(layout), index);
  await run("umoci", ["stat", "--image", `${layout}:2`]);
});

exporting("an image named by an index exports as this platform's manifest", async ({ dir, store }) => {
  const mine = await imageOf(store, [await tarLayer(store, dir, "a", "gzip")], "mine");
  const index = await store.content.writeBuffer(
    canonicalJson({
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [
        { mediaType: MediaType.ociManifest, digest: `sha256:${"e".repeat(64)}`, size: 100, platform: { os: "linux", architecture: "s390x-absent" } },
        { mediaType: MediaType.ociManifest, digest: mine.manifestDigest, size: mine.manifestSize, platform: hostPlatform() },
      ],
    }),
  );
  await tagImage(store, "multi", index.digest);
  const resolved = await resolveLocalImage(store, "multi");
  assert.is(resolved?.indexDigest, index.digest);
  assert.is(resolved?.manifestDigest, mine.manifestDigest);
  const layout = join(dir, "multi-layout");
  const written = await exportOciLayout(store, ["multi"], layout);
  assert.is(written.manifests[0]!.digest, mine.manifestDigest);
  await resolveLocalImage(store, "multi", { platform: { os: "linux", architecture: "s390x-absent" } }).then(
    () => assert.unreachable(),
    (err) => assert.is(err.code, "IMAGE_NOT_FOUND"),
  );
});

exporting("a Docker schema2 image exports as the same image with OCI media types, which umoci unpacks", async ({ dir, store }) => {
  const { layer, diffId } = await tarLayer(store, dir, "a", "gzip");
  const { os, architecture } = hostPlatform();
  const config = await store.content.writeBuffer(JSON.stringify({ os, architecture, docker_version: "24", rootfs: { type: "layers", diff_ids: [diffId] } }));
  const docker = await store.content.writeBuffer(
    canonicalJson({
      schemaVersion: 2,
      mediaType: MediaType.dockerManifest,
      config: { mediaType: MediaType.dockerConfig, digest: config.digest, size: config.size },
      layers: [{ mediaType: MediaType.dockerLayerGzip, digest: layer.digest, size: layer.size }],
    }),
  );
  await tagImage(store, "pulled", docker.digest);
  const blobsBefore = await store.content.list();
  const layout = join(dir, "docker-layout");
  const index = await exportOciLayout(store, ["pulled"], layout);
  assert.is.not(index.manifests[0]!.digest, docker.digest);
  assert.is(index.manifests[0]!.mediaType, MediaType.ociManifest);
  assert.equal(await store.content.list(), blobsBefore, "the store is not changed");
  await run("umoci", ["unpack", "--image", `${layout}:latest`, join(dir, "bundle")]);
  assert.is(await readFile(join(dir, "bundle/rootfs/data/a"), "utf8"), "a\n".repeat(1000));
  const archive = join(dir, "docker-as-oci.tar");
  await exportOciArchive(store, ["pulled"], archive);
  const raw = JSON.parse((await run("skopeo", ["inspect", "--raw", `oci-archive:${archive}:latest`])).stdout);
  assert.is(raw.layers[0].mediaType, MediaType.ociLayerGzip);
  assert.is(raw.config.digest, config.digest, "config bytes unchanged");
});

exporting("exporting an unknown image fails before writing", async ({ dir, store }) => {
  await exportOciArchive(store, ["ghost"], join(dir, "x.tar")).then(() => assert.unreachable(), (err) => assert.is(err.code, "IMAGE_NOT_FOUND"));
});

exporting("a gzip-compressed docker save tar loads", async ({ dir, store }) => {
  const image = await imageOf(store, [await tarLayer(store, dir, "a", "gzip")], "gz");
  await tagImage(store, "gz", image.manifestDigest);
  const file = join(dir, "gz.tar");
  await exportDockerArchive(store, ["gz"], file);
  await run("gzip", ["-n", file]);
  const root = join(dir, "fresh");
  const fresh = { root, content: await openContentStore(root) };
  const [loaded] = await importArchive(fresh, `${file}.gz`);
  assert.equal(loaded?.names, ["docker.io/library/gz:latest"]);
  const back = await resolveLocalImage(fresh, "gz");
  assert.is(back?.configDigest, image.configDigest);
  assert.is(back?.manifest.layers[0]?.mediaType, MediaType.ociLayer, "docker save layers are plain tars");
});

exporting.run();
