import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, symlink, writeFile, link } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { pack } from "tar-stream";
import { addIntoRoot, copyDownloadIntoRoot, detectArchive, downloadUrl, openContext, selectSources } from "../../src/context/index.js";
import { codeOf } from "../helpers/errors.js";

let base = "";
let ctxDir = "";
let rootfs = "";

/** A tar made by tar-stream, for entries GNU tar would refuse to write. */
async function rawTar(entries: { name: string; type?: "file" | "symlink" | "link" | "directory"; linkname?: string; body?: string }[]): Promise<Buffer> {
  const p = pack();
  for (const e of entries) p.entry({ name: e.name, type: e.type ?? "file", linkname: e.linkname, mode: 0o644, mtime: new Date(1_500_000_000_000) }, e.body ?? "");
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of p) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function add(patterns: string[], dest: string, opts: Parameters<typeof addIntoRoot>[3] = {}): Promise<void> {
  const ctx = await openContext(ctxDir);
  await addIntoRoot(await selectSources(ctx, patterns), rootfs, dest, opts);
}

test.before.each(async () => {
  base = await mkdtemp(join(tmpdir(), "bi-add-"));
  ctxDir = join(base, "ctx");
  rootfs = join(base, "rootfs");
  await mkdir(rootfs);
  const tree = join(base, "tree");
  await mkdir(join(tree, "pkg/bin"), { recursive: true });
  await writeFile(join(tree, "pkg/bin/tool"), "#!/bin/sh\necho tool\n");
  await chmod(join(tree, "pkg/bin/tool"), 0o755);
  await symlink("bin/tool", join(tree, "pkg/tool-link"));
  await link(join(tree, "pkg/bin/tool"), join(tree, "pkg/tool-hard"));
  await mkdir(ctxDir);
  const tar = (flags: string, out: string) => execFileSync("tar", [`-c${flags}f`, join(ctxDir, out), "--owner=1000", "--group=1000", "-C", tree, "pkg"]);
  tar("", "app.tar");
  tar("z", "app.tar.gz");
  tar("j", "app.tar.bz2");
  tar("J", "app.tar.xz");
  execFileSync("tar", ["--zstd", "-cf", join(ctxDir, "app.tar.zst"), "--owner=1000", "--group=1000", "-C", tree, "pkg"]);
  tar("z", "renamed.bin"); // detected by content, not by name
  await writeFile(join(ctxDir, "notes.txt.gz"), gzipSync("just text, not a tar\n"));
  await writeFile(join(ctxDir, "plain.txt"), "plain\n");
});
test.after.each(async () => {
  await rm(base, { recursive: true, force: true });
});

test("local tar archives are detected by content: plain, gzip, bzip2, xz", async () => {
  const formats: Record<string, string> = { "app.tar": "tar", "app.tar.gz": "gzip", "app.tar.bz2": "bzip2", "app.tar.xz": "xz", "app.tar.zst": "zstd", "renamed.bin": "gzip" };
  for (const [name, format] of Object.entries(formats)) assert.is(await detectArchive(join(ctxDir, name)), format, name);
  assert.is(await detectArchive(join(ctxDir, "notes.txt.gz")), undefined);
  assert.is(await detectArchive(join(ctxDir, "plain.txt")), undefined);
});

test("ADD extracts each archive into the destination with modes, owners, links", async () => {
  for (const [name, dir] of [["app.tar", "/t"], ["app.tar.gz", "/g"], ["app.tar.bz2", "/b"], ["app.tar.xz", "/x/"], ["app.tar.zst", "/z"]] as const) {
    await add([name], dir);
    const root = join(rootfs, dir, "pkg");
    const tool = await stat(join(root, "bin/tool"));
    assert.is(await readFile(join(root, "bin/tool"), "utf8"), "#!/bin/sh\necho tool\n", name);
    assert.equal([tool.mode & 0o777, tool.uid, tool.gid], [0o755, 1000, 1000], name);
    assert.is(await readlink(join(root, "tool-link")), "bin/tool", name);
    assert.is((await stat(join(root, "tool-hard"))).ino, tool.ino, name);
  }
  await add(["app.tar.gz"], "/c/", { chown: { uid: 5, gid: 6 } });
  assert.is((await stat(join(rootfs, "c/pkg/bin/tool"))).uid, 5);
});

