import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cacheKey, openCache, type Cache, type CacheInputs } from "../../src/cache/index.js";

const digest = (c: string) => "sha256:" + c.repeat(64);
const BASE = digest("a");
const SLOT = "/ctx|Dockerfile|0|2";

async function withCache(fn: (cache: Cache) => Promise<void>) {
  const root = await mkdtemp(join(tmpdir(), "bi-explain-"));
  try {
    await fn(await openCache(root));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** Records `before` under SLOT, then explains why `after` misses against it. */
async function explain(cache: Cache, before: CacheInputs, after: CacheInputs, parents: [string | null, string | null] = [BASE, BASE]): Promise<string> {
  await cache.put(cacheKey(parents[0], before), { parent: parents[0], inputs: before, result: { empty: true, chainId: null }, slot: SLOT });
  return cache.explainMiss(SLOT, parents[1], after);
}

const run = (over: Record<string, unknown> = {}): CacheInputs => ({
  kind: "run",
  fields: { command: "make", shell: ["/bin/sh", "-c"], env: { PATH: "/bin" }, args: { VERSION: "1" }, user: "", workdir: "/", network: "default", mounts: [], security: "sandbox", ...(over as object) },
});
const copy = (over: Record<string, unknown> = {}): CacheInputs => ({
  kind: "copy",
  fields: { paths: ["src/"], sources: digest("1"), files: { "src/app.ts": digest("3"), "src/util.ts": digest("4") }, dest: "/app/", chown: "", chmod: "", from: "", link: "false", parents: "false", exclude: [], ...(over as object) },
});

test("first build of a step", () =>
  withCache(async (cache) => {
    assert.is(await cache.explainMiss(SLOT, BASE, run()), "no cache record (first build of this step)");
  }));

test("parent step changed; or, when the parent changed through an inherited input, that input", () =>
  withCache(async (cache) => {
    const other: [string, string] = [BASE, digest("b")];
    assert.is(await explain(cache, run(), run(), other), "parent step changed");
    assert.is(await explain(cache, run(), run({ command: "make all" }), other), "parent step changed", "the command is not inherited");
    assert.is(await explain(cache, run(), run({ env: { PATH: "/usr/bin" } }), other), "ENV PATH changed");
    assert.is(await explain(cache, run(), run({ args: { VERSION: "2" } }), other), "RUN: build arg VERSION changed");
    assert.is(await explain(cache, run(), run({ user: "app" }), other), "RUN: user changed (none → app)");
    assert.is(await explain(cache, copy(), copy({ workdir: "/srv" }), other), "COPY src/: working directory changed (none → /srv)");
  }));

test("RUN: command, build arg, env, user, workdir, network, shell, mounts", () =>
  withCache(async (cache) => {
    assert.is(await explain(cache, run(), run({ command: "make all" })), "RUN: command changed");
    assert.is(await explain(cache, run(), run({ args: { VERSION: "2" }, command: "make V=2" })), "RUN: build arg VERSION changed", "the arg, not the command it expands into");
    assert.is(await explain(cache, run(), run({ args: { VERSION: "1", DEBUG: "1" } })), "RUN: build arg DEBUG changed");
    assert.is(await explain(cache, run(), run({ env: { PATH: "/usr/bin:/bin" } })), "ENV PATH changed");
    assert.is(await explain(cache, run(), run({ user: "app" })), "RUN: user changed (none → app)");
    assert.is(await explain(cache, run(), run({ workdir: "/src" })), "RUN: working directory changed (/ → /src)");
    assert.is(await explain(cache, run(), run({ network: "none" })), "RUN: network changed (default → none)");
    assert.is(await explain(cache, run(), run({ shell: ["/bin/bash", "-c"] })), "RUN: shell changed (/bin/sh -c → /bin/bash -c)");
    assert.is(await explain(cache, run(), run({ mounts: ["type=secret,id=npmrc"] })), "RUN: --mount changed (none → type=secret,id=npmrc)");
    assert.is(await explain(cache, run(), run({ security: "insecure" })), "RUN: --security changed (sandbox → insecure)");
  }));

test("COPY: names the first changed, added or removed file", () =>
  withCache(async (cache) => {
    const changed = copy({ sources: digest("2"), files: { "src/app.ts": digest("5"), "src/util.ts": digest("4") } });
    assert.is(await explain(cache, copy(), changed), "COPY src/: src/app.ts changed");
    const added = copy({ sources: digest("2"), files: { "src/app.ts": digest("3"), "src/new.ts": digest("6"), "src/util.ts": digest("4") } });
    assert.is(await explain(cache, copy(), added), "COPY src/: src/new.ts added");
    const removed = copy({ sources: digest("2"), files: { "src/app.ts": digest("3") } });
    assert.is(await explain(cache, copy(), removed), "COPY src/: src/util.ts removed");
  }));

test("COPY: without per-file digests, says the sources changed; flags and destination by name", () =>
  withCache(async (cache) => {
    const { files: _files, ...noFiles } = copy().fields;
    assert.is(await explain(cache, { kind: "copy", fields: noFiles }, { kind: "copy", fields: { ...noFiles, sources: digest("2") } }), "COPY src/: source files changed");
    assert.is(await explain(cache, copy(), copy({ dest: "/srv/" })), "COPY src/: destination changed (/app/ → /srv/)");
    assert.is(await explain(cache, copy(), copy({ chown: "1000:1000" })), "COPY src/: --chown changed (none → 1000:1000)");
    assert.is(await explain(cache, copy(), copy({ chmod: "755" })), "COPY src/: --chmod changed (none → 755)");
    assert.is(await explain(cache, copy(), copy({ from: "builder" })), "COPY src/: --from changed (none → builder)");
    assert.is(await explain(cache, copy(), copy({ link: "true" })), "COPY src/: --link changed (false → true)");
    assert.is(await explain(cache, copy(), copy({ exclude: ["*.md"] })), "COPY src/: --exclude changed (none → *.md)");
    assert.is(await explain(cache, copy(), copy({ paths: ["lib/"] })), "COPY lib/: sources changed (src/ → lib/)");
    const { paths: _paths, ...unnamed } = copy().fields;
    assert.is(await explain(cache, { kind: "copy", fields: unnamed }, { kind: "copy", fields: { ...unnamed, heredocs: ["a.sh:echo hi"] } }), "COPY: heredoc changed (none → a.sh:echo hi)");
  }));

test("ADD, FROM, WORKDIR and metadata instructions", () =>
  withCache(async (cache) => {
    const add = (sources: string): CacheInputs => ({ kind: "add", fields: { paths: ["https://example.com/x.tgz"], sources, dest: "/x/" } });
    assert.is(await explain(cache, add(digest("1")), add(digest("2"))), "ADD https://example.com/x.tgz: source files changed");
    const from = (d: string, platform = "linux/amd64"): CacheInputs => ({ kind: "from", fields: { digest: d, platform } });
    assert.is(await explain(cache, from(digest("1")), from(digest("2")), [null, null]), "FROM: base image changed (sha256:111111111111 → sha256:222222222222)");
    assert.is(await explain(cache, from(digest("1")), from(digest("1"), "linux/arm64"), [null, null]), "FROM: platform changed (linux/amd64 → linux/arm64)");
    assert.is(await explain(cache, { kind: "workdir", fields: { path: "/a" } }, { kind: "workdir", fields: { path: "/b" } }), "WORKDIR changed (/a → /b)");
    const env = (path: string): CacheInputs => ({ kind: "meta", fields: { instruction: "ENV", env: { PATH: path, HOME: "/root" } } });
    assert.is(await explain(cache, env("/bin"), env("/usr/bin")), "ENV PATH changed");
    const cmd = (c: string[]): CacheInputs => ({ kind: "meta", fields: { instruction: "CMD", value: c } });
    assert.is(await explain(cache, cmd(["node"]), cmd(["node", "app.js"])), "CMD changed");
    assert.is(await explain(cache, cmd(["node"]), { kind: "meta", fields: { instruction: "ENTRYPOINT", value: ["node"] } }), "instruction changed (CMD → ENTRYPOINT)");
    assert.is(await explain(cache, cmd(["node"]), run()), "instruction changed (metadata → RUN)");
  }));

test("with no record for the slot, the closest record with the same parent explains", () =>
  withCache(async (cache) => {
    for (const command of ["make a", "make b"]) {
      const inputs = run({ command, user: "app" });
      await cache.put(cacheKey(BASE, inputs), { parent: BASE, inputs, result: { empty: true, chainId: null }, slot: `other|${command}` });
    }
    // Only the command differs from the first two records; a user change would be a second difference.
    assert.is(await cache.explainMiss("new-slot", BASE, run({ command: "make c", user: "app" })), "RUN: command changed");
    assert.is(await cache.explainMiss("new-slot", digest("c"), run()), "no cache record (first build of this step)");
  }));

test("the slot remembers the last record put", () =>
  withCache(async (cache) => {
    await explain(cache, run({ command: "one" }), run());
    await explain(cache, run({ command: "two", user: "app" }), run());
    assert.is(await cache.explainMiss(SLOT, BASE, run({ command: "two" })), "RUN: user changed (app → none)");
  }));

test.run();
