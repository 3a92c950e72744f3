// Diff → tar, judged by GNU tar: names past ustar's limits, non-ASCII names, long link targets, big ids,
// devices, fifos, xattrs and hardlinks all come out as GNU tar reads them, and come back the same
// through our own apply and through `tar -x`.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { chown, link, mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { applyTar } from "../../src/layers/apply.js";
import { changesToTar, diffToTar } from "../../src/layers/diff-tar.js";
import { upperDirChanges } from "../../src/layers/diff-changes.js";
import { describeTree, tempDir } from "./snapshots-fixtures.js";

async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks);
}

const longDir = `${"d".repeat(120)}/${"e".repeat(120)}`;
const longName = `${longDir}/${"f".repeat(200)}.txt`;
const longTarget = `../${"t".repeat(150)}/target`;

async function makeTree(dir: string): Promise<void> {
  await mkdir(join(dir, longDir), { recursive: true });
  await writeFile(join(dir, longName), "long");
  await writeFile(join(dir, "grüße-ünïcödé.txt"), "utf8 name");
  await symlink(longTarget, join(dir, "long-link"));
  await writeFile(join(dir, "big-ids"), "ids");
  await chown(join(dir, "big-ids"), 3_000_000, 4_000_000);
  execFileSync("mknod", [join(dir, "null"), "c", "1", "3"]);
  execFileSync("mkfifo", [join(dir, "pipe")]);
  await writeFile(join(dir, "with-xattr"), "x");
  execFileSync("setfattr", ["-n", "user.note", "-v", "hello", join(dir, "with-xattr")]);
  await writeFile(join(dir, "a-first"), "shared");
  await link(join(dir, "a-first"), join(dir, "b-second"));
}

test("GNU tar lists every entry as written, with numeric owners and no names", async () => {
  const dir = await tempDir("bi-difftar-");
  try {
    await mkdir(join(dir, "tree"));
    await makeTree(join(dir, "tree"));
    const tar = await collect(diffToTar(join(dir, "tree")));
    await writeFile(join(dir, "layer.tar"), tar);
    const names = execFileSync("tar", ["-tf", join(dir, "layer.tar")], { encoding: "utf8" }).trim().split("\n");
    assert.ok(names.includes(longName), "a 400-byte name survives (PAX path)");
    assert.ok(names.includes("grüße-ünïcödé.txt"));
    const listing = execFileSync("tar", ["--numeric-owner", "-tvf", join(dir, "layer.tar")], { encoding: "utf8" });
    assert.match(listing, `long-link -> ${longTarget}`);
    assert.match(listing, /3000000\/4000000 .* big-ids/);
    assert.match(listing, /^crw-r--r-- 0\/0 +1,3 .* null$/m);
    assert.match(listing, /^p.* pipe$/m);
    assert.match(listing, /^h.* b-second link to a-first$/m);
    const verbose = execFileSync("tar", ["--xattrs", "--xattrs-include=*", "-tvvf", join(dir, "layer.tar")], { encoding: "utf8" });
    assert.match(verbose, /user\.note/);
    // Our writer never puts user or group names in: the ustar uname/gname fields are empty.
    const ustar = execFileSync("tar", ["-tvf", join(dir, "layer.tar")], { encoding: "utf8" });
    assert.not.match(ustar, /root\/root/);

    // Back through our apply and through GNU tar: the same tree as the source.
    await mkdir(join(dir, "ours"));
    await applyTar(join(dir, "ours"), Readable.from([tar]), { form: "upper", tmpDir: dir });
    await mkdir(join(dir, "gnu"));
    execFileSync("tar", ["--xattrs", "--xattrs-include=*", "--numeric-owner", "-xpf", join(dir, "layer.tar"), "-C", join(dir, "gnu")]);
    const source = describeTree(join(dir, "tree"));
    assert.equal(describeTree(join(dir, "ours")), source);
    assert.equal(describeTree(join(dir, "gnu")), source);
    const note = execFileSync("getfattr", ["--absolute-names", "-n", "user.note", "--only-values", join(dir, "ours/with-xattr")], { encoding: "utf8" });
    assert.is(note, "hello");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("entries are sorted bytewise within each directory, whiteouts by their archive name", async () => {
  const dir = await tempDir("bi-difftar-");
  try {
    for (const name of ["b", "a", "_x", "B", "c"]) await writeFile(join(dir, name), name);
    await mkdir(join(dir, "a.d"));
    await writeFile(join(dir, "a.d/z"), "z");
    execFileSync("mknod", [join(dir, "gone"), "c", "0", "0"]);
    const tar = await collect(diffToTar(dir));
    const names = execFileSync("tar", ["-tf", "-"], { input: tar, encoding: "utf8" }).trim().split("\n");
    assert.equal(names, [".wh.gone", "B", "_x", "a", "a.d/", "a.d/z", "b", "c"]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("times are clamped to SOURCE_DATE_EPOCH and kept when older", async () => {
  const dir = await tempDir("bi-difftar-");
  try {
    await writeFile(join(dir, "new"), "n");
    await writeFile(join(dir, "old"), "o");
    execFileSync("touch", ["-d", "@1000", join(dir, "old")]);
    const tar = await collect(changesToTar(upperDirChanges(dir), { sourceDateEpoch: 2000 }));
    const listing = execFileSync("tar", ["--full-time", "--utc", "-tvf", "-"], { input: tar, encoding: "utf8", env: { ...process.env, TZ: "UTC" } });
    assert.match(listing, /1970-01-01 00:33:20 new/);
    assert.match(listing, /1970-01-01 00:16:40 old/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
