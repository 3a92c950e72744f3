import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseCacheFromSpec, parseCacheToSpec } from "../../src/cache/index.js";

test("--cache-to: registry with mode, inline", () => {
  assert.equal(parseCacheToSpec("type=registry,ref=127.0.0.1:5000/app:cache,mode=max"), { type: "registry", ref: "127.0.0.1:5000/app:cache", mode: "max" });
  assert.equal(parseCacheToSpec("type=registry,ref=r/app:cache"), { type: "registry", ref: "r/app:cache", mode: "min" });
  assert.equal(parseCacheToSpec("type=inline"), { type: "inline" });
});

test("--cache-from: registry ref, or a bare image", () => {
  assert.equal(parseCacheFromSpec("type=registry,ref=r/app:cache"), { type: "registry", ref: "r/app:cache" });
  assert.equal(parseCacheFromSpec("r/app:1"), { type: "registry", ref: "r/app:1" });
});

test("bad specs are CACHE_SPEC_INVALID", () => {
  for (const bad of ["type=local,dest=/x", "type=registry", "type=registry,ref=r/a,mode=all", "ref"]) {
    try {
      parseCacheToSpec(bad);
      assert.unreachable(bad);
    } catch (err) {
      assert.is((err as { code: string }).code, "CACHE_SPEC_INVALID", bad);
    }
  }
  assert.throws(() => parseCacheFromSpec("type=gha"), (e: { code: string }) => e.code === "CACHE_SPEC_INVALID");
});

test.run();
