// A failed or killed build leaves the store consistent: a failing RUN changes nothing but tmp/, and a
// build SIGKILLed mid-RUN is cleaned up by the next one (no mount, no process left behind).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, execFileSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build, isBuildError } from "./support.js";
import { storeWithBusybox } from "../helpers/images.js";
import { openStore } from "../../src/layers/index.js";

let root = "";
let dispose = async () => {};
let context = "";

test.before(async () => {
  ({ root, dispose } = await storeWithBusybox());
  context = await mkdtemp(join(tmpdir(), "bi-fail-ctx-"));
});
test.after(async () => {
  await dispose();
  await rm(context, { recursive: true, force: true });
});

/** Everything in the store but tmp/: blob names, snapshot dirs, index.json, cache records. */
async function storeState(): Promise<string> {
  const list = async (dir: string) => (await readdir(join(root, dir)).catch(() => [] as string[])).sort().join(",");
  return [await list("blobs/sha256"), await list("snapshots"), await readFile(join(root, "index.json"), "utf8"), await list("cache/records")].join("\n");
}

function mountsUnder(dir: string): string[] {
  return readFileSyncText("/proc/self/mountinfo").split("\n").filter((l) => l.split(" ")[4]?.startsWith(dir));
}

function readFileSyncText(path: string): string {
  return execFileSync("cat", [path], { encoding: "utf8" });
}

test("a failing RUN: BUILD_RUN_FAILED with the exit code and output tail at its line; the store is as it was", async () => {
  await writeFile(join(context, "Dockerfile"), "FROM busybox:latest\nRUN echo made > /file\nRUN echo first-line && echo 'oh no' >&2 && exit 3\n");
  const before = await storeState();
  const err = await build({ context, root, tags: ["fails:1"] }).then(() => undefined, (e: unknown) => e);
  assert.ok(isBuildError(err));
  assert.is(err.code, "BUILD_RUN_FAILED");
  assert.is(err.exitCode, 3);
  assert.equal([...(err.outputTail ?? [])].sort(), ["first-line", "oh no"], "stdout and stderr lines, in the order they arrived");
  assert.is(err.location?.line, 3);
  assert.match(err.message, /exit code: 3/);
  const after = await storeState();
  // The successful step before it is kept (a blob, a snapshot and a cache record, as BuildKit keeps it) —
  // so compare with a rerun: a second failure changes nothing at all.
  assert.not.equal(before, after);
  await build({ context, root, tags: ["fails:1"] }).catch(() => undefined);
  assert.is(await storeState(), after);
  assert.is(mountsUnder(root).length, 0, "no mount left");
  const store = await openStore(root);
  try {
    assert.equal((await store.content.fsck()).bad, []);
  } finally {
    await store.close();
  }
});

test("a build SIGKILLed mid-RUN: the next build cleans up and works; no mount or process is left", async () => {
  await writeFile(join(context, "Dockerfile"), "FROM busybox:latest\nRUN echo started && sleep 37.5 && echo never\n");
  const script = `import { build } from ${JSON.stringify(join(process.cwd(), "src/build/index.ts"))};
await build({ context: ${JSON.stringify(context)}, root: ${JSON.stringify(root)}, onEvent: (e) => { if (e.type === "log") console.log("LOG", e.text.trim()); } });`;
  const scriptFile = join(context, "killed-build.mjs");
  await writeFile(scriptFile, script);
  const child = spawn(process.execPath, ["--import", "tsx", scriptFile], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (d: Buffer) => d.toString().includes("LOG started") && resolve());
    child.on("exit", () => reject(new Error("the build ended before its RUN started")));
  });
  child.kill("SIGKILL");
  await new Promise((r) => child.on("exit", r));

  await writeFile(join(context, "Dockerfile"), "FROM busybox:latest\nRUN echo after-kill > /after\n");
  const result = await build({ context, root, tags: ["after-kill:1"] });
  assert.ok(result.digest.startsWith("sha256:"));
  assert.is(mountsUnder(root).length, 0, "no mount left");
  const sleepers = execFileSync("ps", ["-eo", "args"], { encoding: "utf8" }).split("\n").filter((l) => l.includes("sleep 37.5") && !l.includes("sh -c"));
  assert.equal(sleepers, [], "the killed build's process was killed");
  const store = await openStore(root);
  try {
    assert.equal((await store.content.fsck()).bad, []);
  } finally {
    await store.close();
  }
});

test("a failing stage stops a slow parallel stage at once, and its error is the one reported", async () => {
  await writeFile(join(context, "Dockerfile"), "FROM busybox:latest AS slow\nRUN sleep 30 && echo never > /x\n\nFROM busybox:latest AS broken\nRUN sleep 0.5 && exit 4\n\nFROM busybox:latest\nCOPY --from=slow /x /x\nCOPY --from=broken /etc/passwd /p\n");
  const started = Date.now();
  const err = await build({ context, root, jobs: 2 }).then(() => undefined, (e: unknown) => e);
  assert.ok(isBuildError(err));
  assert.is(err.code, "BUILD_RUN_FAILED");
  assert.is(err.exitCode, 4);
  assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms: the slow stage was not stopped`);
  assert.is(mountsUnder(root).length, 0, "no mount left");
  const sleepers = execFileSync("ps", ["-eo", "args"], { encoding: "utf8" }).split("\n").filter((l) => l.startsWith("sleep 30"));
  assert.equal(sleepers, []);
});

test.run();
