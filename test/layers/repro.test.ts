// Reproducible layers: with SOURCE_DATE_EPOCH the same tree gives the same bytes, whatever the times on
// disk, the order files were made in, or the snapshotter that found the diff.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdir, rm, symlink, utimes, writeFile, link } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { randomBytes } from "node:crypto";
import { compressLayer } from "../../src/layers/compress.js";
import { diffToTar } from "../../src/layers/diff-tar.js";
import type { Store } from "../../src/layers/store.js";
import { tempDir, withStore } from "./snapshots-fixtures.js";

const random = randomBytes(3 << 20); // several gzip members, some stored, some deflated

/** The same tree each time; `order` reverses creation order and `stamp` sets every time on disk. */
async function makeTree(root: string, order: "forward" | "reverse", stamp: number): Promise<void> {
  const files: [string, string | Buffer][] = [
    ["a/b/c.txt", "hello\n".repeat(1000)],
    ["a/random.bin", random],
    ["z.txt", "last"],
    [`long/${"n".repeat(150)}/${"m".repeat(120)}.txt`, "long name"],
  ];
  for (const [path, data] of order === "forward" ? files : [...files].reverse()) {
    await mkdir(join(root, path, ".."), { recursive: true });
    await writeFile(join(root, path), data);
  }
  await symlink("a/b/c.txt", join(root, "link"));
  await link(join(root, "z.txt"), join(root, "z-hard.txt"));
  for (const path of ["a/b/c.txt", "a/random.bin", "z.txt", "a/b", "a", "long"]) await utimes(join(root, path), stamp, stamp);
}

async function pack(dir: string, sourceDateEpoch?: number) {
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on("data", (c: Buffer) => chunks.push(c));
  const result = await compressLayer(diffToTar(dir, sourceDateEpoch === undefined ? {} : { sourceDateEpoch }), sink);
  return { ...result, bytes: Buffer.concat(chunks) };
}

test("the same tree with different mtimes packs to the same digest under SOURCE_DATE_EPOCH", async () => {
  const one = await tempDir("bi-repro-");
  const two = await tempDir("bi-repro-");
  try {
    await makeTree(one, "forward", 1_600_000_000);
    await makeTree(two, "reverse", 1_650_000_000);
    const epoch = 1_500_000_000;
    const a = await pack(one, epoch);
    const b = await pack(two, epoch);
    assert.is(a.diffId, b.diffId);
    assert.is(a.digest, b.digest);
    assert.ok(a.bytes.equals(b.bytes));
    // Without the clamp the mtimes show, so the test above could fail.
    assert.is.not((await pack(one)).digest, (await pack(two)).digest);
    // gzip members: no FNAME flag, MTIME zero, OS unknown.
    assert.equal([...a.bytes.subarray(0, 10)], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
  } finally {
    await rm(one, { recursive: true, force: true });
    await rm(two, { recursive: true, force: true });
  }
});

async function commitTree(store: Store, stamp: number, order: "forward" | "reverse") {
  const active = await store.snapshots.prepare(null);
  await makeTree(active.root, order, stamp);
  const layer = await active.commit({ sourceDateEpoch: 1_500_000_000 });
  assert.not.ok(layer.empty);
  return layer as Extract<typeof layer, { empty: false }>;
}

test("overlay and copy snapshotters commit the same tree to the same blob", async () => {
  let overlayDigest = "";
  await withStore({ snapshotter: "overlay" }, async (store) => {
    overlayDigest = (await commitTree(store, 1_600_000_000, "forward")).digest;
  });
  await withStore({ snapshotter: "copy" }, async (store) => {
    const layer = await commitTree(store, 1_700_000_000, "reverse");
    assert.is(layer.digest, overlayDigest);
    // The stored blob really is what the digest says.
    assert.equal(await store.content.fsck(), { ok: true, bad: [] });
  });
});

test.run();
