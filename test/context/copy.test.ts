import { test } from "uvu";
import * as assert from "uvu/assert";
import { chmod, chown, link, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { copyIntoRoot, openContext, resolveUserSpec, selectSources, writeContentIntoRoot, type BuildContext } from "../../src/context/index.js";
import { codeOf } from "../helpers/errors.js";

let base = "";
let ctxDir = "";
let rootfs = "";

async function put(path: string, content = "x", mode = 0o644): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
  await chmod(path, mode);
}

async function copy(ctx: BuildContext, patterns: string[], dest: string, opts: Parameters<typeof copyIntoRoot>[3] & Parameters<typeof selectSources>[2] = {}): Promise<void> {
  const selection = await selectSources(ctx, patterns, opts);
  await copyIntoRoot(selection, rootfs, dest, opts);
}

test.before.each(async () => {
  base = await mkdtemp(join(tmpdir(), "bi-copy-"));
  ctxDir = join(base, "ctx");
  rootfs = join(base, "rootfs");
  await mkdir(rootfs);
  await put(join(ctxDir, "a.txt"), "A");
  await put(join(ctxDir, "b.txt"), "B");
  await put(join(ctxDir, "run.sh"), "#!/bin/sh\n", 0o755);
  await put(join(ctxDir, "src/main.c"), "int main(){}", 0o600);
  await put(join(ctxDir, "src/lib/util.c"), "u");
  await put(join(ctxDir, "src/lib/util.txt"), "t");
  await utimes(join(ctxDir, "a.txt"), 1_000_000, 1_000_000);
});
test.after.each(async () => {
  await rm(base, { recursive: true, force: true });
});

test("a directory copies its contents, modes and mtimes kept, owner 0:0", async () => {
  const ctx = await openContext(ctxDir);
  await copy(ctx, ["src"], "/app");
  assert.equal((await readdir(join(rootfs, "app"))).sort(), ["lib", "main.c"]);
  const main = await stat(join(rootfs, "app/main.c"));
  assert.is(main.mode & 0o7777, 0o600);
  assert.is(main.uid, 0);
  assert.is(await readFile(join(rootfs, "app/lib/util.c"), "utf8"), "u");
  await copy(ctx, ["a.txt"], "/t/");
  assert.is((await stat(join(rootfs, "t/a.txt"))).mtimeMs, 1_000_000_000);
  assert.is((await stat(join(rootfs, "t"))).mode & 0o7777, 0o755);
});

test("a directory's destination is made 0755 (owned by --chown or root); an existing one is left alone", async () => {
  await chmod(join(ctxDir, "src"), 0o700);
  const ctx = await openContext(ctxDir);
  await copy(ctx, ["src"], "/new/app");
  const created = await stat(join(rootfs, "new/app"));
  assert.equal([created.mode & 0o7777, created.uid], [0o755, 0]);
  await copy(ctx, ["src"], "/home/u/app", { chown: { uid: 1000, gid: 1000 } });
  for (const dir of ["home", "home/u", "home/u/app", "home/u/app/lib"]) {
    const info = await stat(join(rootfs, dir));
    assert.equal([info.uid, info.gid, info.mode & 0o777], [1000, 1000, 0o755], dir);
  }
  await mkdir(join(rootfs, "existing"));
  await chmod(join(rootfs, "existing"), 0o711);
  await chown(join(rootfs, "existing"), 7, 7);
  await copy(ctx, ["src"], "/existing", { chown: { uid: 1000, gid: 1000 } });
  const kept = await stat(join(rootfs, "existing"));
  assert.equal([kept.uid, kept.mode & 0o777], [7, 0o711]);
  assert.is((await stat(join(rootfs, "existing/main.c"))).uid, 1000);
});

