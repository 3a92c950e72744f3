import { suite } from "uvu";
import * as assert from "uvu/assert";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { openContentStore } from "../../src/layers/content-store.js";
import { sha256Digest } from "../../src/layers/digest.js";
import { parseImageConfig, type ImageConfig } from "../../src/layers/image-config.js";
import { normalizeImageName, shortImageName } from "../../src/layers/image-name.js";
import { writeImage, type ImageStore } from "../../src/layers/image-store.js";
import { addUntaggedImage, listImages, readLocalIndex, removeImage, resolveLocalImage, tagImage } from "../../src/layers/local-images.js";
import { dockerToOciManifest, parseManifest } from "../../src/layers/manifest.js";
import { MediaType } from "../../src/layers/media-types.js";
import { defaultRoot } from "../../src/layers/default-root.js";

const run = promisify(execFile);

interface Ctx {
  dir: string;
  store: ImageStore;
}

const images = suite<Ctx>("images");

images.before.each(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), "bi-images-"));
  ctx.store = { root: ctx.dir, content: await openContentStore(ctx.dir) };
});
images.after.each(async (ctx) => {
  await rm(ctx.dir, { recursive: true, force: true });
});

/** A one-layer image whose layer is just bytes (the format code never unpacks it). */
async function makeImage(store: ImageStore, label: string) {
  const layer = await store.content.writeBuffer(`layer ${label}`);
  const config: ImageConfig = {
    architecture: "amd64",
    os: "linux",
    created: "2024-01-01T00:00:00Z",
    config: { Env: ["PATH=/bin"], Cmd: ["sh"], Labels: { which: label }, Healthcheck: { Test: ["CMD", "true"], Interval: 30e9 }, OnBuild: ["RUN x"], Shell: ["/bin/sh", "-c"] },
    rootfs: { type: "layers", diff_ids: [layer.digest] },
    history: [{ created_by: "test", comment: label }, { created_by: "ENV", empty_layer: true }],
  };
  return writeImage(store, { config, layers: [{ ...layer, mediaType: MediaType.ociLayer }] });
}

images("image names normalise like Docker's and shorten back", () => {
  assert.is(normalizeImageName("app"), "docker.io/library/app:latest");
  assert.is(normalizeImageName("team/app:1"), "docker.io/team/app:1");
  assert.is(normalizeImageName("127.0.0.1:5000/app"), "127.0.0.1:5000/app:latest");
  assert.is(normalizeImageName("localhost/a/b:x"), "localhost/a/b:x");
  assert.is(normalizeImageName("index.docker.io/library/app:2"), "docker.io/library/app:2");
  assert.is(shortImageName("docker.io/library/app:latest"), "app:latest");
  assert.is(shortImageName("docker.io/team/app:1"), "team/app:1");
  assert.is(shortImageName("127.0.0.1:5000/app:latest"), "127.0.0.1:5000/app:latest");
  for (const bad of ["App", "app:", "a//b", "app:-x", "app@sha256:12", ":tag"]) {
    try {
      normalizeImageName(bad);
      assert.unreachable(`${bad} accepted`);
    } catch (err) {
      assert.is((err as { code?: string }).code, "IMAGE_NAME_INVALID", bad);
    }
  }
});

images("writeImage writes canonical JSON: same input, same digests", async ({ store }) => {
  const a = await makeImage(store, "x");
  const b = await makeImage(store, "x");
  assert.is(a.manifestDigest, b.manifestDigest);
  const bytes = await store.content.readBuffer(a.configDigest);
  assert.is(sha256Digest(bytes), a.configDigest);
  const text = bytes.toString();
  assert.ok(text.indexOf('"architecture"') < text.indexOf('"config"') && text.indexOf('"config"') < text.indexOf('"os"'), "keys sorted");
  const config = parseImageConfig(bytes);
  assert.equal(config.config?.Healthcheck, { Test: ["CMD", "true"], Interval: 30e9 });
  assert.equal(config.history?.[1], { created_by: "ENV", empty_layer: true });
  const manifest = parseManifest(await store.content.readBuffer(a.manifestDigest));
  assert.is(manifest.kind, "manifest");
});

