import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, stat, writeFile, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { acquireCacheMount, cacheMountDir, removeCacheMounts } from "../../src/cache/index.js";

async function withRoot(fn: (root: string) => Promise<void>) {
  const root = await mkdtemp(join(tmpdir(), "bi-mounts-"));
  try {
    await fn(root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** Resolves true if `p` settles within `ms`. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  return Promise.race([p.then(() => true, () => true), sleep(ms).then(() => false)]);
}

test("cache mount dirs live under cache/mounts, named safely after the id", () =>
  withRoot(async (root) => {
    const dir = cacheMountDir(root, "/root/.npm");
    assert.ok(dir.startsWith(join(root, "cache/mounts/")));
    assert.match(dir.slice(dir.lastIndexOf("/") + 1), /^root_npm-[0-9a-f]{12}$/);
    assert.is.not(cacheMountDir(root, "/root/.npm"), cacheMountDir(root, "/root/_npm"), "ids that look alike stay apart");
    assert.not.match(cacheMountDir(root, "../../etc"), /\.\./);
  }));

test("shared: two RUNs use the same directory at once, and it persists", () =>
  withRoot(async (root) => {
    const a = await acquireCacheMount(root, { id: "npm", sharing: "shared" });
    const b = await acquireCacheMount(root, { id: "npm", sharing: "shared" });
    assert.is(a.dir, b.dir);
    await writeFile(join(a.dir, "pkg.tgz"), "x");
    await a.release();
    await b.release();
    const c = await acquireCacheMount(root, { id: "npm", sharing: "shared", mode: 0o700 });
    assert.ok(await stat(join(c.dir, "pkg.tgz")));
    await c.release();
  }));

test("locked: a second RUN waits until the first releases", () =>
  withRoot(async (root) => {
    const first = await acquireCacheMount(root, { id: "apt", sharing: "locked" });
    const second = acquireCacheMount(root, { id: "apt", sharing: "locked" });
    assert.not.ok(await settlesWithin(second, 300), "the second acquirer is blocked");
    await first.release();
    await first.release(); // twice is harmless
    const got = await second;
    assert.is(got.dir, first.dir);
    await got.release();
  }));

test("locked: a shared user waits for the locked holder too", () =>
  withRoot(async (root) => {
    const locked = await acquireCacheMount(root, { id: "apt", sharing: "locked" });
    const shared = acquireCacheMount(root, { id: "apt", sharing: "shared" });
    assert.not.ok(await settlesWithin(shared, 200));
    await locked.release();
    await (await shared).release();
  }));

test("locked: a timeout gives CACHE_MOUNT_LOCKED; an abort stops the wait", () =>
  withRoot(async (root) => {
    const first = await acquireCacheMount(root, { id: "apt", sharing: "locked" });
    const err = await acquireCacheMount(root, { id: "apt", sharing: "locked", timeoutMs: 100 }).catch((e: unknown) => e);
    assert.is((err as { code: string }).code, "CACHE_MOUNT_LOCKED");
    const abort = new AbortController();
    const waiting = acquireCacheMount(root, { id: "apt", sharing: "locked", signal: abort.signal });
    abort.abort(new Error("stop"));
    assert.is(((await waiting.catch((e: unknown) => e)) as Error).message, "stop");
    await first.release();
  }));

test("locked: an exclusive taker waits for shared users already in", () =>
  withRoot(async (root) => {
    const user = await acquireCacheMount(root, { id: "go", sharing: "shared" });
    const locked = acquireCacheMount(root, { id: "go", sharing: "locked" });
    assert.not.ok(await settlesWithin(locked, 200));
    await user.release();
    await (await locked).release();
  }));

test("private: a busy directory gives the next RUN its own instance", () =>
  withRoot(async (root) => {
    const a = await acquireCacheMount(root, { id: "build", sharing: "private" });
    const b = await acquireCacheMount(root, { id: "build", sharing: "private" });
    assert.is(a.dir, cacheMountDir(root, "build"));
    assert.is(b.dir, cacheMountDir(root, "build", 1));
    await a.release();
    const c = await acquireCacheMount(root, { id: "build", sharing: "private" });
    assert.is(c.dir, a.dir, "the main instance is free again");
    await b.release();
    await c.release();
  }));

function startHolder(root: string, id: string, sharing: string): Promise<{ child: ChildProcess; dir: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "mount-holder.ts"), root, id, sharing], { stdio: ["pipe", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => reject(new Error(`holder exited early with ${code}`)));
    child.stdout!.on("data", (chunk: Buffer) => {
      const m = /^held (.*)\n/.exec(chunk.toString());
      if (m) resolve({ child, dir: m[1]! });
    });
  });
}

test("locked across processes, and a killed holder's lock is taken over", () =>
  withRoot(async (root) => {
    const holder = await startHolder(root, "apt", "locked");
    try {
      const waiting = acquireCacheMount(root, { id: "apt", sharing: "locked" });
      assert.not.ok(await settlesWithin(waiting, 300), "blocked by the other process");
      holder.child.kill("SIGKILL");
      assert.ok(await settlesWithin(waiting, 3_000), "the dead holder's lock is taken over");
      const mount = await waiting;
      assert.is(mount.dir, holder.dir);
      await mount.release();
    } finally {
      holder.child.kill("SIGKILL");
    }
  }));

test("removeCacheMounts removes idle mounts and skips those in use", () =>
  withRoot(async (root) => {
    const busy = await acquireCacheMount(root, { id: "busy", sharing: "shared" });
    const idle = await acquireCacheMount(root, { id: "idle", sharing: "locked" });
    await writeFile(join(idle.dir, "f"), "data");
    await idle.release();
    const result = await removeCacheMounts(root);
    assert.equal(result.removed, [idle.dir.slice(idle.dir.lastIndexOf("/") + 1)]);
    assert.equal(result.inUse, [busy.dir.slice(busy.dir.lastIndexOf("/") + 1)]);
    assert.ok(await stat(busy.dir));
    assert.not.ok((await readdir(join(root, "cache/mounts"))).includes(result.removed[0]!));
    await busy.release();
  }));

test.run();
