// One suite, run against both snapshotters (as containerd's snapshots/testsuite does): real overlayfs
// mounts for "overlay", plain copies for "copy", and GNU tar as the judge of every layer written.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { chmod, link, mkdir, readdir, rm, symlink, writeFile, chown } from "node:fs/promises";
import { join } from "node:path";
import { childChainId } from "../../src/layers/digest.js";
import { runInSnapshot } from "../../src/layers/snapshots-run.js";
import type { Store } from "../../src/layers/store.js";
import type { CommittedLayer } from "../../src/layers/snapshots.js";
import { makeBusyboxRoot } from "../helpers/busybox.js";
import { describeTree, hasCode, mountsBelow, tarList, tarNames, withStore } from "./snapshots-fixtures.js";

type Layer = Extract<CommittedLayer, { empty: false }>;

async function commitLayer(store: Store, parent: string | null, change: (root: string) => Promise<void>): Promise<Layer> {
  const { layer } = await runInSnapshot(store.snapshots, parent, change, { sourceDateEpoch: 1_700_000_000 });
  assert.not.ok(layer.empty, "expected a non-empty layer");
  return layer as Layer;
}

async function viewTree(store: Store, chainId: string): Promise<string[]> {
  const view = await store.snapshots.view(chainId);
  try {
    return describeTree(view.root);
  } finally {
    await view.release();
  }
}

/** A small base: files, a dir tree, a symlink, a hardlink pair, an owned file, a setuid file. */
async function makeBase(root: string): Promise<void> {
  await mkdir(join(root, "etc"), { recursive: true });
  await writeFile(join(root, "etc/passwd"), "root:x:0:0::/root:/bin/sh\n");
  await mkdir(join(root, "usr/lib/deep"), { recursive: true });
  await writeFile(join(root, "usr/lib/deep/a.so"), "A".repeat(5000));
  await writeFile(join(root, "usr/lib/deep/b.so"), "B");
  await mkdir(join(root, "opt/tool"), { recursive: true });
  await writeFile(join(root, "opt/tool/run"), "#!/bin/sh\n");
  await writeFile(join(root, "delete-me"), "bye");
  await writeFile(join(root, "replace-me"), "file that becomes a dir");
  await mkdir(join(root, "dir-becomes-file/inner"), { recursive: true });
  await writeFile(join(root, "dir-becomes-file/inner/x"), "x");
  await writeFile(join(root, "mode-only"), "same bytes");
  await chmod(join(root, "mode-only"), 0o644);
  await symlink("usr/lib", join(root, "lib"));
  await writeFile(join(root, "hard1"), "linked");
  await link(join(root, "hard1"), join(root, "hard2"));
  await writeFile(join(root, "owned"), "mine");
  await chown(join(root, "owned"), 1000, 50);
  await writeFile(join(root, "suid"), "s");
  await chmod(join(root, "suid"), 0o4755);
}

async function changeBase(root: string): Promise<void> {
  await rm(join(root, "delete-me"));
  await rm(join(root, "replace-me"));
  await mkdir(join(root, "replace-me"));
  await writeFile(join(root, "replace-me/now-a-dir"), "inside");
  await rm(join(root, "dir-becomes-file"), { recursive: true });
  await writeFile(join(root, "dir-becomes-file"), "now a file");
  await chmod(join(root, "mode-only"), 0o600);
  await rm(join(root, "opt/tool"), { recursive: true });
  await mkdir(join(root, "opt/tool"));
  await writeFile(join(root, "opt/tool/new"), "fresh");
  await writeFile(join(root, "usr/lib/deep/b.so"), "B2");
}

