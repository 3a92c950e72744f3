// Cache shared through a real registry (Debian's docker-registry): two separate store roots, the second
// gets hits for the first one's steps and pulls their layers instead of running them.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recordLayerStep } from "./support.js";
import { Readable } from "node:stream";
import { cacheKey, exportCache, importCache, inlineCacheValue, INLINE_CACHE_FIELD, openCache, type Cache, type CacheInputs } from "../../src/cache/index.js";
import { canonicalJson, hostPlatform, MediaType, openStore, sha256Digest, writeImage, type Store } from "../../src/layers/index.js";
import { createRegistryClient, type RegistryClient } from "../../src/registry/index.js";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";

interface Ctx {
  registry: TestRegistry;
  client: RegistryClient;
  dirs: string[];
}

const remote = suite<Ctx>("remote cache");

remote.before(async (ctx) => {
  ctx.registry = await startRegistry();
  ctx.client = createRegistryClient({});
  ctx.dirs = [];
});
remote.after(async (ctx) => {
  await ctx.client.close();
  await ctx.registry.stop();
  for (const dir of ctx.dirs) await rm(dir, { recursive: true, force: true });
});

async function freshRoot(ctx: Ctx): Promise<{ store: Store; cache: Cache }> {
  const dir = await mkdtemp(join(tmpdir(), "bi-remote-"));
  ctx.dirs.push(dir);
  return { store: await openStore(dir), cache: await openCache(dir) };
}

interface Built {
  key: string;
  chainId: string | null;
  inputs: CacheInputs;
}

/** A RUN-like step with a real snapshot and layer, recorded in the cache. */
async function layerStep(store: Store, cache: Cache, parent: Built | null, name: string): Promise<Built> {
  return recordLayerStep(store, cache, parent, name, { kind: "run", fields: { command: `make ${name}`, env: { PATH: "/bin" } } }, 10_000);
}

async function metaStep(cache: Cache, parent: Built, value: string): Promise<Built> {
  const inputs: CacheInputs = { kind: "meta", fields: { instruction: "ENV", env: { V: value } } };
  const key = cacheKey(parent.key, inputs);
  await cache.put(key, { parent: parent.key, inputs, result: { empty: true, chainId: parent.chainId }, slot: "ctx|Dockerfile|0|meta" });
  return { key, chainId: parent.chainId, inputs };
}

/** On a fresh root: the record hits, its blob is here, and unpacking it gives the recorded chain. */
async function assertUsable(store: Store, cache: Cache, steps: Built[]) {
  let chain: string | null = null;
  for (const step of steps) {
    const record = await cache.get(step.key);
    assert.ok(record, `record ${step.key} imported`);
    if (record.result.empty) continue;
    const layer = record.result.layer!;
    assert.ok(await store.content.has(layer.digest), "layer blob fetched");
    const applied = await store.snapshots.applyLayer(chain, store.content.open(layer.digest), { mediaType: layer.mediaType, diffId: layer.diffId });
    assert.is(applied.chainId, record.result.chainId);
    chain = applied.chainId;
  }
}

remote("mode=max: a second root imports every record and its layers", async (ctx) => {
  const a = await freshRoot(ctx);
  const s1 = await layerStep(a.store, a.cache, null, "one");
  const s2 = await metaStep(a.cache, s1, "x");
  const s3 = await layerStep(a.store, a.cache, s2, "two");
  const side = await layerStep(a.store, a.cache, null, "builder-stage");
  const ref = `${ctx.registry.host}/app:buildcache`;
  const pushed = await exportCache(a.store, a.cache, { client: ctx.client, ref, mode: "max", records: [s1.key, s2.key, s3.key, side.key] });
  assert.is(pushed.records, 4);
  assert.is(pushed.layers, 3);
  assert.match(pushed.digest, /^sha256:/);
  // skopeo, as an outside judge, reads the cache manifest from the registry.
  const raw = JSON.parse(execFileSync("skopeo", ["inspect", "--raw", "--tls-verify=false", "--no-creds", `docker://${ref}`], { encoding: "utf8" }));
  assert.is(raw.config.mediaType, "application/vnd.build-image.cache.config.v1+json");
  assert.is(raw.layers.length, 3);

  const b = await freshRoot(ctx);
  assert.is(await b.cache.get(s3.key), undefined);
  const imported = await importCache(b.store, b.cache, ref, { client: ctx.client });
  assert.equal(imported, { records: 4, layers: 3, rejected: 0 });
  await assertUsable(b.store, b.cache, [s1, s2, s3]);
  assert.ok(await b.cache.get(side.key));
  // Explanations work against imported records too.
  assert.is(await b.cache.explainMiss("imported|" + ref, s2.key, { kind: "run", fields: { command: "make two", env: { PATH: "/usr/bin" } } }), "ENV PATH changed");
  // Importing again adds nothing and fetches nothing.
  assert.equal(await importCache(b.store, b.cache, ref, { client: ctx.client }), { records: 0, layers: 0, rejected: 0 });
});

