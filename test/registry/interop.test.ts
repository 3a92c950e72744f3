// skopeo and umoci as judges: they read what we push, we read what skopeo pushes (an index too).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { execFile } from "node:child_process";
import { readFile, mkdir, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { startRegistry, type RegistryOptions, type TestRegistry } from "../helpers/registry.js";
import { makeTestImage, makeTestIndex, writeOciLayout, type TestImage } from "../helpers/test-image.js";
import { createRegistryClient, DOCKER_MANIFEST, OCI_INDEX, DOCKER_MANIFEST_LIST } from "../../src/registry/index.js";
import { busyboxImage, clientOptions, sha256, storeBlob, tempDir } from "./fixture.js";

const run = promisify(execFile);
const skopeo = async (...args: string[]): Promise<string> => (await run("skopeo", args, { maxBuffer: 64 << 20 })).stdout;

const it = suite<{ registries: Record<string, TestRegistry>; image: TestImage; dir: string; remove: () => Promise<void> }>("interop");

const configurations: Record<string, RegistryOptions> = { plain: {}, htpasswd: { auth: "htpasswd" }, tls: { tls: true }, token: { auth: "token" } };

it.before(async (context) => {
  const dir = await tempDir();
  context.dir = dir.path;
  context.remove = dir.remove;
  context.image = await busyboxImage();
  context.registries = {};
  for (const [name, options] of Object.entries(configurations)) context.registries[name] = await startRegistry(options);
});
it.after(async ({ registries, remove }) => {
  for (const registry of Object.values(registries ?? {})) await registry.stop();
  await remove?.();
});

it("skopeo inspects what we pushed, in every configuration", async ({ registries, image }) => {
  for (const [name, registry] of Object.entries(registries)) {
    const client = createRegistryClient(clientOptions(registry));
    await client.pushImage(`${registry.host}/interop/ours:1`, { manifest: image.manifest, blobs: image.blobs });
    await client.close();
    const flags = registry.skopeoArgs("src").map((a) => a.replace("--src-", "--"));
    const inspected = JSON.parse(await skopeo("inspect", ...flags, `docker://${registry.host}/interop/ours:1`)) as { Digest: string; Layers: string[]; Architecture: string };
    assert.is(inspected.Digest, image.manifest.digest, name);
    assert.equal(inspected.Layers, image.layers.map((l) => l.digest), name);
    const raw = await skopeo("inspect", "--raw", ...flags, `docker://${registry.host}/interop/ours:1`);
    assert.is(sha256(Buffer.from(raw)), image.manifest.digest, `${name}: the exact manifest bytes`);
  }
});

it("skopeo copies what we pushed into an OCI layout that umoci unpacks", async ({ registries, image, dir }) => {
  const registry = registries.token!;
  const layout = join(dir, "layout");
  await skopeo("copy", ...registry.skopeoArgs("src"), `docker://${registry.host}/interop/ours:1`, `oci:${layout}:ours`);
  const bundle = join(dir, "bundle");
  await run("umoci", ["unpack", "--image", `${layout}:ours`, bundle]);
  assert.ok(existsSync(join(bundle, "rootfs/bin/busybox")));
  assert.is(await readFile(join(bundle, "rootfs/etc/hello"), "utf8"), "hello from the test image\n");
  const config = JSON.parse(await readFile(join(bundle, "config.json"), "utf8")) as { process: { args: string[] } };
  assert.equal(config.process.args, ["/bin/sh"]);
  assert.ok(existsSync(join(layout, "blobs/sha256", image.manifest.digest.slice(7))), "skopeo kept our manifest as is");
});

async function archFile(client: ReturnType<typeof createRegistryClient>, ref: string, layerDigest: string, dir: string): Promise<string> {
  const path = join(dir, `${layerDigest.slice(7, 19)}.tar.gz`);
  await mkdir(dir, { recursive: true });
  await storeBlob(client.fetchBlob(ref, layerDigest), path);
  const out = join(dir, `x-${layerDigest.slice(7, 19)}`);
  await mkdir(out, { recursive: true });
  await run("tar", ["-xzf", path, "-C", out]);
  return readFile(join(out, "etc/arch"), "utf8");
}

/** An OCI layout in `dir` with a two-platform index tagged "multi"; each image's layer holds /etc/arch. */
async function twoPlatformLayout(dir: string) {
  await mkdir(dir);
  const amd64 = await makeTestImage(dir, { architecture: "amd64", busybox: false, layers: [{ "etc/arch": "amd64" }] });
  const arm64 = await makeTestImage(dir, { architecture: "arm64", busybox: false, layers: [{ "etc/arch": "arm64" }] });
  const index = await makeTestIndex(dir, [amd64, arm64]);
  await writeOciLayout(dir, index, "multi");
  return { amd64, arm64, index };
}

it("we pull a two-platform index skopeo pushed, choosing the platform", async ({ registries, dir }) => {
  const source = join(dir, "multi");
  const { amd64, arm64, index } = await twoPlatformLayout(source);
  for (const [name, registry] of Object.entries(registries)) {
    await skopeo("copy", "--all", "--src-tls-verify=false", ...registry.skopeoArgs("dest"), `oci:${source}:multi`, `docker://${registry.host}/interop/multi:1`);
    const client = createRegistryClient(clientOptions(registry));
    try {
      const ref = `${registry.host}/interop/multi:1`;
      const top = await client.getRawManifest(ref);
      assert.is(top.mediaType, OCI_INDEX, name);
      assert.is(top.digest, index.digest, name);
      const arm = await client.getManifest(ref, { platform: { os: "linux", architecture: "arm64" } });
      assert.is(arm.digest, arm64.manifest.digest, name);
      assert.is(arm.index?.digest, index.digest);
      assert.equal(arm.platform, { os: "linux", architecture: "arm64", variant: "v8" });
      const amd = await client.getManifest(ref, { platform: { os: "linux", architecture: "amd64" } });
      assert.is(amd.digest, amd64.manifest.digest, name);
      const layers = (arm.manifest as { layers: { digest: string }[] }).layers;
      assert.is(await archFile(client, ref, layers[0]!.digest, join(dir, name)), "arm64");
      const missing = await client.getManifest(ref, { platform: { os: "linux", architecture: "s390x" } }).catch((e: Error & { code: string }) => e);
      assert.is((missing as { code?: string }).code, "REGISTRY_PLATFORM_NOT_FOUND");
      assert.match((missing as Error).message, "linux/amd64, linux/arm64/v8");
    } finally {
      await client.close();
    }
  }
});

it("we pull Docker schema 2 manifests and manifest lists skopeo converted", async ({ registries, image, dir }) => {
  const registry = registries.plain!;
  const multi = join(dir, "multi-v2s2");
  await twoPlatformLayout(multi);
  const layoutDir = join(dir, "ours-layout");
  await mkdir(join(layoutDir, "blobs/sha256"), { recursive: true });
  for (const blob of [...image.blobs]) await writeFile(join(layoutDir, "blobs/sha256", blob.digest.slice(7)), await readFile(blob.path));
  await writeFile(join(layoutDir, "blobs/sha256", image.manifest.digest.slice(7)), image.manifest.bytes);
  await writeOciLayout(layoutDir, image.manifest, "v2s2");
  await skopeo("copy", "--format", "v2s2", ...registry.skopeoArgs("dest"), `oci:${layoutDir}:v2s2`, `docker://${registry.host}/interop/docker:1`);
  const client = createRegistryClient(clientOptions(registry));
  try {
    const pulled = await client.getManifest(`${registry.host}/interop/docker:1`);
    assert.is(pulled.mediaType, DOCKER_MANIFEST);
    const layers = (pulled.manifest as { layers: { digest: string; size: number }[] }).layers;
    for (const layer of layers) await storeBlob(client.fetchBlob(`${registry.host}/interop/docker:1`, layer.digest, { size: layer.size }), join(dir, "docker-layer"));
    // From the two-platform OCI index, --all --format v2s2 makes a Docker manifest list.
    await skopeo("copy", "--all", "--format", "v2s2", ...registry.skopeoArgs("dest"), `oci:${multi}:multi`, `docker://${registry.host}/interop/docker-list:1`);
    const list = await client.getRawManifest(`${registry.host}/interop/docker-list:1`);
    assert.is(list.mediaType, DOCKER_MANIFEST_LIST);
    const arm = await client.getManifest(`${registry.host}/interop/docker-list:1`, { platform: { os: "linux", architecture: "arm64", variant: "v8" } });
    assert.is(arm.mediaType, DOCKER_MANIFEST);
    assert.equal(arm.platform, { os: "linux", architecture: "arm64", variant: "v8" });
  } finally {
    await client.close();
  }
});

it("we push an image index; skopeo copies every platform of it", async ({ registries, dir }) => {
  const registry = registries.htpasswd!;
  const { amd64, arm64, index } = await twoPlatformLayout(join(dir, "multi-ours"));
  const client = createRegistryClient(clientOptions(registry));
  try {
    const result = await client.pushImage(`${registry.host}/interop/our-index:1`, {
      manifest: index,
      manifests: [amd64.manifest, arm64.manifest],
      blobs: [...amd64.blobs, ...arm64.blobs],
      tags: ["latest"],
    });
    assert.is(result.digest, index.digest);
  } finally {
    await client.close();
  }
  const flags = registry.skopeoArgs("src").map((a) => a.replace("--src-", "--"));
  const raw = await skopeo("inspect", "--raw", ...flags, `docker://${registry.host}/interop/our-index:latest`);
  assert.is(sha256(Buffer.from(raw)), index.digest);
  const layout = join(dir, "our-index-copy");
  await skopeo("copy", "--all", ...registry.skopeoArgs("src"), `docker://${registry.host}/interop/our-index:1`, `oci:${layout}:copy`);
  for (const image of [amd64, arm64]) assert.ok(existsSync(join(layout, "blobs/sha256", image.layers[0]!.digest.slice(7))));
});

it.run();
