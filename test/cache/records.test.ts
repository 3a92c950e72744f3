import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm, stat, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cacheKey, openCache, type Cache, type CacheInputs } from "../../src/cache/index.js";

async function withCache(fn: (cache: Cache, root: string) => Promise<void>) {
  const root = await mkdtemp(join(tmpdir(), "bi-cache-"));
  try {
    await fn(await openCache(root), root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

const layer = { digest: "sha256:" + "1".repeat(64), size: 123, mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", diffId: "sha256:" + "2".repeat(64) };
const runInputs = (command: string): CacheInputs => ({ kind: "run", fields: { command, env: { PATH: "/bin" } } });

test("put then get returns the record; an unknown key is undefined", () =>
  withCache(async (cache, root) => {
    const inputs = runInputs("make");
    const key = cacheKey(null, inputs);
    assert.is(await cache.get(key), undefined);
    const before = Date.now();
    await cache.put(key, { parent: null, inputs, result: { empty: false, chainId: layer.diffId, layer }, slot: "ctx|Dockerfile|0|1" });
    const record = await cache.get(key);
    assert.ok(record);
    assert.is(record.key, key);
    assert.is(record.parent, null);
    assert.equal(record.inputs, inputs);
    assert.equal(record.result.layer, layer);
    assert.is(record.slot, "ctx|Dockerfile|0|1");
    // lastUsedAt is the file's mtime, and the kernel's file clock may lag Date.now() by a tick.
    assert.ok(record.createdAt >= before && record.lastUsedAt >= record.createdAt - 50);
    assert.ok(await stat(join(root, "cache/records", `${key.slice(7)}.json`)));
    assert.equal(await readdir(join(root, "tmp")), [], "nothing is left in tmp/");
  }));

test("touch moves lastUsedAt without rewriting the record", () =>
  withCache(async (cache, root) => {
    const inputs = runInputs("make");
    const key = cacheKey(null, inputs);
    await cache.put(key, { parent: null, inputs, result: { empty: true, chainId: null }, slot: "s" });
    const file = join(root, "cache/records", `${key.slice(7)}.json`);
    const old = new Date(Date.now() - 86_400_000);
    await utimes(file, old, old);
    const ino = (await stat(file)).ino;
    await cache.touch(key);
    const record = await cache.get(key);
    assert.ok(record!.lastUsedAt >= Date.now() - 5_000);
    assert.is((await stat(file)).ino, ino, "same file: touched, not rewritten");
    await cache.touch(key, 1_000_000);
    assert.is((await cache.get(key))!.lastUsedAt, 1_000_000);
    await cache.touch("sha256:" + "9".repeat(64)); // a missing key is not an error
  }));

test("explanation-only fields live beside the record, not in it", () =>
  withCache(async (cache, root) => {
    const inputs: CacheInputs = { kind: "copy", fields: { paths: ["src/"], sources: layer.digest, files: { "src/a.ts": layer.diffId }, dest: "/app/" } };
    const key = cacheKey(null, inputs);
    await cache.put(key, { parent: null, inputs, result: { empty: false, chainId: layer.diffId, layer }, slot: "s" });
    const record = await cache.get(key);
    assert.is(record!.inputs.fields.files, undefined);
    assert.is(record!.inputs.fields.dest, "/app/");
    assert.ok(await stat(join(root, "cache/records", `${key.slice(7)}.files.json`)));
  }));

test("a torn or foreign record file reads as a miss", () =>
  withCache(async (cache, root) => {
    const { writeFile } = await import("node:fs/promises");
    const key = cacheKey(null, runInputs("x"));
    await writeFile(join(root, "cache/records", `${key.slice(7)}.json`), '{"key":"sha256:');
    assert.is(await cache.get(key), undefined);
    const other = cacheKey(null, runInputs("y"));
    await cache.put(other, { parent: null, inputs: runInputs("y"), result: { empty: true, chainId: null }, slot: "s" });
    const { copyFile } = await import("node:fs/promises");
    await copyFile(join(root, "cache/records", `${other.slice(7)}.json`), join(root, "cache/records", `${key.slice(7)}.json`));
    assert.is(await cache.get(key), undefined, "a record under the wrong name is not a hit");
  }));

test("list is oldest first; remove deletes records and their index entries", () =>
  withCache(async (cache, root) => {
    const keys: string[] = [];
    for (const [i, age] of [3, 1, 2].entries()) {
      const inputs = runInputs(`cmd ${i}`);
      const key = cacheKey(null, inputs);
      keys.push(key);
      await cache.put(key, { parent: null, inputs, result: { empty: true, chainId: null }, slot: `s${i}` });
      await cache.touch(key, Date.now() - age * 3_600_000);
    }
    assert.equal((await cache.list()).map((r) => r.key), [keys[0], keys[2], keys[1]]);
    assert.is(await cache.remove([keys[0]!, "sha256:" + "0".repeat(64)]), 1);
    assert.is(await cache.get(keys[0]!), undefined);
    assert.equal((await cache.list()).map((r) => r.key), [keys[2], keys[1]]);
    assert.equal((await readdir(join(root, "cache/parents/none"))).sort(), [keys[1]!.slice(7), keys[2]!.slice(7)].sort());
  }));

function runWriter(root: string, name: string, count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "concurrent-writer.ts"), root, name, String(count)], { stdio: ["ignore", "inherit", "inherit"] });
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`writer ${name} exited with ${code}`))));
  });
}

test("two processes writing at once: every record is whole, none is lost", () =>
  withCache(async (cache, root) => {
    const count = 60;
    let done = false;
    const writers = Promise.all([runWriter(root, "a", count), runWriter(root, "b", count)]).finally(() => {
      done = true;
    });
    // Read while they write: a record is either absent or complete, never half there.
    let reads = 0;
    const sharedKey = (i: number) => cacheKey(null, { kind: "run", fields: { command: `step ${i} of shared`, padding: "x".repeat(64 * 1024) } });
    while (!done) {
      for (let i = 0; i < count; i += 7) {
        const record = await cache.get(sharedKey(i));
        reads++;
        if (record) {
          assert.is((record.inputs.fields.padding as string).length, 64 * 1024);
        }
      }
    }
    await writers;
    assert.ok(reads > 0);
    const records = await cache.list();
    assert.is(records.length, count * 3, "shared keys once, plus each writer's own");
    for (const r of records) assert.is((r.inputs.fields.padding as string).length, 64 * 1024);
    assert.equal(await readdir(join(root, "tmp")), []);
  }));

test.run();
