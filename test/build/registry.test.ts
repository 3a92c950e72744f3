// Builds meet a real registry (Debian's docker-registry on 127.0.0.1): --push, FROM pulling a missing base
// into a fresh root (layers unpacked once, reused), an image skopeo pushed used in FROM, and auth.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "./support.js";
import { inspectImage, storeWithBusybox } from "../helpers/images.js";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";
import { startRegistryProxy } from "../helpers/registry-proxy.js";
import { exportOciLayout, hostPlatform, openStore } from "../../src/layers/index.js";
import { makeTestImage, makeTestIndex, writeOciLayout } from "../helpers/test-image.js";
import type { BuildEvent } from "../../src/build/index.js";

const test = suite("builds with a registry");
let registry: TestRegistry;
let source: { root: string; dispose(): Promise<void> };
let work = "";

test.before(async () => {
  registry = await startRegistry();
  source = await storeWithBusybox();
  work = await mkdtemp(join(tmpdir(), "bi-build-registry-"));
});
test.after(async () => {
  await registry.stop();
  await source.dispose();
  await rm(work, { recursive: true, force: true });
});

async function contextWith(name: string, dockerfile: string): Promise<string> {
  const dir = join(work, name);
  execFileSync("mkdir", ["-p", dir]);
  await writeFile(join(dir, "Dockerfile"), dockerfile);
  return dir;
}

test("build --push: skopeo reads what we pushed; a fresh root builds FROM it by pulling", async () => {
  const ref = `${registry.host}/team/base:1`;
  const pushed = await build({ context: await contextWith("base", "FROM busybox:latest\nRUN echo from-the-registry > /hello\n"), root: source.root, tags: [ref], push: true });
  const inspect = JSON.parse(execFileSync("skopeo", ["inspect", "--tls-verify=false", `docker://${ref}`], { encoding: "utf8" })) as { Digest: string; Layers: string[] };
  assert.is(inspect.Digest, pushed.digest);
  assert.is(inspect.Layers.length, 2);

  const fresh = await mkdtemp(join(tmpdir(), "bi-fresh-root-"));
  try {
    const dir = await contextWith("child", `FROM ${ref}\nRUN cat /hello > /copied\n`);
    const first = await build({ context: dir, root: fresh, tags: ["child:1"] });
    await inspectImage(fresh, "child:1", async (stat) => assert.is((await stat("/copied"))?.content, "from-the-registry\n"));
    assert.is(first.manifest.layers.length, 3);
    const snapshots = (await readdir(join(fresh, "snapshots"))).length;
    // A second build (and a --pull one) unpacks nothing again: the snapshots are reused.
    await writeFile(join(dir, "Dockerfile"), `FROM ${ref}\nRUN cat /hello /hello > /twice\n`);
    await build({ context: dir, root: fresh, tags: ["child:2"] });
    const events: BuildEvent[] = [];
    await build({ context: dir, root: fresh, tags: ["child:2"], pull: true, onEvent: (e) => events.push(e) });
    assert.is((await readdir(join(fresh, "snapshots"))).length, snapshots + 1);
    assert.ok(events.filter((e) => e.type === "cache").every((e) => e.type === "cache" && e.hit));
  } finally {
    await rm(fresh, { recursive: true, force: true });
  }
});

test("an image skopeo pushed (from our OCI export) is pulled and used in FROM", async () => {
  const layout = join(work, "layout");
  const store = await openStore(source.root);
  try {
    await exportOciLayout(store, ["busybox:latest"], layout);
  } finally {
    await store.close();
  }
  execFileSync("skopeo", ["copy", "--dest-tls-verify=false", `oci:${layout}:latest`, `docker://${registry.host}/skopeo/busybox:1`], { stdio: "pipe" });
  const fresh = await mkdtemp(join(tmpdir(), "bi-fresh-root-"));
  try {
    await build({ context: await contextWith("from-skopeo", `FROM ${registry.host}/skopeo/busybox:1\nRUN busybox echo pulled-from-skopeo > /ok\n`), root: fresh, tags: ["sk:1"] });
    await inspectImage(fresh, "sk:1", async (stat) => assert.is((await stat("/ok"))?.content, "pulled-from-skopeo\n"));
  } finally {
    await rm(fresh, { recursive: true, force: true });
  }
});

test("FROM a two-platform index skopeo pushed: the host's image is pulled and used", async () => {
  const layout = join(work, "multi");
  execFileSync("mkdir", ["-p", layout]);
  const host = hostPlatform().architecture;
  const other = host === "arm64" ? "amd64" : "arm64";
  const mine = await makeTestImage(layout, { architecture: host, layers: [{ "etc/arch": `${host}\n` }] });
  const theirs = await makeTestImage(layout, { architecture: other, layers: [{ "etc/arch": `${other}\n` }] });
  await writeOciLayout(layout, await makeTestIndex(layout, [mine, theirs]), "multi");
  execFileSync("skopeo", ["copy", "--all", "--dest-tls-verify=false", `oci:${layout}:multi`, `docker://${registry.host}/skopeo/multi:1`], { stdio: "pipe" });
  const fresh = await mkdtemp(join(tmpdir(), "bi-fresh-root-"));
  try {
    await build({ context: await contextWith("from-index", `FROM ${registry.host}/skopeo/multi:1\nRUN cat /etc/arch > /seen\n`), root: fresh, tags: ["multi:1"] });
    await inspectImage(fresh, "multi:1", async (stat, image) => {
      assert.is((await stat("/seen"))?.content, `${host}\n`);
      assert.is(image.config.architecture, host);
    });
  } finally {
    await rm(fresh, { recursive: true, force: true });
  }
});

