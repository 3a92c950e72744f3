// Two builds sharing one store root at the same time, in two processes, with steps in common: both
// succeed, both images are right, and the store passes fsck.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspectImage, storeWithBusybox } from "../helpers/images.js";
import { openStore } from "../../src/layers/index.js";

test("two concurrent builds on one root both succeed; fsck passes", async () => {
  const { root, dispose } = await storeWithBusybox();
  const work = await mkdtemp(join(tmpdir(), "bi-concurrent-"));
  try {
    const contexts = ["one", "two"].map((name) => join(work, name));
    for (const [i, dir] of contexts.entries()) {
      await mkdir(dir);
      await writeFile(join(dir, "shared.txt"), "the same in both\n");
      await writeFile(join(dir, "own.txt"), `only in build ${i}\n`);
      await writeFile(join(dir, "Dockerfile"), `FROM busybox:latest\nCOPY shared.txt /shared.txt\nRUN --mount=type=cache,target=/cache,sharing=locked echo ${i} >> /cache/log && sleep 0.3\nRUN echo common > /common\nCOPY own.txt /own.txt\nRUN sleep 0.5 && cat /own.txt > /copy\n`);
    }
    const buildIn = (dir: string, tag: string) =>
      new Promise<number>((resolve) => {
        const script = `import { build } from ${JSON.stringify(join(process.cwd(), "src/build/index.ts"))};
await build({ context: ${JSON.stringify(dir)}, root: ${JSON.stringify(root)}, tags: [${JSON.stringify(tag)}] });`;
        const file = join(work, `${tag.replace(/\W/g, "-")}.mjs`);
        writeFileSync(file, script);
        const child = spawn(process.execPath, ["--import", "tsx", file], { stdio: "inherit" });
        child.on("exit", (code) => resolve(code ?? 1));
      });
    const codes = await Promise.all([buildIn(contexts[0]!, "conc:one"), buildIn(contexts[1]!, "conc:two")]);
    assert.equal(codes, [0, 0]);
    for (const [i, tag] of ["conc:one", "conc:two"].entries()) {
      await inspectImage(root, tag, async (stat) => {
        assert.is((await stat("/copy"))?.content, `only in build ${i}\n`);
        assert.is((await stat("/common"))?.content, "common\n");
      });
    }
    const store = await openStore(root);
    try {
      const fsck = await store.content.fsck();
      assert.ok(fsck.ok, `bad blobs: ${fsck.bad.join(", ")}`);
    } finally {
      await store.close();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
    await dispose();
  }
});

test.run();