test("destination rules: trailing slash, file rename, existing dir, WORKDIR, several sources", async () => {
  const ctx = await openContext(ctxDir);
  await copy(ctx, ["a.txt"], "/d/");
  assert.is(await readFile(join(rootfs, "d/a.txt"), "utf8"), "A");
  await copy(ctx, ["a.txt"], "/renamed");
  await copy(ctx, ["a.txt"], "/forced", { isDir: true });
  assert.ok((await stat(join(rootfs, "forced/a.txt"))).isFile());
  assert.ok((await stat(join(rootfs, "renamed"))).isFile());
  await copy(ctx, ["b.txt"], "/d");
  assert.is(await readFile(join(rootfs, "d/b.txt"), "utf8"), "B");
  await copy(ctx, ["run.sh"], "bin/", { workdir: "/work" });
  assert.is((await stat(join(rootfs, "work/bin/run.sh"))).mode & 0o777, 0o755);
  await copy(ctx, ["a.txt"], ".", { workdir: "/wd" });
  assert.ok((await stat(join(rootfs, "wd/a.txt"))).isFile());
  assert.is(await codeOf(copy(ctx, ["a.txt", "b.txt"], "/multi")), "COPY_DEST_NOT_DIR");
  assert.is(await codeOf(copy(ctx, ["*.txt"], "/wild")), "COPY_DEST_NOT_DIR");
  await copy(ctx, ["a.txt", "b.txt"], "/multi/");
  assert.equal((await readdir(join(rootfs, "multi"))).sort(), ["a.txt", "b.txt"]);
  await copy(ctx, ["run.*"], "/one"); // a wildcard matching one file may name a file
  // URLs and heredocs of the same instruction count too.
  assert.is(await codeOf(copy(ctx, ["a.txt"], "/with-heredoc", { sourceCount: 2 })), "COPY_DEST_NOT_DIR");
  assert.is(await codeOf(writeContentIntoRoot("x", rootfs, "/with-file", { name: "EOF", sourceCount: 2 })), "COPY_DEST_NOT_DIR");
  await copy(ctx, ["b.txt", "*.lock"], "/one-of-two"); // what counts is what matched
  assert.ok((await stat(join(rootfs, "one-of-two"))).isFile());
  assert.ok((await stat(join(rootfs, "one"))).isFile());
});

test("wildcards: Go filepath.Match per component and ** for any depth", async () => {
  const ctx = await openContext(ctxDir);
  const sel = await selectSources(ctx, ["src/**/*.c", "[ab].txt"]);
  assert.equal(sel.sources.map((s) => s.rootRel), ["src/lib/util.c", "src/main.c", "a.txt", "b.txt"]);
  await copyIntoRoot(sel, rootfs, "/w/");
  assert.equal((await readdir(join(rootfs, "w"))).sort(), ["a.txt", "b.txt", "main.c", "util.c"]);
  assert.is(await codeOf(selectSources(ctx, ["src/[x"])), "COPY_INVALID_PATTERN");
});

test("a missing source is an error; an empty wildcard only when nothing else matched", async () => {
  const ctx = await openContext(ctxDir);
  assert.is(await codeOf(selectSources(ctx, ["nope.txt"])), "COPY_SOURCE_NOT_FOUND");
  assert.is(await codeOf(selectSources(ctx, ["*.nothing"])), "COPY_SOURCE_NOT_FOUND");
  const sel = await selectSources(ctx, ["a.txt", "*.lock"]);
  assert.is(sel.sources.length, 1);
  assert.is((await selectSources(ctx, ["*.nothing"], { allowEmptyWildcard: true })).sources.length, 0);
});

test(".dockerignore removes files from the context; ! brings some back", async () => {
  await writeFile(join(ctxDir, ".dockerignore"), "src\n!src/lib/*.txt\n*.sh\n");
  const ctx = await openContext(ctxDir);
  assert.is(await codeOf(selectSources(ctx, ["run.sh"])), "COPY_SOURCE_NOT_FOUND");
  assert.is(await codeOf(selectSources(ctx, ["src/main.c"])), "COPY_SOURCE_NOT_FOUND");
  await copy(ctx, ["."], "/all");
  assert.equal((await readdir(join(rootfs, "all"))).sort(), [".dockerignore", "a.txt", "b.txt", "src"]);
  assert.equal(await readdir(join(rootfs, "all/src")), ["lib"]);
  assert.equal(await readdir(join(rootfs, "all/src/lib")), ["util.txt"]);
  await copy(ctx, ["src"], "/s");
  assert.equal(await readdir(join(rootfs, "s/lib")), ["util.txt"]);
});