test("a base whose layer arrives with wrong bytes: the build fails with the digest error, nothing is stored", async () => {
  const ref = `${registry.host}/team/corrupt:1`;
  const pushed = await build({ context: await contextWith("corrupt-base", "FROM busybox:latest\nRUN echo will-be-corrupted > /c\n"), root: source.root, tags: [ref], push: true });
  const layer = pushed.manifest.layers.at(-1)!.digest;
  const proxy = await startRegistryProxy(registry.host, (req) => (req.path.includes(layer) ? { kind: "corrupt" } : { kind: "pass" }));
  const fresh = await mkdtemp(join(tmpdir(), "bi-fresh-root-"));
  try {
    const err = await build({ context: await contextWith("corrupt-child", `FROM ${proxy.host}/team/corrupt:1\nRUN true\n`), root: fresh }).then(
      () => undefined,
      (e: { code?: string; cause?: { code?: string } }) => e,
    );
    assert.is(err?.code, "BUILD_BASE_NOT_FOUND");
    assert.is(err?.cause?.code, "BLOB_DIGEST_MISMATCH");
    assert.not.ok((await readdir(join(fresh, "blobs/sha256"))).includes(layer.slice(7)), "the bad layer was not stored");
    assert.equal(await readdir(join(fresh, "tmp")), [], "and no partial file is left");
  } finally {
    await proxy.stop();
    await rm(fresh, { recursive: true, force: true });
  }
});

test("a base that is neither local nor in the registry: BUILD_BASE_NOT_FOUND naming it, at the FROM line", async () => {
  const err = await build({ context: await contextWith("missing", `FROM ${registry.host}/no/such:image\n`), root: source.root }).then(
    () => undefined,
    (e: { code?: string; message: string; location?: { line: number } }) => e,
  );
  assert.is(err?.code, "BUILD_BASE_NOT_FOUND");
  assert.match(err!.message, /no\/such:image/);
  assert.is(err?.location?.line, 1);
});

test("push to a TLS registry: refused without its CA (REGISTRY_TLS), works with caFile", async () => {
  const tls = await startRegistry({ tls: true });
  try {
    const dir = await contextWith("tls", "FROM busybox:latest\nRUN echo over-tls > /t\n");
    const ref = `${tls.host}/tls/app:1`;
    const refused = await build({ context: dir, root: source.root, tags: [ref], push: true }).then(() => undefined, (e: { code?: string }) => e);
    assert.is(refused?.code, "REGISTRY_TLS");
    const ok = await build({ context: dir, root: source.root, tags: [ref], push: true, caFile: tls.caFile! });
    const inspect = JSON.parse(execFileSync("skopeo", ["inspect", ...tls.skopeoArgs("src").map((a) => a.replace("--src-", "--")), `docker://${ref}`], { encoding: "utf8" })) as { Digest: string };
    assert.is(inspect.Digest, ok.digest);
  } finally {
    await tls.stop();
  }
});

test("push to a registry with basic auth: refused without login, works after `build-image login`; no password in output", async () => {
  const secured = await startRegistry({ auth: "htpasswd" });
  const config = await mkdtemp(join(tmpdir(), "bi-docker-config-"));
  try {
    const env = { ...process.env, DOCKER_CONFIG: config, BUILD_IMAGE_ROOT: source.root, CI: "true" };
    const cli = (args: string[], input = "") => spawnSync(process.execPath, ["--import", "tsx", join(process.cwd(), "src/cli/main.ts"), ...args], { encoding: "utf8", env, input });
    const dir = await contextWith("auth", "FROM busybox:latest\nRUN echo secured > /s\n");
    const denied = cli(["build", "--push", "-q", "-t", `${secured.host}/private/app:1`, dir]);
    assert.is(denied.status, 1);
    assert.match(denied.stderr, /REGISTRY_UNAUTHORIZED/);
    const login = cli(["login", "-u", secured.username!, "--password-stdin", secured.host], `${secured.password}\n`);
    assert.is(login.status, 0, login.stderr);
    const ok = cli(["build", "--push", "--progress", "plain", "-t", `${secured.host}/private/app:1`, dir]);
    assert.is(ok.status, 0, ok.stderr);
    for (const output of [denied.stderr, login.stdout, login.stderr, ok.stderr, ok.stdout]) assert.not.ok(output.includes(secured.password!), "the password never shows");
    const pulled = cli(["pull", "--root", join(config, "other-root"), `${secured.host}/private/app:1`]);
    assert.is(pulled.status, 0, pulled.stderr);
    assert.match(pulled.stdout, /blob\(s\) downloaded/);
  } finally {
    await secured.stop();
    await rm(config, { recursive: true, force: true });
  }
});

test.run();
