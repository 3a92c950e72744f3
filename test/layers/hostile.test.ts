// Hostile layers, each a tar built here with tar-stream (not our writer): every one is refused with its
// own error code naming the entry, and nothing is written outside the snapshot — checked by a sentinel
// tree beside it that must stay exactly as it was.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import tarStream from "tar-stream";
import { applyTar, type LayerForm } from "../../src/layers/apply.js";
import { describeTree, tempDir, withStore } from "./snapshots-fixtures.js";

type Entry = { name: string; type?: "file" | "directory" | "symlink" | "link"; linkname?: string; body?: string };

async function makeTar(entries: Entry[]): Promise<Buffer> {
  const pack = tarStream.pack();
  const done = (async () => {
    const chunks: Buffer[] = [];
    for await (const c of pack) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  })();
  for (const e of entries) {
    await new Promise<void>((resolve, reject) =>
      pack.entry({ name: e.name, type: e.type ?? "file", linkname: e.linkname, mode: e.type === "directory" ? 0o755 : 0o644 }, e.body ?? "", (err) => (err ? reject(err) : resolve())),
    );
  }
  pack.finalize();
  return done;
}

/** A sandbox: `<dir>/outside` (a sentinel tree) beside `<dir>/root` (the snapshot). */
async function sandbox() {
  const dir = await tempDir("bi-hostile-");
  await mkdir(join(dir, "outside/etc"), { recursive: true });
  await writeFile(join(dir, "outside/etc/passwd"), "root:x:0:0::/root:/bin/sh\n");
  await mkdir(join(dir, "root"));
  return dir;
}

