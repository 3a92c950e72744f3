import { test } from "uvu";
import * as assert from "uvu/assert";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recordLayerStep } from "./support.js";
import { acquireCacheMount, du, openCache, prune, type Cache } from "../../src/cache/index.js";
import { hostPlatform, openStore, tagImage, writeImage, type Store } from "../../src/layers/index.js";

const HOUR = 3_600_000;

async function withStore(fn: (store: Store, cache: Cache) => Promise<void>) {
  const root = await mkdtemp(join(tmpdir(), "bi-prune-"));
  try {
    const store = await openStore(root);
    await fn(store, await openCache(root));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** Runs a "step": a snapshot on `parent` holding `bytes` random bytes, recorded in the cache as last used `ageMs` ago. */
async function step(store: Store, cache: Cache, parent: { key: string; chainId: string } | null, name: string, bytes: number, ageMs: number) {
  const recorded = await recordLayerStep(store, cache, parent, name, { kind: "run", fields: { command: `write ${name}` } }, bytes);
  await cache.touch(recorded.key, Date.now() - ageMs);
  return recorded;
}

test("until: removes records last used before it, then the blobs and snapshots only they held", () =>
  withStore(async (store, cache) => {
    const a = await step(store, cache, null, "a", 50_000, 3 * HOUR);
    const b = await step(store, cache, a, "b", 50_000, 2 * HOUR);
    const c = await step(store, cache, null, "c", 50_000, 1 * HOUR);
    const result = await prune(store, { until: 90 * 60_000, gracePeriodMs: 0 });
    assert.equal(result.records, [b.key, a.key], "oldest first, b before the a it stacks on");
    assert.equal(result.blobs.sort(), [a.digest, b.digest].sort());
    assert.equal(result.snapshots.sort(), [a.chainId, b.chainId].sort());
    assert.ok(result.freedBytes >= 2 * 50_000 * 2, `freed ${result.freedBytes}: two blobs and two snapshots of 50 kB`);
    assert.equal((await cache.list()).map((r) => r.key), [c.key]);
    assert.ok(await store.content.has(c.digest));
    assert.equal((await store.snapshots.list()).map((s) => s.chainId), [c.chainId]);
  }));

test("a record stays while a record built on it stays: a step counts as used when a later one was", () =>
  withStore(async (store, cache) => {
    const a = await step(store, cache, null, "a", 10_000, 3 * HOUR);
    const b = await step(store, cache, a, "b", 10_000, 1 * HOUR);
    const c = await step(store, cache, null, "c", 10_000, 2 * HOUR);
    const result = await prune(store, { until: 90 * 60_000, gracePeriodMs: 0 });
    assert.equal(result.records, [c.key], "a was used when b was, an hour ago");
    assert.ok(await store.content.has(a.digest), "b's image needs a's layer blob");
    assert.ok(await store.snapshots.has(a.chainId));
    // Oldest first, and a child before its parent.
    const all = await prune(store, { gracePeriodMs: 0 });
    assert.equal(all.records, [b.key, a.key]);
  }));

test("keepStorage: removes the oldest records only until the cache fits", () =>
  withStore(async (store, cache) => {
    const x = await step(store, cache, null, "x", 300_000, 3 * HOUR);
    const y = await step(store, cache, null, "y", 100_000, 2 * HOUR);
    const z = await step(store, cache, null, "z", 200_000, 1 * HOUR);
    // y and z hold about (100 + 200) kB of blobs plus as much in snapshots: 700 kB fits them, not x too.
    const result = await prune(store, { keepStorage: 700_000, gracePeriodMs: 0 });
    assert.equal(result.records, [x.key]);
    assert.equal(result.blobs, [x.digest]);
    assert.equal((await cache.list()).map((r) => r.key), [y.key, z.key]);
    const usage = await du(store);
    assert.ok(usage.cacheRecords.reclaimableBytes <= 700_000, `cache holds ${usage.cacheRecords.reclaimableBytes}`);
    assert.ok(usage.cacheRecords.reclaimableBytes > 500_000);
    // A budget the cache already fits removes nothing.
    assert.equal((await prune(store, { keepStorage: 10_000_000, gracePeriodMs: 0 })).records, []);
    assert.equal((await prune(store, { keepStorage: 0, gracePeriodMs: 0 })).records, [y.key, z.key]);
  }));

test("records whose result is part of a local image survive unless --all; --all keeps the image's layers", () =>
  withStore(async (store, cache) => {
    const used = await step(store, cache, null, "app", 20_000, 2 * HOUR);
    const stray = await step(store, cache, null, "stray", 20_000, 1 * HOUR);
    const image = await writeImage(store, {
      config: { architecture: hostPlatform().architecture, os: "linux", rootfs: { type: "layers", diff_ids: [used.diffId] } },
      layers: [{ digest: used.digest, size: used.size, mediaType: used.mediaType }],
    });
    await tagImage(store, "app:1", image.manifestDigest);
    const first = await prune(store, { gracePeriodMs: 0 });
    assert.equal(first.records, [stray.key]);
    assert.equal((await cache.list()).map((r) => r.key), [used.key]);
    const all = await prune(store, { all: true, gracePeriodMs: 0 });
    assert.equal(all.records, [used.key]);
    assert.equal(all.blobs, []);
    assert.ok(await store.content.has(used.digest));
    assert.ok(await store.snapshots.has(used.chainId));
  }));

test("the grace period spares blobs a concurrent build has just written", () =>
  withStore(async (store, cache) => {
    const a = await step(store, cache, null, "a", 1_000, HOUR);
    const result = await prune(store, {});
    assert.equal(result.records, [a.key]);
    assert.equal(result.blobs, [], "written a moment ago");
    assert.ok(await store.content.has(a.digest));
  }));

test("--all removes idle cache mounts too, and du reports them", () =>
  withStore(async (store, cache) => {
    await step(store, cache, null, "a", 5_000, HOUR);
    const idle = await acquireCacheMount(store.root, { id: "/root/.npm", sharing: "shared" });
    await writeFile(join(idle.dir, "blob"), randomBytes(4_000));
    await idle.release();
    const busy = await acquireCacheMount(store.root, { id: "busy", sharing: "locked" });
    try {
      const usage = await du(store);
      assert.is(usage.cacheMounts.count, 2);
      assert.is(usage.cacheMounts.bytes, 4_000);
      assert.is(usage.cacheRecords.count, 1);
      const kept = await prune(store, { until: 0, gracePeriodMs: 0 });
      assert.equal(kept.mounts, [], "without --all, mounts stay");
      await step(store, cache, null, "b", 5_000, HOUR);
      const result = await prune(store, { all: true, gracePeriodMs: 0 });
      assert.is(result.records.length, 1);
      assert.is(result.mounts.length, 1);
      assert.match(result.mounts[0]!, /^root_npm-/);
      assert.is(result.mountsInUse.length, 1);
      assert.ok(result.freedBytes >= 4_000 + 5_000);
      assert.is((await du(store)).cacheMounts.count, 1);
    } finally {
      await busy.release();
    }
  }));

test("du: counts and sizes of blobs, snapshots, records", () =>
  withStore(async (store, cache) => {
    const empty = await du(store);
    assert.equal([empty.blobs.count, empty.snapshots.count, empty.cacheRecords.count, empty.cacheMounts.count, empty.images.count], [0, 0, 0, 0, 0]);
    const a = await step(store, cache, null, "a", 30_000, HOUR);
    await step(store, cache, a, "b", 30_000, HOUR);
    const usage = await du(store);
    assert.is(usage.blobs.count, 2);
    assert.ok(usage.blobs.bytes >= 60_000);
    assert.is(usage.snapshots.count, 2);
    assert.ok(usage.snapshots.bytes >= 60_000);
    assert.is(usage.cacheRecords.count, 2);
    assert.ok(usage.cacheRecords.bytes > 0);
    assert.ok(usage.cacheRecords.reclaimableBytes >= 120_000);
    assert.is(usage.totalBytes, usage.blobs.bytes + usage.snapshots.bytes + usage.cacheRecords.bytes + usage.cacheMounts.bytes);
  }));

test("prune refuses a negative budget", () =>
  withStore(async (store) => {
    const err = await prune(store, { keepStorage: -1 }).catch((e: unknown) => e);
    assert.is((err as { code: string }).code, "CACHE_PRUNE_INVALID");
  }));

test.run();
