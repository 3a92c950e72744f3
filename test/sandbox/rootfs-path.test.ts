import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveInRoot } from "../../src/sandbox/rootfs-path.js";

const root = await mkdtemp(join(tmpdir(), "bi-rootpath-"));
await mkdir(join(root, "usr/lib"), { recursive: true });
await writeFile(join(root, "usr/file"), "");
await symlink("/usr/lib", join(root, "abs"));
await symlink("../../../../usr", join(root, "usr/lib/up"));
await symlink("/", join(root, "slash"));
await symlink("loop2", join(root, "loop1"));
await symlink("loop1", join(root, "loop2"));
await symlink("/nowhere/x", join(root, "dangling"));

test("an absolute symlink resolves from the root, not the host", () => {
  assert.equal(resolveInRoot(root, "/abs/new/dir"), { existing: join(root, "usr/lib"), missing: ["new", "dir"] });
  assert.equal(resolveInRoot(root, "/slash/usr"), { existing: join(root, "usr"), missing: [] });
});

test("`..` in a path or a link target stops at the root", () => {
  assert.equal(resolveInRoot(root, "/../../usr/lib"), { existing: join(root, "usr/lib"), missing: [] });
  assert.equal(resolveInRoot(root, "/usr/lib/up/lib"), { existing: join(root, "usr/lib"), missing: [] });
});

test("a dangling link is followed inside the root", () => {
  assert.equal(resolveInRoot(root, "/dangling"), { existing: root, missing: ["nowhere", "x"] });
});

test("a symlink loop and a file used as a directory are errors", () => {
  assert.throws(() => resolveInRoot(root, "/loop1/x"), (e: Error & { code?: string }) => e.code === "SANDBOX_BAD_SPEC" && /too many symbolic links/.test(e.message));
  assert.throws(() => resolveInRoot(root, "/usr/file/x"), (e: Error & { code?: string }) => e.code === "SANDBOX_BAD_SPEC" && /not a directory/.test(e.message));
});

test.after(async () => {
  await rm(root, { recursive: true, force: true });
});

test.run();