async function expectRefused(form: LayerForm, entries: (dir: string) => Entry[], code: string, entry: string | ((dir: string) => string)) {
  const dir = await sandbox();
  const entryName = typeof entry === "string" ? entry : entry(dir);
  try {
    const before = describeTree(join(dir, "outside"));
    const tar = await makeTar(entries(dir));
    const err = await applyTar(join(dir, "root"), Readable.from([tar]), { form, tmpDir: dir }).catch((e: unknown) => e);
    assert.is((err as { code?: string }).code, code, String(err));
    assert.is((err as { entry?: string }).entry, entryName);
    assert.match((err as Error).message, entryName);
    assert.equal(describeTree(join(dir, "outside")), before, "the tree outside the snapshot changed");
    assert.equal((await readdir(dir)).sort(), ["outside", "root"]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

for (const form of ["upper", "full"] as const) {
  const test = suite(`hostile layers (${form} form)`);

  test("../escape is LAYER_PATH_ESCAPE", () =>
    expectRefused(form, () => [{ name: "ok", body: "fine" }, { name: "../outside/escape", body: "pwned" }], "LAYER_PATH_ESCAPE", "../outside/escape"));

  test("a .. hidden in the middle is LAYER_PATH_ESCAPE too", () =>
    expectRefused(form, () => [{ name: "a/../../outside/etc/passwd", body: "pwned" }], "LAYER_PATH_ESCAPE", "a/../../outside/etc/passwd"));

  test("/abs/path is LAYER_ABSOLUTE_PATH, and the absolute path is not written", async () => {
    const abs = (dir: string) => join(dir, "outside/abs-written");
    // abs-written would land in the sentinel tree, which expectRefused checks is unchanged.
    await expectRefused(form, (d) => [{ name: abs(d), body: "pwned" }], "LAYER_ABSOLUTE_PATH", abs);
  });

  test("a symlink to / and then a file through it is LAYER_THROUGH_SYMLINK", () => {
    const through = (dir: string) => `rootlink${join(dir, "outside/etc/passwd")}`;
    return expectRefused(form, (dir) => [{ name: "rootlink", type: "symlink", linkname: "/" }, { name: through(dir), body: "pwned" }], "LAYER_THROUGH_SYMLINK", through);
  });

  test("a chain of symlinks climbing with .. is LAYER_SYMLINK_ESCAPE", () =>
    expectRefused(
      form,
      () => [
        { name: "a", type: "symlink", linkname: "." },
        { name: "b", type: "symlink", linkname: "a/../.." },
        { name: "b/outside/etc/passwd", body: "pwned" },
      ],
      "LAYER_SYMLINK_ESCAPE",
      "b/outside/etc/passwd",
    ));

  test("a hardlink to a path outside is LAYER_HARDLINK_ESCAPE", () =>
    expectRefused(form, () => [{ name: "pw", type: "link", linkname: "../outside/etc/passwd" }], "LAYER_HARDLINK_ESCAPE", "pw"));

  test("a hardlink to an absolute path is LAYER_HARDLINK_ESCAPE", () =>
    expectRefused(form, (dir) => [{ name: "pw", type: "link", linkname: join(dir, "outside/etc/passwd") }], "LAYER_HARDLINK_ESCAPE", "pw"));

  test("a hardlink through a directory swapped for a symlink is LAYER_HARDLINK_TARGET_MISSING", () =>
    expectRefused(
      form,
      (dir) => [
        { name: "d", type: "directory" },
        { name: "d/passwd", body: "inside" },
        { name: "d", type: "symlink", linkname: join(dir, "outside/etc") },
        { name: "pw", type: "link", linkname: "d/passwd" },
      ],
      "LAYER_HARDLINK_TARGET_MISSING",
      "pw",
    ));

  test.run();
}

const exact = suite("hostile layers: messages and the store");
exact("the through-symlink error names the entry and the symlink", async () => {
  const dir = await sandbox();
  try {
    const name = `rootlink${join(dir, "outside/etc/passwd")}`;
    const tar = await makeTar([{ name: "rootlink", type: "symlink", linkname: "/" }, { name, body: "pwned" }]);
    const err = (await applyTar(join(dir, "root"), Readable.from([tar]), { form: "upper", tmpDir: dir }).catch((e: unknown) => e)) as {
      code: string;
      entry: string;
      message: string;
    };
    assert.is(err.code, "LAYER_THROUGH_SYMLINK");
    assert.is(err.entry, name);
    assert.match(err.message, '"rootlink" -> "/"');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

exact("a symlink from an earlier layer is shadowed by a directory, never followed (both snapshotters)", async () => {
  for (const kind of ["overlay", "copy"] as const) {
    await withStore({ snapshotter: kind }, async (store) => {
      const outside = await tempDir("bi-outside-");
      try {
        const first = await makeTar([{ name: "lib", type: "symlink", linkname: outside }]);
        const second = await makeTar([{ name: "lib/planted", body: "pwned" }]);
        const mediaType = "application/vnd.oci.image.layer.v1.tar";
        const a = await store.snapshots.applyLayer(null, Readable.from([first]), { mediaType });
        const b = await store.snapshots.applyLayer(a.chainId, Readable.from([second]), { mediaType });
        assert.equal(await readdir(outside), [], `${kind}: nothing written through the old symlink`);
        const view = await store.snapshots.view(b.chainId);
        try {
          assert.equal(describeTree(view.root).map((l) => l.split(" ").slice(0, 2).join(" ")), ["lib dir", "lib/planted file"]);
        } finally {
          await view.release();
        }
      } finally {
        await rm(outside, { recursive: true, force: true });
      }
    });
  }
});

exact("through the store, a hostile layer registers no snapshot and leaves no temporary files", async () => {
  for (const kind of ["overlay", "copy"] as const) {
    await withStore({ snapshotter: kind }, async (store) => {
      const tar = await makeTar([{ name: "../escape", body: "x" }]);
      const err = await store.snapshots.applyLayer(null, Readable.from([tar]), { mediaType: "application/vnd.oci.image.layer.v1.tar" }).catch((e: unknown) => e);
      assert.is((err as { code?: string }).code, "LAYER_PATH_ESCAPE");
      assert.equal(await store.snapshots.list(), []);
      assert.equal(await readdir(join(store.root, "tmp")), []);
      assert.not.ok(existsSync(join(store.root, "snapshots/escape")));
    });
  }
});

exact.run();