images("writeImage refuses a config whose diff IDs do not match the layers", async ({ store }) => {
  const config = parseImageConfig({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } });
  const layer = await store.content.writeBuffer("x");
  await writeImage(store, { config, layers: [{ ...layer, mediaType: MediaType.ociLayer }] }).then(
    () => assert.unreachable(),
    (err) => assert.is(err.code, "IMAGE_FORMAT_INVALID"),
  );
});

images("Docker configs with nulls and extra fields parse and keep the extras", () => {
  const docker = {
    architecture: "amd64",
    os: "linux",
    docker_version: "24.0.0",
    container_config: { Hostname: "abc" },
    config: { Env: null, Cmd: ["sh"], Volumes: null, Hostname: "" },
    rootfs: { type: "layers", diff_ids: [`sha256:${"a".repeat(64)}`] },
  };
  const config = parseImageConfig(JSON.stringify(docker));
  assert.is(config.config?.Env, undefined);
  assert.equal(config.config?.Cmd, ["sh"]);
  assert.is((config as Record<string, unknown>).docker_version, "24.0.0");
});

images("Docker schema2 manifests and lists parse, and convert to OCI media types", () => {
  const d = `sha256:${"b".repeat(64)}`;
  const docker = {
    schemaVersion: 2,
    mediaType: MediaType.dockerManifest,
    config: { mediaType: MediaType.dockerConfig, digest: d, size: 10 },
    layers: [{ mediaType: MediaType.dockerLayerGzip, digest: d, size: 20 }],
  };
  const parsed = parseManifest(JSON.stringify(docker));
  assert.is(parsed.kind, "manifest");
  if (parsed.kind !== "manifest") return;
  const oci = dockerToOciManifest(parsed.manifest);
  assert.is(oci.mediaType, MediaType.ociManifest);
  assert.is(oci.config.mediaType, MediaType.ociConfig);
  assert.is(oci.layers[0]!.mediaType, MediaType.ociLayerGzip);
  const list = parseManifest({ schemaVersion: 2, mediaType: MediaType.dockerManifestList, manifests: [{ mediaType: MediaType.dockerManifest, digest: d, size: 1, platform: { architecture: "arm64", os: "linux" } }] });
  assert.is(list.kind, "index");
  // No media type: the shape decides.
  assert.is(parseManifest({ schemaVersion: 2, manifests: [] }).kind, "index");
  for (const bad of [{ schemaVersion: 1, name: "x" }, { schemaVersion: 2, mediaType: "text/plain", layers: [] }, "not json"]) {
    try {
      parseManifest(typeof bad === "string" ? bad : JSON.stringify(bad));
      assert.unreachable();
    } catch (err) {
      assert.is((err as { code?: string }).code, "IMAGE_FORMAT_INVALID");
    }
  }
});

