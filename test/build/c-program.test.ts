// fixtures/projects/c-program end to end with both sandbox backends: gcc from a locally imported
// toolchain image compiles a static binary in a builder stage; the busybox runtime stage gets only
// the binary, which must carry no ELF interpreter and must run there.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build, runImage } from "../../src/build/index.js";
import { childChainId, openStore, resolveLocalImage } from "../../src/layers/index.js";
import { inspectImage, storeWithBusybox } from "../helpers/images.js";
import { importToolchainImage, TOOLCHAIN_IMAGE } from "../helpers/toolchain.js";

const context = join(process.cwd(), "fixtures/projects/c-program");
const test = suite("c-program");
let root = "";
let dispose = async () => {};
let gccVersion = "";

/** A file's bytes as the image holds them, read through a read-only view of its snapshot. */
async function readImageFile(image: string, path: string): Promise<Buffer> {
  const store = await openStore(root);
  try {
    const resolved = await resolveLocalImage(store, image);
    if (!resolved) throw new Error(`no image ${image}`);
    let chain: string | null = null;
    for (const diffId of resolved.config.rootfs.diff_ids) chain = childChainId(chain, diffId);
    const view = await store.snapshots.view(chain!);
    try {
      return await readFile(join(view.root, path));
    } finally {
      await view.release();
    }
  } finally {
    await store.close();
  }
}

const PT_INTERP = 3;
const PT_DYNAMIC = 2;

/** The ELF file type and program header types of a 64-bit little-endian ELF. */
function elfProgramHeaders(elf: Buffer): { type: number; headers: number[] } {
  assert.is(elf.readUInt32BE(0), 0x7f454c46, "ELF magic");
  assert.is(elf[4], 2, "ELFCLASS64");
  assert.is(elf[5], 1, "little-endian");
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  const headers = Array.from({ length: phnum }, (_, i) => elf.readUInt32LE(phoff + i * phentsize));
  return { type: elf.readUInt16LE(0x10), headers };
}

test.before(async () => {
  ({ root, dispose } = await storeWithBusybox("bi-c-program-"));
  ({ gccVersion } = await importToolchainImage(root));
});
test.after(async () => dispose());

for (const runtime of ["unshare", "runc"] as const) {
  test(`${runtime}: gcc -static in the builder, the binary alone in busybox, and it runs there`, async () => {
    const tag = `c-program:${runtime}`;
    // No cache, so each backend really compiles rather than reusing the other's layers.
    const result = await build({ context, root, runtime, tags: [tag], noCache: true });

    await inspectImage(root, tag, async (stat, image) => {
      const hello = await stat("/usr/local/bin/hello");
      assert.is(hello?.kind, "file");
      assert.is(hello?.mode, 0o755);
      assert.equal([hello?.uid, hello?.gid], [0, 0]);
      assert.is(await stat("/usr/bin/gcc"), undefined, "no toolchain in the runtime image");
      assert.is(await stat("/src"), undefined, "no builder WORKDIR in the runtime image");
      assert.is((await stat("/usr/share/hello/self-test.txt"))?.content, `hello from C, built by gcc ${gccVersion}\nargv[1] = self-test\nprimes below 10000: 1229\nuid 0\n`);
      assert.is(image.configDigest, result.imageId);
      assert.is(image.config.config?.User, "app");
      assert.equal(image.config.config?.Cmd, ["/usr/local/bin/hello", "from", "busybox"]);
      // busybox's own layer plus the two COPY --from layers; USER and CMD make none.
      assert.is(image.config.rootfs.diff_ids.length, 3);
      assert.ok(image.config.history?.some((h) => h.created_by?.startsWith("COPY --from=build /out/hello /usr/local/bin/hello")));
    });

    const elf = await readImageFile(tag, "/usr/local/bin/hello");
    const { type, headers } = elfProgramHeaders(elf);
    assert.is(type, 2, "ET_EXEC: linked static, not PIE");
    assert.ok(headers.length > 0);
    assert.not.ok(headers.includes(PT_INTERP), "no PT_INTERP: needs no dynamic loader");
    assert.not.ok(headers.includes(PT_DYNAMIC), "no PT_DYNAMIC: needs no shared library");
    // binutils' readelf as the judge of the same bytes.
    const scratch = await mkdtemp(join(tmpdir(), "bi-c-elf-"));
    try {
      await writeFile(join(scratch, "hello"), elf);
      const listing = execFileSync("readelf", ["-lW", join(scratch, "hello")], { encoding: "utf8" });
      assert.match(listing, /Elf file type is EXEC/);
      assert.not.match(listing, /INTERP|Requesting program interpreter/);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }

    let out = "";
    const code = await runImage({ image: tag, root, runtime, onStdout: (c) => (out += c.toString()), onStderr: (c) => (out += c.toString()) });
    assert.is(code, 0, out);
    assert.is(out, `hello from C, built by gcc ${gccVersion}\nargv[1] = from\nargv[2] = busybox\nprimes below 10000: 1229\nuid 1000\n`);
  });
}

test("the toolchain image (unpacked by the builds above) is one imported layer with gcc, its libc and a busybox /bin/sh", async () => {
  await inspectImage(root, TOOLCHAIN_IMAGE, async (stat, image) => {
    assert.is(image.config.rootfs.diff_ids.length, 1);
    assert.is((await stat("/usr/bin/gcc"))?.kind, "symlink");
    const triplet = execFileSync("gcc", ["-dumpmachine"], { encoding: "utf8" }).trim();
    assert.is((await stat(`/usr/lib/${triplet}/libc.a`))?.kind, "file");
    assert.is((await stat(`/usr/lib/gcc/${triplet}/${gccVersion.split(".")[0]}/cc1`))?.mode, 0o755);
    assert.is((await stat("/bin"))?.linkTarget, "usr/bin");
    assert.is((await stat("/usr/bin/sh"))?.linkTarget, "../bin/busybox");
    assert.is((await stat("/tmp"))?.mode, 0o1777);
  });
});

test.run();