test("sources never escape the context: .., absolute and relative symlinks", async () => {
  await symlink("/etc/passwd", join(ctxDir, "passwd"));
  await symlink("../..", join(ctxDir, "up"));
  await symlink("../../../../../../etc/hostname", join(ctxDir, "src/host"));
  const ctx = await openContext(ctxDir);
  assert.is(await codeOf(selectSources(ctx, ["passwd"])), "COPY_SOURCE_NOT_FOUND");
  assert.is(await codeOf(selectSources(ctx, ["../../etc/passwd"])), "COPY_SOURCE_NOT_FOUND");
  assert.is(await codeOf(selectSources(ctx, ["src/host"])), "COPY_SOURCE_NOT_FOUND");
  // `up` resolves to the context root itself, never the host directory above it.
  const up = await selectSources(ctx, ["up/a.txt"]);
  assert.is(up.sources[0]!.entries[0]!.path, join(ctx.dir, "a.txt"));
  const upDir = await selectSources(ctx, ["up"]);
  assert.ok(upDir.sources[0]!.entries.every((e) => e.path.startsWith(ctx.dir)));
  // A symlink inside a copied directory is copied as the link, not its target.
  await copy(ctx, ["src"], "/s/");
  assert.is(await readlink(join(rootfs, "s/host")), "../../../../../../etc/hostname");
  // followSymlinks: false copies a symlinked source as the link.
  await copy(ctx, ["passwd"], "/p", { followSymlinks: false });
  assert.is(await readlink(join(rootfs, "p")), "/etc/passwd");
});

test("a symlinked source is followed inside the context", async () => {
  await symlink("src/main.c", join(ctxDir, "main-link"));
  await symlink("/a.txt", join(ctxDir, "abs-link"));
  const ctx = await openContext(ctxDir);
  await copy(ctx, ["main-link", "abs-link"], "/l/");
  assert.is(await readFile(join(rootfs, "l/main-link"), "utf8"), "int main(){}");
  assert.is(await readFile(join(rootfs, "l/abs-link"), "utf8"), "A");
  assert.not.ok((await lstat(join(rootfs, "l/main-link"))).isSymbolicLink());
  // A symlink to a directory, named as the source, copies the directory's contents.
  await symlink("src/lib", join(ctxDir, "lib-link"));
  await copy(ctx, ["lib-link"], "/ll/");
  assert.equal((await readdir(join(rootfs, "ll"))).sort(), ["util.c", "util.txt"]);
});

test("symlinks in the rootfs on the destination path resolve inside the rootfs", async () => {
  await symlink("/", join(rootfs, "app"));
  await symlink("../../../../..", join(rootfs, "evil"));
  await mkdir(join(rootfs, "etc"));
  await symlink("/etc/shadow-host", join(rootfs, "etc/shadow"));
  const ctx = await openContext(ctxDir);
  const before = (await readdir(base)).sort();
  await copy(ctx, ["a.txt"], "/app/x/");
  assert.is(await readFile(join(rootfs, "x/a.txt"), "utf8"), "A");
  await copy(ctx, ["b.txt"], "/evil/y");
  assert.is(await readFile(join(rootfs, "y"), "utf8"), "B");
  await copy(ctx, ["src"], "/evil/../../deep/");
  assert.ok((await stat(join(rootfs, "deep/main.c"))).isFile());
  // A directory copied onto a symlink to a file replaces the link, not the file.
  await writeFile(join(rootfs, "precious"), "keep");
  await symlink("/precious", join(rootfs, "dirlink"));
  await copy(ctx, ["src"], "/dirlink");
  assert.ok((await lstat(join(rootfs, "dirlink"))).isDirectory());
  assert.is(await readFile(join(rootfs, "precious"), "utf8"), "keep");
  // A symlink at the final destination is replaced, never written through.
  await copy(ctx, ["a.txt"], "/etc/shadow");
  assert.ok((await lstat(join(rootfs, "etc/shadow"))).isFile());
  assert.equal((await readdir(base)).sort(), before);
  assert.is(await codeOf(stat("/etc/shadow-host")), "ENOENT");
});

test("--chown, --chmod, --exclude, --parents", async () => {
  const ctx = await openContext(ctxDir);
  await copy(ctx, ["src"], "/o/", { chown: { uid: 1000, gid: 50 }, chmod: 0o640 });
  const file = await stat(join(rootfs, "o/lib/util.c"));
  assert.equal([file.uid, file.gid, file.mode & 0o777], [1000, 50, 0o640]);
  assert.equal([(await stat(join(rootfs, "o/lib"))).uid], [1000]);
  await copy(ctx, ["src", "*.txt"], "/e/", { exclude: ["*.txt", "lib/*.c"] });
  assert.equal((await readdir(join(rootfs, "e"))).sort(), ["lib", "main.c"]);
  // As in patternmatcher, `*.txt` matches top-level names only; `**/*.txt` any depth.
  assert.equal(await readdir(join(rootfs, "e/lib")), ["util.txt"]);
  await copy(ctx, ["src"], "/e2/", { exclude: ["**/*.txt"] });
  assert.equal(await readdir(join(rootfs, "e2/lib")), ["util.c"]);
  await copy(ctx, ["src/lib/util.c", "a.txt"], "/p/", { parents: true });
  assert.ok((await stat(join(rootfs, "p/src/lib/util.c"))).isFile());
  assert.ok((await stat(join(rootfs, "p/a.txt"))).isFile());
  await copy(ctx, ["./src/./lib/*.txt"], "/q/", { parents: true });
  assert.ok((await stat(join(rootfs, "q/lib/util.txt"))).isFile());
});

