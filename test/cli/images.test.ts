// The image commands end to end through the CLI's own entry point, on a real store.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { runCli } from "../helpers/cli.js";
import { resolveLocalImage } from "../../src/layers/local-images.js";
import { openStore } from "../../src/layers/store.js";
import { makeBusyboxRoot } from "../helpers/busybox.js";

const run = promisify(execFile);

interface Ctx {
  dir: string;
  root: string;
}

async function cli(root: string, ...argv: string[]): Promise<{ code: number; out: string; err: string; bytes: Buffer }> {
  return cliWithInput(root, Buffer.alloc(0), ...argv);
}

async function cliWithInput(root: string, input: Buffer, ...argv: string[]): Promise<{ code: number; out: string; err: string; bytes: Buffer }> {
  const { code, stdout, stdoutBytes, stderr } = await runCli(argv, { stdin: input, env: { BUILD_IMAGE_ROOT: root } });
  return { code, out: stdout, err: stderr, bytes: stdoutBytes };
}

const commands = suite<Ctx>("image commands");

commands.before.each(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), "bi-cli-images-"));
  ctx.root = join(ctx.dir, "root");
});
commands.after.each(async (ctx) => {
  await rm(ctx.dir, { recursive: true, force: true });
});

commands("import a rootfs dir, list, tag, save both formats, load elsewhere, rmi", async ({ dir, root }) => {
  const rootfs = join(dir, "rootfs");
  await makeBusyboxRoot(rootfs);
  const imported = await cli(root, "import", "-m", "from test", rootfs, "base:1");
  assert.is(imported.code, 0, imported.err);
  const imageId = imported.out.trim();
  assert.match(imageId, /^sha256:[0-9a-f]{64}$/);

  assert.is((await cli(root, "tag", "base:1", "127.0.0.1:5000/team/base:2")).code, 0);
  const table = await cli(root, "images");
  assert.is(table.code, 0, table.err);
  const lines = table.out.trim().split("\n");
  assert.match(lines[0]!, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
  assert.match(table.out, new RegExp(`^base\\s+1\\s+${imageId.slice(7, 19)}\\s+Less than a minute ago\\s+[0-9.]+[kM]B$`, "m"));
  assert.match(table.out, /^127\.0\.0\.1:5000\/team\/base\s+2\s+/m);

  const json = await cli(root, "images", "--format", "json");
  const rows = json.out.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(rows.map((r) => r.shortName), ["127.0.0.1:5000/team/base:2", "base:1"]);
  assert.ok(rows.every((r) => r.configDigest === imageId));
  assert.is((await cli(root, "images", "-q")).out, `${imageId.slice(7, 19)}\n`, "one ID for two names");
  assert.is((await cli(root, "images", "base")).out.trim().split("\n").length, 2, "filtered to one repository");

  const dockerTar = join(dir, "out-docker.tar");
  const ociTar = join(dir, "out-oci.tar");
  assert.is((await cli(root, "save", "-o", dockerTar, "base:1")).code, 0);
  assert.is((await cli(root, "save", "--format", "oci", "-o", ociTar, "base:1", "127.0.0.1:5000/team/base:2")).code, 0);
  assert.is(JSON.parse((await run("skopeo", ["inspect", `docker-archive:${dockerTar}`])).stdout).Layers.length, 1);
  assert.is(JSON.parse((await run("skopeo", ["inspect", "--raw", `oci-archive:${ociTar}:1`])).stdout).layers.length, 1);

  const other = join(dir, "other");
  const loaded = await cli(other, "load", "-i", dockerTar);
  assert.is(loaded.code, 0, loaded.err);
  assert.is(loaded.out, "Loaded image: base:1\n");
  const loadedOci = await cli(other, "load", "-i", ociTar);
  assert.is(loadedOci.out, "Loaded image: base:1\nLoaded image: 127.0.0.1:5000/team/base:2\n");
  const store = await openStore(other);
  assert.is((await resolveLocalImage(store, "base:1"))?.configDigest, imageId);

  const removed = await cli(root, "rmi", "base:1", "nope:1");
  assert.is(removed.code, 1);
  assert.is(removed.out, "Untagged: base:1\n");
  assert.match(removed.err, /no local image 'nope:1' \[IMAGE_NOT_FOUND\]/);
  const byId = await cli(root, "rmi", imageId.slice(7, 19));
  assert.is(byId.code, 0);
  assert.match(byId.out, /^Untagged: 127\.0\.0\.1:5000\/team\/base:2\nDeleted: sha256:/);
  assert.is((await cli(root, "images", "-q")).out, "");
});

commands("import a gzip tar, as docker import does, and the image runs the same files", async ({ dir, root }) => {
  const rootfs = join(dir, "rootfs");
  await makeBusyboxRoot(rootfs);
  await mkdir(join(rootfs, "srv"));
  await writeFile(join(rootfs, "srv/hello"), "hi\n");
  const tarball = join(dir, "rootfs.tar.gz");
  await run("tar", ["-czf", tarball, "--numeric-owner", "-C", rootfs, "."]);
  const imported = await cli(root, "import", "--platform", "linux/arm64/v8", tarball, "fromtar");
  assert.is(imported.code, 0, imported.err);
  const store = await openStore(root);
  const image = await resolveLocalImage(store, "fromtar", { platform: { os: "linux", architecture: "arm64" } });
  assert.is(image?.config.architecture, "arm64");
  assert.is(image?.config.variant, "v8");
  assert.is(image?.config.history?.[0]?.comment, "Imported from rootfs.tar.gz");
  const layer = await run("tar", ["-tzf", store.content.path(image!.manifest.layers[0]!.digest)]);
  assert.match(layer.stdout, /^\.\/srv\/hello$/m);
});

commands("save to stdout and load from stdin, as docker save | docker load", async ({ dir, root }) => {
  const rootfs = join(dir, "rootfs");
  await makeBusyboxRoot(rootfs);
  assert.is((await cli(root, "import", rootfs, "piped:1")).code, 0);
  const saved = await cli(root, "save", "piped:1");
  assert.is(saved.code, 0, saved.err);
  assert.ok(saved.bytes.length > 500_000, "the archive came on stdout");
  const other = join(dir, "other");
  const loaded = await cliWithInput(other, saved.bytes, "load");
  assert.is(loaded.code, 0, loaded.err);
  assert.is(loaded.out, "Loaded image: piped:1\n");
  const store = await openStore(other);
  assert.equal(await readdir(join(other, "tmp")), [], "the spooled archive is gone");
  assert.ok(await resolveLocalImage(store, "piped:1"));
});

commands("usage errors exit 2 with a hint; unknown images exit 1", async ({ root }) => {
  const noOut = await cli(root, "save", "--format", "oci-dir", "x");
  assert.is(noOut.code, 2);
  assert.match(noOut.err, /needs -o DIR \[USAGE\]/);
  assert.is((await cli(root, "tag", "only-one")).code, 2);
  assert.is((await cli(root, "images", "--format", "xml")).code, 2);
  assert.is((await cli(root, "import", "--platform", "linux", "/nonexistent", "t")).code, 1);
  const missing = await cli(root, "tag", "ghost", "x");
  assert.is(missing.code, 1);
  assert.match(missing.err, /IMAGE_NOT_FOUND/);
  const badName = await cli(root, "tag", "ghost", "Bad:Name");
  assert.is(badName.code, 1);
  const help = await cli(root, "load", "--help");
  assert.match(help.out, /Usage: build-image load \[-i FILE\]/);
});

commands.run();
