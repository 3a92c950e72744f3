import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";

test("build-image --help prints usage and exits 0", () => {
  const out = execFileSync(process.execPath, ["bin/build-image.js", "--help"], { encoding: "utf8" });
  assert.match(out, /Usage: build-image/);
});

test.run();