test("hardlinks within a selection stay hardlinks", async () => {
  await link(join(ctxDir, "src/main.c"), join(ctxDir, "src/main-hard.c"));
  const ctx = await openContext(ctxDir);
  await copy(ctx, ["src"], "/h");
  const [a, b] = await Promise.all([stat(join(rootfs, "h/main.c")), stat(join(rootfs, "h/main-hard.c"))]);
  assert.is(a.ino, b.ino);
  assert.is(a.nlink, 2);
});

test("a plain directory source (a stage) keeps owners; the context gives 0:0", async () => {
  const stage = join(base, "stage");
  await put(join(stage, "usr/bin/tool"), "t");
  await chown(join(stage, "usr/bin/tool"), 1234, 5678);
  await chmod(join(stage, "usr/bin/tool"), 0o4755);
  const sel = await selectSources({ dir: stage }, ["/usr/bin/tool"]);
  await copyIntoRoot(sel, rootfs, "/usr/local/bin/");
  const info = await stat(join(rootfs, "usr/local/bin/tool"));
  assert.equal([info.uid, info.gid, info.mode & 0o7777], [1234, 5678, 0o4755]);
  assert.is((await stat(join(rootfs, "usr/local"))).mode & 0o777, 0o755);
});

test("heredoc content lands with the same destination rules", async () => {
  await writeContentIntoRoot("echo hi\n", rootfs, "/scripts/", { name: "EOF", chmod: 0o755 });
  assert.is(await readFile(join(rootfs, "scripts/EOF"), "utf8"), "echo hi\n");
  assert.is((await stat(join(rootfs, "scripts/EOF"))).mode & 0o777, 0o755);
  await symlink("/", join(rootfs, "lnk"));
  const path = await writeContentIntoRoot("x", rootfs, "conf.txt", { name: "EOF", workdir: "/lnk/etc", chown: { uid: 7, gid: 8 } });
  assert.is(path, "/lnk/etc/conf.txt");
  const info = await stat(join(rootfs, "etc/conf.txt"));
  assert.equal([info.uid, info.gid, info.mode & 0o777], [7, 8, 0o644]);
});

test("resolveUserSpec reads the image's /etc/passwd and /etc/group", async () => {
  await put(join(rootfs, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001:app:/home/app:/bin/sh\n");
  await put(join(rootfs, "etc/group"), "root:x:0:\napp:x:1001:\nstaff:x:50:app,other\n");
  assert.equal(await resolveUserSpec(rootfs, "app"), { uid: 1000, gid: 1001, additionalGids: [50] });
  assert.equal(await resolveUserSpec(rootfs, "app:staff"), { uid: 1000, gid: 50, additionalGids: [] });
  assert.equal(await resolveUserSpec(rootfs, "1000:0"), { uid: 1000, gid: 0, additionalGids: [50] });
  assert.equal(await resolveUserSpec(rootfs, "4242"), { uid: 4242, gid: 0, additionalGids: [] });
  assert.equal(await resolveUserSpec(rootfs, "4242", { missingGroup: "uid" }), { uid: 4242, gid: 4242, additionalGids: [] });
  assert.is(await codeOf(resolveUserSpec(rootfs, "ghost")), "USER_NOT_FOUND");
  assert.is(await codeOf(resolveUserSpec(rootfs, "app:ghosts")), "GROUP_NOT_FOUND");
  // A symlinked /etc/passwd is read inside the rootfs, never the host's.
  await rm(join(rootfs, "etc/passwd"));
  await symlink("../../../../../../host-passwd", join(rootfs, "etc/passwd"));
  assert.is(await codeOf(resolveUserSpec(rootfs, "root")), "USER_NOT_FOUND");
});

test.run();
