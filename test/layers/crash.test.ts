// A process SIGKILLed in the middle of writing a blob, with a snapshot and a view mounted: the next
// openStore unmounts and removes what it left, keeps what was committed, and fsck passes.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ownedName } from "../../src/layers/process-owner.js";
import { openStore } from "../../src/layers/store.js";
import { describeTree, mountsBelow, tempDir } from "./snapshots-fixtures.js";
import { rm } from "node:fs/promises";
import { execFileSync } from "node:child_process";

const child = new URL("./crash-child.ts", import.meta.url).pathname;

function runUntilReady(root: string, kind: string): Promise<{ kill: () => Promise<void>; activeRoot: string; viewRoot: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ["--import", "tsx", child, root, kind], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    proc.on("error", reject);
    proc.on("exit", (code) => reject(new Error(`child exited early with ${code}`)));
    proc.stdout.on("data", (d) => {
      out += d;
      const m = /ready (\S+) (\S+)/.exec(out);
      if (!m) return;
      proc.removeAllListeners("exit");
      resolve({
        activeRoot: m[1]!,
        viewRoot: m[2]!,
        kill: () => new Promise((done) => {
          proc.on("exit", () => done());
          proc.kill("SIGKILL");
        }),
      });
    });
  });
}

for (const kind of ["overlay", "copy"] as const) {
  test(`a SIGKILLed writer leaves nothing behind after the next open (${kind})`, async () => {
    const root = await tempDir("bi-crash-");
    try {
      const first = await openStore(root, { snapshotter: kind });
      const active = await first.snapshots.prepare(null);
      await writeFile(join(active.root, "committed"), "kept");
      const base = await active.commit();
      assert.not.ok(base.empty);
      const keptTree = describeTree(join(root, "snapshots", String((await first.snapshots.list())[0]!.id), "fs"));

      const crashed = await runUntilReady(root, kind);
      assert.ok((await readdir(join(root, "tmp"))).some((n) => n.endsWith(".blob")), "a partial blob is in tmp/");
      if (kind === "overlay") assert.ok(mountsBelow(root).length >= 2, "the child left mounts");
      await crashed.kill();

      const reopened = await openStore(root, { snapshotter: kind });
      assert.equal(mountsBelow(root), []);
      assert.equal(await readdir(join(root, "tmp")), []);
      assert.not.ok(existsSync(crashed.activeRoot));
      const snapshotDirs = (await readdir(join(root, "snapshots"))).filter((n) => /^\d+$/.test(n));
      assert.is(snapshotDirs.length, 1, `only the committed snapshot is left: ${snapshotDirs.join(",")}`);
      assert.equal(await reopened.content.fsck(), { ok: true, bad: [] });
      assert.equal((await reopened.snapshots.list()).map((s) => s.chainId), [base.chainId!]);
      assert.equal(describeTree(join(root, "snapshots", snapshotDirs[0]!, "fs")), keptTree);
    } finally {
      for (const m of mountsBelow(root).sort((a, b) => b.length - a.length)) execFileSync("umount", ["-l", m]);
      await rm(root, { recursive: true, force: true });
    }
  });
}

test("openStore leaves live work in tmp/ alone: this process's entries and fresh untagged ones", async () => {
  const root = await tempDir("bi-crash-");
  try {
    await openStore(root, { snapshotter: "copy" });
    const mine = join(root, "tmp", ownedName(".work"));
    const untagged = join(root, "tmp", "run-123-abc");
    const deadOwner = join(root, "tmp", "999999999.1.abc.blob");
    for (const path of [mine, untagged, deadOwner]) await writeFile(path, "x");
    await openStore(root, { snapshotter: "copy" });
    assert.ok(existsSync(mine));
    assert.ok(existsSync(untagged));
    assert.not.ok(existsSync(deadOwner));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test.run();
