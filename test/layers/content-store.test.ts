import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm, writeFile, chmod } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { openContentStore } from "../../src/layers/content-store.js";

const sha = (b: Uint8Array) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

async function withStore(fn: (root: string, store: Awaited<ReturnType<typeof openContentStore>>) => Promise<void>) {
  const root = await mkdtemp(join(tmpdir(), "bi-content-"));
  try {
    await fn(root, await openContentStore(root));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test("a streamed blob is stored under its digest and reads back", () =>
  withStore(async (root, store) => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const parts = [data.subarray(0, 1000), data.subarray(1000, 2_000_000), data.subarray(2_000_000)];
    const info = await store.write(Readable.from(parts), { expected: sha(data), size: data.length });
    assert.is(info.digest, sha(data));
    assert.is(info.size, data.length);
    assert.ok(await store.has(info.digest));
    assert.is(await store.size(info.digest), data.length);
    assert.ok((await collect(store.open(info.digest))).equals(data));
    assert.is(store.path(info.digest), join(root, "blobs/sha256", info.digest.slice(7)));
    assert.equal(await store.list(), [info.digest]);
    assert.equal(await readdir(join(root, "tmp")), []);
  }));

test("a digest mismatch throws BLOB_DIGEST_MISMATCH and stores nothing", () =>
  withStore(async (root, store) => {
    const wrong = sha(Buffer.from("something else"));
    try {
      await store.writeBuffer("hello", { expected: wrong });
      assert.unreachable("should have thrown");
    } catch (err) {
      assert.is((err as { code?: string }).code, "BLOB_DIGEST_MISMATCH");
    }
    assert.not.ok(await store.has(wrong));
    assert.equal(await store.list(), []);
    assert.equal(await readdir(join(root, "tmp")), []);
  }));

test("a size mismatch throws BLOB_SIZE_MISMATCH", () =>
  withStore(async (_root, store) => {
    const err = await store.writeBuffer("hello", { size: 4 }).catch((e: unknown) => e);
    assert.is((err as { code?: string }).code, "BLOB_SIZE_MISMATCH");
    assert.equal(await store.list(), []);
  }));

test("invalid digests never become paths", () =>
  withStore(async (_root, store) => {
    for (const bad of ["sha256:../../etc/passwd", "md5:abc", "sha256:" + "A".repeat(64), "", "sha256:" + "0".repeat(63)]) {
      assert.throws(() => store.path(bad), (e: { code?: string }) => e.code === "DIGEST_INVALID");
      const err = await store.has(bad).then(() => undefined, (e: unknown) => e);
      assert.is((err as { code?: string } | undefined)?.code, "DIGEST_INVALID", bad);
    }
  }));

test("concurrent writers of the same blob all succeed with one blob", () =>
  withStore(async (root, store) => {
    const data = randomBytes(512 * 1024);
    const results = await Promise.all(Array.from({ length: 8 }, () => store.write(Readable.from([data]), { expected: sha(data) })));
    assert.ok(results.every((r) => r.digest === sha(data)));
    assert.equal(await store.list(), [sha(data)]);
    assert.equal(await readdir(join(root, "tmp")), []);
  }));

test("missing blobs: BLOB_NOT_FOUND from size, readBuffer and open", () =>
  withStore(async (_root, store) => {
    const missing = sha(Buffer.from("nope"));
    assert.is(((await store.size(missing).catch((e) => e)) as { code: string }).code, "BLOB_NOT_FOUND");
    assert.is(((await store.readBuffer(missing).catch((e) => e)) as { code: string }).code, "BLOB_NOT_FOUND");
    assert.is(((await collect(store.open(missing)).catch((e) => e)) as { code: string }).code, "BLOB_NOT_FOUND");
    assert.is(await store.delete(missing), false);
  }));

test("fsck finds a blob whose bytes were changed; delete removes it", () =>
  withStore(async (_root, store) => {
    const good = await store.writeBuffer('{"a":1}');
    const bad = await store.writeBuffer('{"b":2}');
    assert.equal(await store.fsck(), { ok: true, bad: [] });
    await chmod(store.path(bad.digest), 0o644);
    await writeFile(store.path(bad.digest), '{"b":3}');
    assert.equal(await store.fsck(), { ok: false, bad: [bad.digest] });
    assert.is(await store.delete(bad.digest), true);
    assert.equal(await store.fsck(), { ok: true, bad: [] });
    assert.is((await store.readBuffer(good.digest)).toString(), '{"a":1}');
  }));

test("an aborted write stores nothing and leaves no temporary file", () =>
  withStore(async (root, store) => {
    const controller = new AbortController();
    async function* slow() {
      yield Buffer.alloc(1000);
      controller.abort();
      await new Promise((r) => setTimeout(r, 20));
      yield Buffer.alloc(1000);
    }
    const err = await store.write(slow(), { signal: controller.signal }).catch((e: unknown) => e);
    assert.is((err as { name?: string }).name, "AbortError");
    assert.equal(await store.list(), []);
    assert.equal(await readdir(join(root, "tmp")), []);
  }));

test.run();