/** The diff IDs of the image a chain of steps makes. */
async function diffIdsOf(cache: Cache, steps: Built[]): Promise<string[]> {
  const out: string[] = [];
  for (const s of steps) {
    const layer = (await cache.get(s.key))!.result.layer;
    if (layer) out.push(layer.diffId);
  }
  return out;
}

remote("mode=min: only the steps whose result is in the final image", async (ctx) => {
  const a = await freshRoot(ctx);
  const s1 = await layerStep(a.store, a.cache, null, "base");
  const s2 = await metaStep(a.cache, s1, "y");
  const s3 = await layerStep(a.store, a.cache, s2, "app");
  const side = await layerStep(a.store, a.cache, null, "other-stage");
  const ref = `${ctx.registry.host}/app:min`;
  const finalDiffIds = await diffIdsOf(a.cache, [s1, s3]);
  const pushed = await exportCache(a.store, a.cache, { client: ctx.client, ref, mode: "min", records: [s1.key, s2.key, side.key, s3.key], finalDiffIds });
  assert.equal([pushed.records, pushed.layers], [3, 2]);
  const b = await freshRoot(ctx);
  await importCache(b.store, b.cache, ref, { client: ctx.client });
  await assertUsable(b.store, b.cache, [s1, s2, s3]);
  assert.is(await b.cache.get(side.key), undefined);
  const err = await exportCache(a.store, a.cache, { client: ctx.client, ref, mode: "min", records: [s1.key] }).catch((e: unknown) => e);
  assert.is((err as { code: string }).code, "CACHE_EXPORT_INVALID");
});

remote("inline cache: records carried in a pushed image's config", async (ctx) => {
  const a = await freshRoot(ctx);
  const s1 = await layerStep(a.store, a.cache, null, "base");
  const s2 = await layerStep(a.store, a.cache, s1, "app");
  const layers = await Promise.all([s1, s2].map(async (s) => (await a.cache.get(s.key))!.result.layer!));
  const config = {
    architecture: hostPlatform().architecture,
    os: "linux",
    rootfs: { type: "layers" as const, diff_ids: layers.map((l) => l.diffId) },
    [INLINE_CACHE_FIELD]: await inlineCacheValue(a.store, a.cache, { records: [s1.key, s2.key], finalDiffIds: layers.map((l) => l.diffId) }),
  };
  const image = await writeImage(a.store, { config, layers });
  const ref = `${ctx.registry.host}/app:inline`;
  const manifestBytes = await a.store.content.readBuffer(image.manifestDigest);
  const blob = async (digest: string) => ({ digest, size: await a.store.content.size(digest), open: () => a.store.content.open(digest) });
  await ctx.client.pushImage(ref, { manifest: { bytes: manifestBytes, mediaType: MediaType.ociManifest }, blobs: [await blob(image.configDigest), ...(await Promise.all(layers.map((l) => blob(l.digest))))] });

  const b = await freshRoot(ctx);
  assert.equal(await importCache(b.store, b.cache, ref, { client: ctx.client }), { records: 2, layers: 2, rejected: 0 });
  await assertUsable(b.store, b.cache, [s1, s2]);
});

remote("records whose key does not follow from their inputs are rejected; a plain image is an error", async (ctx) => {
  const forged = { version: 1, records: [{ key: "sha256:" + "e".repeat(64), parent: null, inputs: { kind: "run", fields: { command: "x" } }, result: { empty: true, chainId: null } }] };
  const configBytes = Buffer.from(canonicalJson(forged));
  const manifest = Buffer.from(canonicalJson({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: { mediaType: "application/vnd.build-image.cache.config.v1+json", digest: sha256Digest(configBytes), size: configBytes.length }, layers: [] }));
  const ref = `${ctx.registry.host}/app:forged`;
  await ctx.client.pushImage(ref, { manifest: { bytes: manifest, mediaType: MediaType.ociManifest }, blobs: [{ digest: sha256Digest(configBytes), size: configBytes.length, open: () => Readable.from([configBytes]) }] });
  const b = await freshRoot(ctx);
  assert.equal(await importCache(b.store, b.cache, ref, { client: ctx.client }), { records: 0, layers: 0, rejected: 1 });

  const plainConfig = Buffer.from(canonicalJson({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } }));
  const plain = Buffer.from(canonicalJson({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: { mediaType: MediaType.ociConfig, digest: sha256Digest(plainConfig), size: plainConfig.length }, layers: [] }));
  await ctx.client.pushImage(`${ctx.registry.host}/app:plain`, { manifest: { bytes: plain, mediaType: MediaType.ociManifest }, blobs: [{ digest: sha256Digest(plainConfig), size: plainConfig.length, open: () => Readable.from([plainConfig]) }] });
  const err = await importCache(b.store, b.cache, `${ctx.registry.host}/app:plain`, { client: ctx.client }).catch((e: unknown) => e);
  assert.is((err as { code: string }).code, "CACHE_IMPORT_INVALID");
});

remote.run();
