// The build command as a user runs it: flags, progress modes, exit codes, outputs.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { storeWithBusybox } from "../helpers/images.js";

const test = suite("cli build");
let root = "";
let dispose = async () => {};
let dir = "";

function run(args: string[], input?: string) {
  const result = spawnSync(process.execPath, ["--import", "tsx", join(process.cwd(), "src/cli/main.ts"), ...args], {
    encoding: "utf8",
    input: input ?? "",
    env: { ...process.env, CI: "true", BUILD_IMAGE_ROOT: root },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test.before(async () => {
  ({ root, dispose } = await storeWithBusybox());
  dir = await mkdtemp(join(tmpdir(), "bi-cli-build-"));
  await writeFile(join(dir, "Dockerfile"), "FROM busybox:latest\nARG WHO=nobody\nCOPY hello.txt /\nRUN echo \"hi $WHO\" > /who && cat /who\nCMD [\"cat\", \"/who\"]\n");
  await writeFile(join(dir, "hello.txt"), "hello\n");
});
test.after(async () => {
  await dispose();
  await rm(dir, { recursive: true, force: true });
});

test("plain progress, -t, --build-arg, --iidfile, --metadata-file; then `run` prints the CMD's output", () => {
  const r = run(["build", "-t", "cli-app:1", "--build-arg", "WHO=cli", "--progress", "plain", "--iidfile", join(dir, "iid"), "--metadata-file", join(dir, "meta.json"), dir]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /#\d+ \[stage-0 4\/5\] RUN echo "hi \$WHO" > \/who && cat \/who/);
  assert.match(r.stderr, /#\d+ \d+\.\ds hi cli/);
  const out = run(["run", "cli-app:1"]);
  assert.is(out.stdout, "hi cli\n");
  return Promise.all([readFile(join(dir, "iid"), "utf8"), readFile(join(dir, "meta.json"), "utf8")]).then(([iid, meta]) => {
    assert.match(iid, /^sha256:[0-9a-f]{64}$/);
    const parsed = JSON.parse(meta) as Record<string, string>;
    assert.is(parsed["containerimage.config.digest"], iid);
    assert.match(parsed["containerimage.digest"]!, /^sha256:/);
  });
});

test("the default command is build; a warm rebuild says CACHED for every layer step", () => {
  const r = run(["-t", "cli-app:1", "--build-arg", "WHO=cli", "--progress", "plain", dir]);
  assert.is(r.code, 0, r.stderr);
  assert.is((r.stderr.match(/CACHED/g) ?? []).length, 3, r.stderr);
  assert.not.match(r.stderr, /cache miss/);
});

test("--progress json prints one event a line; -q prints only the image ID", () => {
  const r = run(["build", "--progress", "json", dir]);
  assert.is(r.code, 0);
  const events = r.stderr.trim().split("\n").map((l) => JSON.parse(l) as { type: string });
  assert.ok(events.some((e) => e.type === "step-start"));
  assert.is(events.at(-1)?.type, "build-end");
  const q = run(["build", "-q", dir]);
  assert.match(q.stdout, /^sha256:[0-9a-f]{64}\n$/);
  assert.is(q.stderr, "");
});

test("-f - reads the Dockerfile from stdin", () => {
  const r = run(["build", "-q", "-f", "-", "-t", "from-stdin", dir], "FROM busybox:latest\nRUN echo stdin > /s\n");
  assert.is(r.code, 0, r.stderr);
  assert.is(run(["run", "from-stdin", "cat", "/s"]).stdout, "stdin\n");
});

test("--output type=docker, type=oci (dir and tar), type=local", async () => {
  const r = run(["build", "-q", "-t", "out:1", "-o", `type=docker,dest=${join(dir, "d.tar")}`, "-o", `type=oci,dest=${join(dir, "layout")}`, "-o", `type=oci,dest=${join(dir, "o.tar")}`, "-o", `type=local,dest=${join(dir, "files")}`, dir]);
  assert.is(r.code, 0, r.stderr);
  const listing = execFileSync("tar", ["-tf", join(dir, "d.tar")], { encoding: "utf8" });
  assert.match(listing, /manifest\.json/);
  assert.ok((await stat(join(dir, "layout/index.json"))).isFile());
  assert.match(execFileSync("tar", ["-tf", join(dir, "o.tar")], { encoding: "utf8" }), /index\.json/);
  assert.is(await readFile(join(dir, "files/who"), "utf8"), "hi nobody\n");
});

test("exit codes: 1 for a failing RUN (with the step and its output), 2 for bad usage, errors with a caret", async () => {
  const failing = await mkdtemp(join(tmpdir(), "bi-cli-fail-"));
  try {
    await writeFile(join(failing, "Dockerfile"), "FROM busybox:latest\nRUN echo about to fail && exit 7\n");
    const r = run(["build", "--progress", "plain", failing]);
    assert.is(r.code, 1);
    assert.match(r.stderr, /error: .*Dockerfile:2:1: process "\/bin\/sh -c echo about to fail && exit 7" did not complete successfully: exit code: 7/);
    assert.match(r.stderr, /> about to fail/);
    assert.not.match(r.stderr, /\n\s+at /, "no stack trace");
    await writeFile(join(failing, "Dockerfile"), "FROM busybox:latest\nCOPY --badflag=1 a b\n");
    const bad = run(["build", failing]);
    assert.is(bad.code, 1);
    assert.match(bad.stderr, /Dockerfile:2:\d+/);
    assert.match(bad.stderr, /\n\s+\^/);
  } finally {
    await rm(failing, { recursive: true, force: true });
  }
  assert.is(run(["build"]).code, 2);
  assert.is(run(["build", "--network", "bridge", dir]).code, 2);
  assert.is(run(["build", "--no-such-flag", dir]).code, 2);
});

test.run();
