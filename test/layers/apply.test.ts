// Tar → snapshot: whiteouts become overlay form (upper) or deletions (full), GNU tar's own archives
// unpack, directory times survive their children, and a damaged tar is a clear error.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { lstatSync } from "node:fs";
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { applyTar, unpackLayer } from "../../src/layers/apply.js";
import { describeTree, tempDir } from "./snapshots-fixtures.js";

/** A tar made by GNU tar from `files` (path → content, or null for a directory), in the order given. */
async function gnuTar(dir: string, files: [string, string | null][], format = "posix"): Promise<Buffer> {
  const src = join(dir, `src-${Math.random().toString(36).slice(2)}`);
  await mkdir(src);
  for (const [path, content] of files) {
    if (content === null) await mkdir(join(src, path), { recursive: true });
    else {
      await mkdir(join(src, path, ".."), { recursive: true });
      await writeFile(join(src, path), content);
    }
  }
  return execFileSync("tar", [`--format=${format}`, "--no-recursion", "-cf", "-", "-C", src, ...files.map(([p]) => p)], { maxBuffer: 1 << 26 });
}

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await tempDir("bi-apply-");
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("upper form: .wh.<name> becomes a 0/0 char device and .wh..wh..opq the opaque xattr", () =>
  withDir(async (dir) => {
    const tar = await gnuTar(dir, [["etc", null], ["etc/.wh.passwd", ""], ["opt", null], ["opt/.wh..wh..opq", ""], ["opt/new", "n"]]);
    await mkdir(join(dir, "root"));
    await applyTar(join(dir, "root"), Readable.from([tar]), { form: "upper", tmpDir: dir });
    const wh = lstatSync(join(dir, "root/etc/passwd"));
    assert.ok(wh.isCharacterDevice() && wh.rdev === 0);
    const opaque = execFileSync("getfattr", ["--absolute-names", "-n", "trusted.overlay.opaque", "--only-values", join(dir, "root/opt")], { encoding: "utf8" });
    assert.is(opaque, "y");
    assert.equal(await readdir(join(dir, "root/opt")), ["new"]);
  }));

test("full form: whiteouts delete lower files and trees; an opaque dir keeps only this layer's children", () =>
  withDir(async (dir) => {
    const root = join(dir, "root");
    await mkdir(join(root, "etc"), { recursive: true });
    await writeFile(join(root, "etc/passwd"), "old");
    await mkdir(join(root, "var/cache/deep"), { recursive: true });
    await writeFile(join(root, "var/cache/deep/f"), "old");
    await mkdir(join(root, "opt"));
    await writeFile(join(root, "opt/old"), "old");
    const tar = await gnuTar(dir, [["etc/.wh.passwd", ""], ["var/.wh.cache", ""], ["opt", null], ["opt/new", "n"], ["opt/.wh..wh..opq", ""]]);
    await applyTar(root, Readable.from([tar]), { form: "full", tmpDir: dir });
    assert.equal(describeTree(root).map((l) => l.split(" ")[0]), ["etc", "opt", "opt/new", "var"]);
  }));

test("a whiteout never deletes an entry of its own layer", () =>
  withDir(async (dir) => {
    for (const form of ["upper", "full"] as const) {
      const root = join(dir, form);
      await mkdir(root);
      const tar = await gnuTar(dir, [["keep", "mine"], [".wh.keep", ""]]);
      await applyTar(root, Readable.from([tar]), { form, tmpDir: dir });
      assert.ok(lstatSync(join(root, "keep")).isFile(), form);
    }
  }));

test("GNU-format long names (././@LongLink) and directory times that survive their children", () =>
  withDir(async (dir) => {
    const long = `${"x".repeat(140)}/${"y".repeat(140)}`;
    const src = join(dir, "src");
    await mkdir(join(src, long), { recursive: true });
    await writeFile(join(src, long, "file"), "deep");
    execFileSync("touch", ["-d", "@1234567890", join(src, long), join(src, long.split("/")[0]!)]);
    const tar = execFileSync("tar", ["--format=gnu", "-cf", "-", "-C", src, long.split("/")[0]!]);
    await mkdir(join(dir, "root"));
    await applyTar(join(dir, "root"), Readable.from([tar]), { form: "upper", tmpDir: dir });
    assert.is(lstatSync(join(dir, "root", long, "file")).size, 4);
    assert.is(lstatSync(join(dir, "root", long)).mtimeMs, 1234567890_000);
    assert.is(lstatSync(join(dir, "root", long.split("/")[0]!)).mtimeMs, 1234567890_000);
  }));

test("upper form: a parent the tar leaves out takes its mode, owner and time from the layers below", () =>
  withDir(async (dir) => {
    const lower = join(dir, "lower");
    await mkdir(join(lower, "home/app"), { recursive: true });
    execFileSync("chown", ["1000:1000", join(lower, "home/app")]);
    execFileSync("chmod", ["0700", join(lower, "home/app")]);
    execFileSync("touch", ["-d", "@1500000000", join(lower, "home/app")]);
    const tar = await gnuTar(dir, [["home/app/file", "x"]]);
    const root = join(dir, "root");
    await mkdir(root);
    await applyTar(root, Readable.from([tar]), { form: "upper", tmpDir: dir, lowerDirs: [lower] });
    const st = lstatSync(join(root, "home/app"));
    assert.equal([st.uid, st.gid, st.mode & 0o7777, st.mtimeMs], [1000, 1000, 0o700, 1500000000_000]);
    // Without the lower layers the same tar makes a plain 0755 root directory.
    const bare = join(dir, "bare");
    await mkdir(bare);
    await applyTar(bare, Readable.from([tar]), { form: "upper", tmpDir: dir });
    const plain = lstatSync(join(bare, "home/app"));
    assert.equal([plain.uid, plain.mode & 0o7777], [0, 0o755]);
  }));

test("a damaged layer is LAYER_TAR_INVALID; an unknown media type is LAYER_MEDIA_TYPE_UNKNOWN", () =>
  withDir(async (dir) => {
    const tar = await gnuTar(dir, [["a", "x".repeat(5000)]]);
    const damaged = Buffer.from(tar);
    damaged[100] ^= 0xff; // inside the first header: its checksum no longer matches
    await mkdir(join(dir, "root"));
    const err = await applyTar(join(dir, "root"), Readable.from([damaged]), { form: "upper", tmpDir: dir }).catch((e: unknown) => e);
    assert.is((err as { code?: string }).code, "LAYER_TAR_INVALID");
    const truncated = await applyTar(join(dir, "root"), Readable.from([tar.subarray(0, 2048)]), { form: "upper", tmpDir: dir }).catch((e: unknown) => e);
    assert.is((truncated as { code?: string }).code, "LAYER_TAR_INVALID");
    const unknown = await unpackLayer(join(dir, "root"), Readable.from([tar]), { mediaType: "text/plain", form: "upper", tmpDir: dir }).catch((e: unknown) => e);
    assert.is((unknown as { code?: string }).code, "LAYER_MEDIA_TYPE_UNKNOWN");
  }));

test.run();
