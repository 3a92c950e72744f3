// The installed command: bin/build-image.js runs the bundled CLI (dist/cli.bundle.mjs, made by
// `npm run build`). The main job of the README, through it: build the multi-stage fixture and run it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { storeWithBusybox } from "../helpers/images.js";

const bin = join(process.cwd(), "bin/build-image.js");

test("the bundled bin builds the multi-stage fixture and runs it", async () => {
  const { root, dispose } = await storeWithBusybox();
  try {
    const env = { ...process.env, BUILD_IMAGE_ROOT: root, CI: "true" };
    const built = spawnSync(process.execPath, [bin, "-t", "demo", "--progress", "plain", "fixtures/projects/multi-stage"], { encoding: "utf8", env });
    assert.is(built.status, 0, built.stderr);
    assert.match(built.stderr, /#\d+ \[runtime 4\/7\] COPY --from=builder \/out\/ \/usr\/local\//);
    const ran = spawnSync(process.execPath, [bin, "run", "demo"], { encoding: "utf8", env });
    assert.is(ran.stdout, "hello, world! (user app)\n", ran.stderr);
  } finally {
    await dispose();
  }
});

test("usage errors exit 2 through the bin too", () => {
  const r = spawnSync(process.execPath, [bin, "build", "--no-such-flag", "."], { encoding: "utf8" });
  assert.is(r.status, 2);
  assert.match(r.stderr, /USAGE/);
});

test.run();