images("tag, resolve by name, ID prefix and digest, list, untag, remove", async ({ store }) => {
  const one = await makeImage(store, "one");
  const two = await makeImage(store, "two");
  assert.is(await tagImage(store, "app", one.manifestDigest), "docker.io/library/app:latest");
  await tagImage(store, "app:1", one.manifestDigest);
  await tagImage(store, "127.0.0.1:5000/other:x", two.manifestDigest);

  const index = await readLocalIndex(store.root);
  assert.is(index.manifests.length, 3);
  assert.ok(index.manifests.every((m) => m.annotations?.["org.opencontainers.image.ref.name"]?.includes("/")));
  assert.is(JSON.parse(await readFile(join(store.root, "oci-layout"), "utf8")).imageLayoutVersion, "1.0.0");

  const byName = await resolveLocalImage(store, "app");
  assert.is(byName?.manifestDigest, one.manifestDigest);
  assert.is(byName?.config.config?.Labels?.which, "one");
  assert.is((await resolveLocalImage(store, "docker.io/library/app:1"))?.manifestDigest, one.manifestDigest);
  assert.is((await resolveLocalImage(store, one.configDigest.slice(7, 19)))?.manifestDigest, one.manifestDigest);
  assert.is((await resolveLocalImage(store, two.manifestDigest))?.configDigest, two.configDigest);
  assert.is((await resolveLocalImage(store, `app@${two.manifestDigest}`))?.manifestDigest, two.manifestDigest);
  assert.is(await resolveLocalImage(store, "nothing"), undefined);

  // Re-tagging moves the name.
  await tagImage(store, "app:1", two.manifestDigest);
  assert.is((await resolveLocalImage(store, "app:1"))?.manifestDigest, two.manifestDigest);

  const listed = await listImages(store);
  assert.equal(listed.map((i) => i.shortName), ["127.0.0.1:5000/other:x", "app:1", "app:latest"]);
  assert.is(listed[2]!.configDigest, one.configDigest);
  assert.is(listed[2]!.repository, "app");
  assert.ok((listed[2]!.size ?? 0) > 0);

  assert.equal(await removeImage(store, "app"), { untagged: ["docker.io/library/app:latest"], deleted: [one.manifestDigest] });
  // By ID: every name of the image goes.
  const removed = await removeImage(store, two.configDigest);
  assert.equal(removed.untagged.sort(), ["127.0.0.1:5000/other:x", "docker.io/library/app:1"]);
  assert.equal(removed.deleted, [two.manifestDigest]);
  assert.is((await listImages(store)).length, 0);
  await removeImage(store, "app").then(() => assert.unreachable(), (err) => assert.is(err.code, "IMAGE_NOT_FOUND"));
});

images("an untagged image is listed as such, and tagging it replaces the untagged entry", async ({ store }) => {
  const one = await makeImage(store, "one");
  await addUntaggedImage(store, one.manifestDigest);
  await addUntaggedImage(store, one.manifestDigest);
  const listed = await listImages(store);
  assert.is(listed.length, 1);
  assert.is(listed[0]!.name, undefined);
  assert.is(listed[0]!.configDigest, one.configDigest);
  await tagImage(store, "named", one.manifestDigest);
  assert.equal((await listImages(store)).map((i) => i.shortName), ["named:latest"]);
});

images("tags from many processes at once are all kept (index lock)", async ({ store, dir }) => {
  const one = await makeImage(store, "one");
  const script = join(dir, "tagger.mts");
  const src = new URL("../../src/layers/", import.meta.url).pathname;
  await writeFile(
    script,
    `import { openContentStore } from "${src}content-store.js";
import { tagImage } from "${src}local-images.js";
const root = process.argv[2]!;
const store = { root, content: await openContentStore(root) };
for (let i = 0; i < 10; i++) await tagImage(store, \`app:\${process.argv[3]}-\${i}\`, process.argv[4]!);
`,
  );
  const workers = ["a", "b", "c"].map((w) => run(process.execPath, ["--import", "tsx", script, dir, w, one.manifestDigest]));
  const local = (async () => {
    for (let i = 0; i < 10; i++) await tagImage(store, `app:local-${i}`, one.manifestDigest);
  })();
  await Promise.all([...workers, local]);
  assert.is((await listImages(store)).length, 40);
});

images("a lock left by a killed process is taken over", async ({ store }) => {
  const one = await makeImage(store, "one");
  await writeFile(join(store.root, "index.json.lock"), "999999999.1\n");
  await tagImage(store, "app", one.manifestDigest, { timeoutMs: 2000 });
  assert.is((await listImages(store)).length, 1);
});

images("defaultRoot: env, root user, XDG", () => {
  assert.is(defaultRoot({ BUILD_IMAGE_ROOT: "/x" }, 1000), "/x");
  assert.is(defaultRoot({}, 0), "/var/lib/build-image");
  assert.is(defaultRoot({ XDG_DATA_HOME: "/d" }, 1000), "/d/build-image");
  assert.is(defaultRoot({ HOME: "/home/u" }, 1000), "/home/u/.local/share/build-image");
});

images.run();