test("ADD copies non-archives as files, and --unpack=false copies archives", async () => {
  await add(["notes.txt.gz", "plain.txt"], "/f/");
  assert.equal((await readdir(join(rootfs, "f"))).sort(), ["notes.txt.gz", "plain.txt"]);
  await add(["app.tar.gz"], "/raw/", { unpack: false });
  assert.ok((await stat(join(rootfs, "raw/app.tar.gz"))).isFile());
});

test("a truncated archive is an error with a code", async () => {
  const whole = await readFile(join(ctxDir, "app.tar.gz"));
  await writeFile(join(ctxDir, "cut.tar.gz"), whole.subarray(0, Math.floor(whole.length / 2)));
  assert.is(await codeOf(add(["cut.tar.gz"], "/cut/")), "ADD_ARCHIVE_INVALID");
  const xz = await readFile(join(ctxDir, "app.tar.xz"));
  await writeFile(join(ctxDir, "cut.tar.xz"), xz.subarray(0, xz.length - 20));
  assert.is(await codeOf(add(["cut.tar.xz"], "/cutxz/")), "ADD_ARCHIVE_INVALID");
});

test("hostile archives cannot write outside the destination", async () => {
  await writeFile(join(ctxDir, "climb.tar"), await rawTar([{ name: "../../outside.txt", body: "x" }]));
  assert.is(await codeOf(add(["climb.tar"], "/d/")), "ADD_ARCHIVE_INVALID");
  await writeFile(join(ctxDir, "hard.tar"), await rawTar([{ name: "hard", type: "link", linkname: "../../../../etc/hostname" }]));
  assert.is(await codeOf(add(["hard.tar"], "/d/")), "ADD_ARCHIVE_INVALID");
  await writeFile(
    join(ctxDir, "links.tar"),
    await rawTar([
      { name: "root", type: "symlink", linkname: "/" },
      { name: "root/escaped.txt", body: "via absolute link" },
      { name: "up", type: "symlink", linkname: "../../../../.." },
      { name: "up/escaped2.txt", body: "via relative link" },
      { name: "hard", type: "link", linkname: "/root/escaped.txt" },
      { name: "/abs/file.txt", body: "absolute name" },
    ]),
  );
  await mkdir(join(rootfs, "etc"));
  await writeFile(join(rootfs, "etc/hostname"), "inside\n");
  const before = (await readdir(base)).sort();
  await add(["links.tar"], "/d/");
  // Links resolve with the destination as `/`, as Docker's chrooted untar does.
  assert.is(await readFile(join(rootfs, "d/escaped.txt"), "utf8"), "via absolute link");
  assert.is(await readFile(join(rootfs, "d/escaped2.txt"), "utf8"), "via relative link");
  assert.is(await readFile(join(rootfs, "d/abs/file.txt"), "utf8"), "absolute name");
  assert.is((await stat(join(rootfs, "d/hard"))).ino, (await stat(join(rootfs, "d/escaped.txt"))).ino);
  assert.equal((await readdir(base)).sort(), before);
  assert.is(await codeOf(lstat(join(rootfs, "escaped.txt"))), "ENOENT");
});

