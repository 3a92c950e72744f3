import { test } from "uvu";
import * as assert from "uvu/assert";
import { chmod, copyFile, link, mkdir, mkdtemp, readdir, rm, stat, symlink, unlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { diffSelectionDigests, hashSelection, openContext, selectSources } from "../../src/context/index.js";

let base = "";
let ctxDir = "";

async function hashOf(patterns: string[], options: Parameters<typeof hashSelection>[1] = {}, memoPath?: string): Promise<string> {
  const ctx = await openContext(ctxDir, { memoPath });
  return hashSelection(await selectSources(ctx, patterns), options);
}

test.before.each(async () => {
  base = await mkdtemp(join(tmpdir(), "bi-hash-"));
  ctxDir = join(base, "ctx");
  await mkdir(join(ctxDir, "src"), { recursive: true });
  await writeFile(join(ctxDir, "src/app.ts"), "console.log(1)\n");
  await writeFile(join(ctxDir, "src/util.ts"), "export {}\n");
  await writeFile(join(ctxDir, "README.md"), "readme\n");
  await symlink("app.ts", join(ctxDir, "src/main.ts"));
});
test.after.each(async () => {
  await rm(base, { recursive: true, force: true });
});

test("an mtime-only change keeps the hash", async () => {
  const before = await hashOf(["src"]);
  assert.match(before, /^sha256:[0-9a-f]{64}$/);
  await utimes(join(ctxDir, "src/app.ts"), new Date(2001, 1, 1), new Date(2001, 1, 1));
  await utimes(join(ctxDir, "src"), new Date(2002, 1, 1), new Date(2002, 1, 1));
  assert.is(await hashOf(["src"]), before);
});

test("content, mode, --chmod, --chown, names and link targets change the hash", async () => {
  const start = await hashOf(["src"]);
  const seen = new Set([start]);
  const expectNew = (h: string, why: string) => {
    assert.not.ok(seen.has(h), why);
    seen.add(h);
  };
  expectNew(await hashOf(["src"], { chmod: 0o755 }), "--chmod");
  expectNew(await hashOf(["src"], { chown: { uid: 1000, gid: 1000 } }), "--chown");
  expectNew(await hashOf(["src/app.ts"]), "another selection");
  await chmod(join(ctxDir, "src/util.ts"), 0o600);
  expectNew(await hashOf(["src"]), "chmod of a file");
  await writeFile(join(ctxDir, "src/app.ts"), "console.log(2)\n");
  expectNew(await hashOf(["src"]), "content change of the same size");
  await unlink(join(ctxDir, "src/main.ts"));
  await symlink("util.ts", join(ctxDir, "src/main.ts"));
  expectNew(await hashOf(["src"]), "link target");
  await writeFile(join(ctxDir, "src/new.ts"), "");
  expectNew(await hashOf(["src"]), "a new empty file");
});

test("a file outside the selection or excluded by .dockerignore changes nothing", async () => {
  await writeFile(join(ctxDir, ".dockerignore"), "src/*.log\n");
  await writeFile(join(ctxDir, "src/debug.log"), "1");
  const before = await hashOf(["src"]);
  await writeFile(join(ctxDir, "src/debug.log"), "2222");
  await writeFile(join(ctxDir, "README.md"), "changed\n");
  assert.is(await hashOf(["src"]), before);
});

test("a change that restores size and mtime is still seen (ctime is in the memo key)", async () => {
  const memoPath = join(base, "memo.json");
  const before = await hashOf(["src"], {}, memoPath);
  const info = await stat(join(ctxDir, "src/app.ts"));
  await writeFile(join(ctxDir, "src/app.ts"), "console.log(9)\n");
  await utimes(join(ctxDir, "src/app.ts"), info.atime, info.mtime);
  assert.is.not(await hashOf(["src"], {}, memoPath), before);
});

test("the persistent memo keeps an unchanged 10,000-file context from being read again", async () => {
  const big = join(ctxDir, "big");
  for (let d = 0; d < 100; d++) {
    await mkdir(join(big, `d${d}`), { recursive: true });
    await Promise.all(Array.from({ length: 100 }, (_, f) => writeFile(join(big, `d${d}`, `f${f}.txt`), `${d}-${f}`)));
  }
  const memoPath = join(base, "state", "context-memo.json");
  const first = await openContext(ctxDir, { memoPath });
  const h1 = await first.hash(await first.select(["big"]));
  assert.is(first.hasher.filesHashed, 10_000);
  assert.is(first.hasher.memoHits, 0);
  assert.ok((await stat(memoPath)).isFile());
  assert.equal((await readdir(join(base, "state"))).filter((n) => n.endsWith(".tmp")), []);

  // A new build (a new context object, the memo read from disk): nothing is read.
  const second = await openContext(ctxDir, { memoPath });
  assert.is(await second.hash(await second.select(["big"])), h1);
  assert.is(second.hasher.filesHashed, 0);
  assert.is(second.hasher.memoHits, 10_000);

  // One changed file: exactly one file is read again.
  await writeFile(join(big, "d7/f7.txt"), "changed");
  const third = await openContext(ctxDir, { memoPath });
  assert.is.not(await third.hash(await third.select(["big"])), h1);
  assert.is(third.hasher.filesHashed, 1);
  assert.is(third.hasher.memoHits, 9_999);
});

test("describeSelection names the files that changed, for explaining a cache miss", async () => {
  const ctx = await openContext(ctxDir);
  const before = await ctx.hasher.describeSelection(await ctx.select(["src", "README.md"]));
  await writeFile(join(ctxDir, "src/app.ts"), "changed\n");
  await writeFile(join(ctxDir, "src/added.ts"), "");
  await unlink(join(ctxDir, "src/util.ts"));
  const after = await ctx.hasher.describeSelection(await ctx.select(["src", "README.md"]));
  assert.is.not(after.digest, before.digest);
  assert.equal(diffSelectionDigests(before.files, after.files), { changed: ["app.ts"], added: ["added.ts"], removed: ["util.ts"] });
});

test("a hardlink and an equal copy hash differently (the layer differs)", async () => {
  await link(join(ctxDir, "src/app.ts"), join(ctxDir, "src/twin.ts"));
  const linked = await hashOf(["src"]);
  await unlink(join(ctxDir, "src/twin.ts"));
  await copyFile(join(ctxDir, "src/app.ts"), join(ctxDir, "src/twin.ts"));
  assert.is.not(await hashOf(["src"]), linked);
});

test("a corrupt memo file is ignored, not fatal", async () => {
  const memoPath = join(base, "memo.json");
  await writeFile(memoPath, "{not json");
  const ctx = await openContext(ctxDir, { memoPath });
  await ctx.hash(await ctx.select(["src"]));
  assert.is(ctx.hasher.filesHashed, 2);
});

test.run();