for (const kind of ["overlay", "copy"] as const) {
  const test = suite(`snapshots (${kind})`);
  const open = { snapshotter: kind };

  test("the store picks the requested snapshotter", () =>
    withStore(open, async (store) => {
      assert.is(store.snapshots.kind, kind);
    }));

  test("a first layer: chain ID is its diff ID, the blob is stored, tar lists it with numeric owners", () =>
    withStore(open, async (store) => {
      const layer = await commitLayer(store, null, makeBase);
      assert.is(layer.chainId, layer.diffId);
      assert.is(layer.mediaType, "application/vnd.oci.image.layer.v1.tar+gzip");
      assert.is(await store.content.size(layer.digest), layer.size);
      const listing = tarList(store.content.path(layer.digest));
      assert.ok(listing.some((l) => / 1000\/50 .* owned$/.test(l)), listing.join("\n"));
      assert.ok(listing.some((l) => /^-rwsr-xr-x .* suid$/.test(l)));
      assert.ok(listing.some((l) => /^h.* hard2 link to hard1$/.test(l)), "hardlink kept as a hardlink");
      assert.ok(listing.some((l) => /^l.* lib -> usr\/lib$/.test(l)));
      assert.ok(await store.snapshots.has(layer.chainId));
      assert.equal(mountsBelow(store.root), []);
    }));

  test("a second layer: whiteouts for deletions, a dir replacing a file, a mode change; the view merges them", () =>
    withStore(open, async (store) => {
      const base = await commitLayer(store, null, makeBase);
      const top = await commitLayer(store, base.chainId, changeBase);
      assert.is(top.chainId, childChainId(base.chainId, top.diffId));
      const names = tarNames(store.content.path(top.digest));
      // GNU tar lists the whiteout as an empty regular file owned by 0/0.
      assert.ok(tarList(store.content.path(top.digest)).some((l) => /^-{10} 0\/0 +0 .* \.wh\.delete-me$/.test(l)));
      assert.ok(names.includes("replace-me/") && names.includes("replace-me/now-a-dir"));
      assert.ok(names.includes("dir-becomes-file"));
      assert.ok(names.includes("mode-only"));
      assert.ok(names.includes("usr/lib/deep/b.so"));
      assert.not.ok(names.includes("usr/lib/deep/a.so"), "unchanged files are not in the layer");
      // opt/tool was removed and made again: overlay marks it opaque, the copy diff whites out its old child.
      assert.ok(names.includes("opt/tool/.wh..wh..opq") || names.includes("opt/tool/.wh.run"), names.join("\n"));
      const listing = tarList(store.content.path(top.digest));
      assert.ok(listing.some((l) => /^-rw------- .* mode-only$/.test(l)));

      const tree = await viewTree(store, top.chainId);
      const paths = tree.map((l) => l.split(" ")[0]);
      assert.not.ok(paths.includes("delete-me"));
      assert.not.ok(paths.includes("opt/tool/run"));
      assert.ok(paths.includes("opt/tool/new"));
      assert.ok(tree.includes("dir-becomes-file file 10 " + tree.find((l) => l.startsWith("dir-becomes-file "))!.split(" ")[3] + " 644 0:0"));
      assert.not.ok(paths.includes("dir-becomes-file/inner"));
      assert.ok(tree.some((l) => l.startsWith("mode-only file 10 ") && l.endsWith(" 600 0:0")));
      assert.ok(tree.some((l) => l.startsWith("usr/lib/deep/a.so file 5000 ")));
      assert.equal(mountsBelow(store.root).length, 0);
    }));

  test("a RUN-like step: busybox runs in the prepared root, and the layer holds exactly what it changed", () =>
    withStore(open, async (store) => {
      const base = await commitLayer(store, null, makeBusyboxRoot);
      const step = await commitLayer(store, base.chainId, async (root) => {
        execFileSync("chroot", [root, "/bin/sh", "-c", "rm /bin/ls && echo hi > /etc/motd && chmod 600 /etc/group && mkdir -p /app && echo app > /app/main"]);
      });
      const listing = tarList(store.content.path(step.digest));
      const names = listing.map((l) => l.split(/\s+/).slice(5).join(" "));
      assert.ok(names.includes("bin/.wh.ls"), listing.join("\n"));
      assert.ok(listing.some((l) => /^-rw------- 0\/0 .* etc\/group$/.test(l)));
      assert.ok(names.includes("etc/motd") && names.includes("app/main"));
      assert.not.ok(names.includes("bin/busybox"), "untouched files stay in the base layer");
      const tree = (await viewTree(store, step.chainId)).map((l) => l.split(" ")[0]);
      assert.not.ok(tree.includes("bin/ls"));
      assert.ok(tree.includes("bin/cat") && tree.includes("app/main"));
    }));

  test("renaming a lower directory (overlay answers EXDEV, mv copies) gives a whiteout and the new tree", () =>
    withStore(open, async (store) => {
      const base = await commitLayer(store, null, makeBase);
      const moved = await commitLayer(store, base.chainId, async (root) => {
        execFileSync("mv", [join(root, "usr/lib/deep"), join(root, "usr/lib/moved")]);
      });
      const names = tarNames(store.content.path(moved.digest));
      assert.ok(names.includes("usr/lib/.wh.deep"), names.join("\n"));
      assert.ok(names.includes("usr/lib/moved/a.so") && names.includes("usr/lib/moved/b.so"));
      const tree = (await viewTree(store, moved.chainId)).map((l) => l.split(" ")[0]);
      assert.not.ok(tree.includes("usr/lib/deep"));
      assert.ok(tree.includes("usr/lib/moved/a.so"));
    }));

  test("an unchanged root commits as empty: no blob, the parent's chain", () =>
    withStore(open, async (store) => {
      const base = await commitLayer(store, null, makeBase);
      const blobs = await store.content.list();
      const active = await store.snapshots.prepare(base.chainId);
      const result = await active.commit();
      assert.equal(result, { empty: true, chainId: base.chainId });
      assert.equal(await store.content.list(), blobs);
      assert.is((await store.snapshots.list()).length, 1);
      const emptyOnScratch = await (await store.snapshots.prepare(null)).commit();
      assert.equal(emptyOnScratch, { empty: true, chainId: null });
    }));

  test("abort removes the snapshot and its mount; a second commit is refused", () =>
    withStore(open, async (store) => {
      const active = await store.snapshots.prepare(null);
      await writeFile(join(active.root, "f"), "x");
      await active.abort();
      assert.equal(mountsBelow(store.root), []);
      assert.equal((await readdir(join(store.root, "snapshots"))).filter((n) => /^\d+$/.test(n)), []);
      const other = await store.snapshots.prepare(null);
      await writeFile(join(other.root, "f"), "x");
      await other.commit();
      const err = await other.commit().catch((e: unknown) => e);
      assert.ok(hasCode("SNAPSHOT_STATE")(err));
    }));

  test("runInSnapshot: a step that throws leaves no mount and no snapshot; one that works gives its layer", () =>
    withStore(open, async (store) => {
      const err = await runInSnapshot(store.snapshots, null, async (root) => {
        await writeFile(join(root, "half"), "x");
        throw new Error("step failed");
      }).catch((e: unknown) => e);
      assert.is((err as Error).message, "step failed");
      assert.equal(mountsBelow(store.root), []);
      assert.equal((await readdir(join(store.root, "snapshots"))).filter((n) => /^\d+$/.test(n)), []);
      const { value, layer } = await runInSnapshot(store.snapshots, null, async (root) => {
        await writeFile(join(root, "done"), "x");
        return 42;
      });
      assert.is(value, 42);
      assert.not.ok(layer.empty);
      assert.equal(mountsBelow(store.root), []);
    }));

  test("a commit that fails (aborted) leaves no mount and no snapshot", () =>
    withStore(open, async (store) => {
      const active = await store.snapshots.prepare(null);
      await writeFile(join(active.root, "f"), "x".repeat(100000));
      const controller = new AbortController();
      controller.abort();
      const err = await active.commit({ signal: controller.signal }).catch((e: unknown) => e);
      assert.is((err as Error).name, "AbortError");
      await active.abort();
      assert.equal(mountsBelow(store.root), []);
      assert.equal(await store.snapshots.list(), []);
    }));

  test("applyLayer of committed layers rebuilds the same chain and tree in another store", () =>
    withStore(open, async (store) => {
      const base = await commitLayer(store, null, makeBase);
      const top = await commitLayer(store, base.chainId, changeBase);
      const expected = await viewTree(store, top.chainId);
      for (const other of ["overlay", "copy"] as const) {
        await withStore({ snapshotter: other }, async (target) => {
          const mediaType = base.mediaType;
          const a = await target.snapshots.applyLayer(null, store.content.open(base.digest), { mediaType, diffId: base.diffId });
          const b = await target.snapshots.applyLayer(a.chainId, store.content.open(top.digest), { mediaType, diffId: top.diffId });
          assert.is(a.chainId, base.chainId);
          assert.is(b.chainId, top.chainId);
          assert.equal(await viewTree(target, b.chainId), expected, `applied into ${other}`);
          // Present already: reused without reading the blob.
          const again = await target.snapshots.applyLayer(a.chainId, store.content.open(top.digest), { mediaType, diffId: top.diffId });
          assert.is(again.chainId, top.chainId);
          assert.is((await target.snapshots.list()).length, 2);
        });
      }
    }));

  test("applyLayer with a wrong diff ID fails with LAYER_DIFF_ID_MISMATCH and registers nothing", () =>
    withStore(open, async (store) => {
      const base = await commitLayer(store, null, makeBase);
      await withStore(open, async (target) => {
        const wrong = `sha256:${"0".repeat(64)}`;
        const err = await target.snapshots
          .applyLayer(null, store.content.open(base.digest), { mediaType: base.mediaType, diffId: wrong })
          .catch((e: unknown) => e);
        assert.ok(hasCode("LAYER_DIFF_ID_MISMATCH")(err), String(err));
        assert.equal(await target.snapshots.list(), []);
        assert.equal((await readdir(join(target.root, "snapshots"))).filter((n) => /^\d+$/.test(n)), []);
      });
    }));

  test("plain tar and zstd layers apply too", () =>
    withStore(open, async (store) => {
      const base = await commitLayer(store, null, makeBase);
      const plain = execFileSync("gzip", ["-dc", store.content.path(base.digest)]);
      const zst = execFileSync("zstd", ["-c", "-q"], { input: plain });
      const p = await store.content.writeBuffer(plain);
      const z = await store.content.writeBuffer(zst);
      await withStore(open, async (target) => {
        const a = await target.snapshots.applyLayer(null, store.content.open(p.digest), { mediaType: "application/vnd.oci.image.layer.v1.tar" });
        assert.is(a.chainId, base.chainId);
        await target.snapshots.remove(a.chainId);
        const b = await target.snapshots.applyLayer(null, store.content.open(z.digest), { mediaType: "application/vnd.oci.image.layer.v1.tar+zstd", diffId: base.diffId });
        assert.is(b.chainId, base.chainId);
        assert.equal(await viewTree(target, b.chainId), await viewTree(store, base.chainId));
      });
    }));

  test("security.capability survives commit and apply", () =>
    withStore(open, async (store) => {
      const cap = "0x0100000200200000000000000000000000000000";
      const layer = await commitLayer(store, null, async (root) => {
        await writeFile(join(root, "ping"), "bin");
        execFileSync("setfattr", ["-n", "security.capability", "-v", cap, join(root, "ping")]);
      });
      const listing = execFileSync("tar", ["--xattrs", "--xattrs-include=*", "-tvvzf", store.content.path(layer.digest)], { encoding: "utf8" });
      assert.match(listing, /security\.capability/);
      await withStore(open, async (target) => {
        const { chainId } = await target.snapshots.applyLayer(null, store.content.open(layer.digest), { mediaType: layer.mediaType });
        const view = await target.snapshots.view(chainId);
        try {
          const got = execFileSync("getfattr", ["--absolute-names", "-n", "security.capability", "-e", "hex", "--only-values", join(view.root, "ping")]).toString("hex");
          assert.is(got, cap.slice(2));
        } finally {
          await view.release();
        }
      });
    }));

  test("remove forgets a chain; files of a parent stay while a child stacks on them", () =>
    withStore(open, async (store) => {
      const base = await commitLayer(store, null, makeBase);
      const top = await commitLayer(store, base.chainId, changeBase);
      const before = await viewTree(store, top.chainId);
      assert.is(await store.snapshots.remove(base.chainId), true);
      assert.is(await store.snapshots.remove(base.chainId), false);
      assert.not.ok(await store.snapshots.has(base.chainId));
      assert.equal(await viewTree(store, top.chainId), before);
      assert.is(await store.snapshots.remove(top.chainId), true);
      assert.equal(await store.snapshots.list(), []);
      assert.equal((await readdir(join(store.root, "snapshots"))).filter((n) => /^\d+$/.test(n)), []);
    }));

  test("removing the parent of an active snapshot does not break its commit", () =>
    withStore(open, async (store) => {
      const base = await commitLayer(store, null, makeBase);
      const active = await store.snapshots.prepare(base.chainId);
      await rm(join(active.root, "delete-me"));
      assert.is(await store.snapshots.remove(base.chainId), true);
      const layer = await active.commit();
      assert.not.ok(layer.empty);
      const names = tarNames(store.content.path((layer as Layer).digest));
      assert.equal(names, [".wh.delete-me"]);
    }));

  test("a view shows the chain and, for overlay, cannot be written", () =>
    withStore(open, async (store) => {
      const base = await commitLayer(store, null, makeBase);
      const view = await store.snapshots.view(base.chainId);
      try {
        assert.ok(describeTree(view.root).some((l) => l.startsWith("etc/passwd file ")));
        if (kind === "overlay") {
          const err = await writeFile(join(view.root, "new"), "x").catch((e: unknown) => e);
          assert.is((err as NodeJS.ErrnoException).code, "EROFS");
        }
      } finally {
        await view.release();
      }
      assert.equal(mountsBelow(store.root), []);
      const missing = await store.snapshots.view(`sha256:${"1".repeat(64)}`).catch((e: unknown) => e);
      assert.ok(hasCode("SNAPSHOT_NOT_FOUND")(missing));
    }));

  test("60 layers deep with the default limits: past the ~45 that absolute lowerdir paths would allow", () =>
    withStore(open, async (store) => {
      let parent: string | null = null;
      for (let i = 0; i < 60; i++) {
        const layer: Layer = await commitLayer(store, parent, (root) => writeFile(join(root, `f${i}`), String(i)));
        parent = layer.chainId;
      }
      const tree = await viewTree(store, parent!);
      assert.is(tree.length, 60);
      assert.ok(tree.includes("f0 file 1 5feceb66ffc8 644 0:0"));
    }));

  test("a deep chain keeps working past the lower-dir limit (flattened)", () =>
    withStore({ ...open, maxLowers: 4 }, async (store) => {
      let parent: string | null = null;
      for (let i = 0; i < 11; i++) {
        const layer: Layer = await commitLayer(store, parent, async (root) => {
          await writeFile(join(root, `f${i}`), String(i));
          if (i > 0) await rm(join(root, `f${i - 1}`));
        });
        parent = layer.chainId;
      }
      const tree = await viewTree(store, parent!);
      assert.equal(tree.map((l) => l.split(" ")[0]), ["f10"]);
      if (kind === "overlay") {
        const active = await store.snapshots.prepare(parent);
        const line = execFileSync("findmnt", ["-n", "-o", "OPTIONS", active.root], { encoding: "utf8" });
        const lowers = /lowerdir=([^,]*)/.exec(line)![1]!.split(":");
        assert.ok(lowers.length <= 4, line);
        await active.abort();
      }
    }));

  test.run();
}