let server: Server;
let origin = "";
const payload = "binary content\n".repeat(1000);
const sha = createHash("sha256").update(payload).digest("hex");
test.before(async () => {
  server = createServer((req, res) => {
    if (req.url === "/dl/tool-1.2.bin") {
      res.writeHead(200, { "last-modified": "Wed, 21 Oct 2015 07:28:00 GMT", "content-type": "application/octet-stream" });
      res.end(payload);
    } else if (req.url === "/dl/..%2F..%2Fescape") {
      res.end("sneaky");
    } else if (req.url === "/" || req.url === "/dir/") {
      res.end("listing");
    } else if (req.url === "/private") {
      const ok = req.headers.authorization === `Basic ${Buffer.from("me:s3cret").toString("base64")}`;
      res.writeHead(ok ? 200 : 401).end(ok ? "secret file" : "");
    } else if (req.url === "/named") {
      res.writeHead(200, { "content-disposition": 'attachment; filename="../report.csv"' });
      res.end("a,b\n");
    } else if (req.url === "/dl/app.tar.gz") {
      res.end(gzipSync("not extracted\n"));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
test.after(() => {
  server.close();
});

test("ADD <url>: streamed, 0600, Last-Modified mtime, name from the URL path, checksum verified", async () => {
  const dl = await downloadUrl(`${origin}/dl/tool-1.2.bin`, { checksum: `sha256:${sha}`, tmpDir: base });
  try {
    assert.is(dl.digest, `sha256:${sha}`);
    assert.is(dl.filename, "tool-1.2.bin");
    const path = await copyDownloadIntoRoot(dl, rootfs, "/opt/", {});
    assert.is(path, "/opt/tool-1.2.bin");
    const info = await stat(join(rootfs, "opt/tool-1.2.bin"));
    assert.is(info.mode & 0o777, 0o600);
    assert.is(info.mtime.toISOString(), "2015-10-21T07:28:00.000Z");
    assert.is(info.size, payload.length);
    await copyDownloadIntoRoot(dl, rootfs, "/usr/bin/tool", { chmod: 0o755 });
    assert.is((await stat(join(rootfs, "usr/bin/tool"))).mode & 0o777, 0o755);
  } finally {
    await dl.cleanup();
  }
});

test("ADD <url>: checksum mismatch, bad checksum, HTTP errors have codes; archives are not extracted", async () => {
  assert.is(await codeOf(downloadUrl(`${origin}/dl/tool-1.2.bin`, { checksum: `sha256:${"0".repeat(64)}`, tmpDir: base })), "ADD_CHECKSUM_MISMATCH");
  assert.is(await codeOf(downloadUrl(`${origin}/dl/tool-1.2.bin`, { checksum: "md5:abc" })), "ADD_CHECKSUM_INVALID");
  assert.is(await codeOf(downloadUrl(`${origin}/missing`, { tmpDir: base })), "ADD_URL_FAILED");
  const dl = await downloadUrl(`${origin}/dl/app.tar.gz`, { tmpDir: base });
  await copyDownloadIntoRoot(dl, rootfs, "/a/");
  await dl.cleanup();
  assert.ok((await stat(join(rootfs, "a/app.tar.gz"))).isFile());
  // Names: decoded before the last part is taken; Content-Disposition wins; no Last-Modified → epoch.
  const sneaky = await downloadUrl(`${origin}/dl/..%2F..%2Fescape`, { tmpDir: base });
  assert.is(sneaky.filename, "escape");
  assert.is(await copyDownloadIntoRoot(sneaky, rootfs, "/in/"), "/in/escape");
  assert.is((await stat(join(rootfs, "in/escape"))).mtimeMs, 0);
  await sneaky.cleanup();
  const named = await downloadUrl(`${origin}/named`, { tmpDir: base });
  assert.is(named.filename, "report.csv");
  await named.cleanup();
  const dir = await downloadUrl(`${origin}/dir/`, { tmpDir: base });
  assert.is(dir.filename, "dir"); // Go's path.Base drops the trailing slash
  await dir.cleanup();
  const top = await downloadUrl(`${origin}/`, { tmpDir: base });
  assert.is(top.filename, "download");
  await top.cleanup();
  // Credentials in the URL go out as basic auth and never appear in what we report.
  const priv = await downloadUrl(`${origin.replace("://", "://me:s3cret@")}/private`, { tmpDir: base });
  assert.is(priv.url, `${origin}/private`);
  await priv.cleanup();
  const denied = await downloadUrl(`${origin.replace("://", "://me:wrong@")}/private`, { tmpDir: base }).catch((err: Error) => err.message);
  assert.match(String(denied), /HTTP 401/);
  assert.not.match(String(denied), /wrong/);
  // The temp files are gone after cleanup and after a mismatch.
  assert.equal((await readdir(base)).filter((n) => n.startsWith("add-url-")), []);
});

test.run();
