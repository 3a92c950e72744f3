// `build-image prune` and `build-image du` through the CLI's own entry point, on a real store.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cacheKey, openCache } from "../../src/cache/index.js";
import { runCli } from "../helpers/cli.js";
import { parseByteSize, parseDuration } from "../../src/cli/commands/prune.js";
import { openStore } from "../../src/layers/index.js";

async function cli(env: NodeJS.ProcessEnv, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const { code, stdout, stderr } = await runCli(argv, { env });
  return { code, out: stdout, err: stderr };
}

async function withRoot(fn: (root: string) => Promise<void>) {
  const root = await mkdtemp(join(tmpdir(), "bi-prune-cli-"));
  try {
    await fn(root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** Two cached steps with layers, last used 2 h and 10 min ago; their blobs are made old enough to collect. */
async function fill(root: string) {
  const store = await openStore(root);
  const cache = await openCache(root);
  const keys: string[] = [];
  for (const [name, ageMs] of [["old", 2 * 3_600_000], ["new", 600_000]] as const) {
    const active = await store.snapshots.prepare(null);
    await writeFile(join(active.root, name), randomBytes(20_000));
    const layer = await active.commit();
    if (layer.empty) throw new Error("empty");
    const inputs = { kind: "run" as const, fields: { command: name } };
    const key = cacheKey(null, inputs);
    await cache.put(key, { parent: null, inputs, result: { empty: false, chainId: layer.chainId, layer: { digest: layer.digest, size: layer.size, mediaType: layer.mediaType, diffId: layer.diffId } }, slot: name });
    await cache.touch(key, Date.now() - ageMs);
    const past = new Date(Date.now() - ageMs);
    await utimes(store.content.path(layer.digest), past, past);
    keys.push(key);
  }
  return keys;
}

test("sizes and durations as docker takes them", () => {
  assert.is(parseByteSize("10GB"), 10 * 1024 ** 3);
  assert.is(parseByteSize("512MB"), 512 * 1024 ** 2);
  assert.is(parseByteSize("512m"), 512 * 1024 ** 2);
  assert.is(parseByteSize("1.5GiB"), 1.5 * 1024 ** 3);
  assert.is(parseByteSize("1000"), 1000);
  assert.is(parseByteSize("ten"), undefined);
  assert.is(parseDuration("24h"), 86_400_000);
  assert.is(parseDuration("30m"), 1_800_000);
  assert.is(parseDuration("1h30m"), 5_400_000);
  assert.is(parseDuration("500ms"), 500);
  assert.is(parseDuration("7d"), 7 * 86_400_000);
  assert.is(parseDuration("24"), undefined);
  assert.is(parseDuration("1h junk"), undefined);
});

test("prune --filter until removes what is older; --format json says what", () =>
  withRoot(async (root) => {
    const [old, recent] = await fill(root);
    const { code, out } = await cli({ BUILD_IMAGE_ROOT: root }, "prune", "--filter", "until=1h", "--format", "json");
    assert.is(code, 0);
    const result = JSON.parse(out);
    assert.equal(result.records, [old]);
    assert.is(result.blobs.length, 1);
    assert.ok(result.freedBytes >= 40_000);
    const cache = await openCache(root);
    assert.ok(await cache.get(recent!));
  }));

test("prune --all, then du shows an empty cache", () =>
  withRoot(async (root) => {
    await fill(root);
    const before = await cli({}, "du", "--root", root, "--format", "json");
    assert.is(before.code, 0);
    assert.is(JSON.parse(before.out).cacheRecords.count, 2);
    const { code, out } = await cli({}, "prune", "--all", "--root", root);
    assert.is(code, 0);
    assert.match(out, /^Deleted 2 cache records, 2 blobs, 2 snapshots, 0 cache mounts\nTotal reclaimed space: \d+(\.\d+)?kB\n$/);
    const table = await cli({ BUILD_IMAGE_ROOT: root }, "du");
    assert.is(table.code, 0);
    assert.match(table.out, /^TYPE\s+COUNT\s+SIZE\s+RECLAIMABLE\n/);
    assert.match(table.out, /\nBuild cache\s+0\s+0B\s+0B\n/);
    assert.match(table.out, /\nBlobs\s+0\s+0B\n/);
    assert.match(table.out, new RegExp(`Total: \\d+B in ${root}\\n$`));
  }));

test("prune --keep-storage keeps the newest records that fit", () =>
  withRoot(async (root) => {
    const [old, recent] = await fill(root);
    const { code, out } = await cli({ BUILD_IMAGE_ROOT: root }, "prune", "--keep-storage", "50kB", "--format", "json");
    assert.is(code, 0);
    assert.equal(JSON.parse(out).records, [old]);
    assert.ok(await (await openCache(root)).get(recent!));
  }));

test("bad sizes, durations and filters are usage errors", () =>
  withRoot(async (root) => {
    for (const argv of [["--keep-storage", "lots"], ["--filter", "until=soon"], ["--filter", "type=regular"], ["extra"], ["--format", "yaml"]]) {
      const { code, err } = await cli({ BUILD_IMAGE_ROOT: root }, "prune", ...argv);
      assert.is(code, 2, argv.join(" "));
      assert.match(err, /\[USAGE\]/);
    }
    assert.is((await cli({ BUILD_IMAGE_ROOT: root }, "du", "--format", "yaml")).code, 2);
  }));

test.run();
