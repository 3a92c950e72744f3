import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gc } from "../../src/layers/gc.js";
import { removeImage, tagImage } from "../../src/layers/local-images.js";
import { openStore, type Store } from "../../src/layers/store.js";
import { makeTestImage, type TestImage } from "./images-fixture.js";

interface Ctx {
  dir: string;
  store: Store;
  image: TestImage;
}

const collect = suite<Ctx>("gc");

collect.before.each(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), "bi-gc-"));
  ctx.store = await openStore(ctx.dir);
  ctx.image = await makeTestImage(ctx.store);
  await tagImage(ctx.store, "kept", ctx.image.manifestDigest);
});
collect.after.each(async (ctx) => {
  await rm(ctx.dir, { recursive: true, force: true });
});

/** A committed snapshot on top of `parent` that no image uses, and its layer blob. */
async function strayLayer(store: Store, parent: string | null, file: string) {
  const active = await store.snapshots.prepare(parent);
  await writeFile(join(active.root, file), file);
  const layer = await active.commit();
  if (layer.empty) throw new Error("empty");
  return layer;
}

collect("keeps what tagged images use, removes stray blobs and snapshots", async ({ store, image }) => {
  const stray = await strayLayer(store, image.chainId, "stray");
  const orphanBlob = await store.content.writeBuffer("nobody points here");
  const before = (await store.snapshots.list()).length;

  const result = await gc(store);
  assert.equal(result.removedSnapshots, [stray.chainId]);
  assert.equal(result.removedBlobs.sort(), [orphanBlob.digest, stray.digest].sort());
  assert.ok(result.freedBytes >= orphanBlob.size + stray.size);
  assert.is((await store.snapshots.list()).length, before - 1);
  for (const d of [image.manifestDigest, image.configDigest, ...image.layers.map((l) => l.digest)]) assert.ok(await store.content.has(d), d);
  assert.ok(await store.snapshots.has(image.chainId));
  assert.not.ok(await store.content.has(orphanBlob.digest));
  // Nothing left to take.
  assert.equal(await gc(store), { removedBlobs: [], removedSnapshots: [], freedBytes: 0 });
});

collect("after the last name goes, everything of the image is collected", async ({ store, image }) => {
  await tagImage(store, "second", image.manifestDigest);
  await removeImage(store, "kept");
  assert.equal((await gc(store)).removedBlobs, [], "the second name still holds it");
  await removeImage(store, "second");
  const result = await gc(store);
  assert.is(result.removedBlobs.length, 2 + image.layers.length);
  assert.is(result.removedSnapshots.length, 4);
  assert.equal(await store.content.list(), []);
  assert.equal(await store.snapshots.list(), []);
});

collect("extra roots (a cache record) keep a chain with its parents, and blobs", async ({ store, image }) => {
  const cached = await strayLayer(store, image.chainId, "cached");
  await removeImage(store, "kept");
  const result = await gc(store, { roots: async () => ({ chainIds: [cached.chainId], digests: [cached.digest] }) });
  assert.equal(result.removedSnapshots, [], "the cached chain keeps its four parents");
  assert.ok(await store.content.has(cached.digest));
  assert.not.ok(await store.content.has(image.manifestDigest));
});

collect("dry run removes nothing; a grace period spares young blobs", async ({ store }) => {
  const orphan = await store.content.writeBuffer("young");
  const dry = await gc(store, { dryRun: true });
  assert.equal(dry.removedBlobs, [orphan.digest]);
  assert.ok(await store.content.has(orphan.digest));
  assert.equal((await gc(store, { gracePeriodMs: 60_000 })).removedBlobs, []);
  assert.equal((await gc(store)).removedBlobs, [orphan.digest]);
});

collect.run();
