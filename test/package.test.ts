// The package face: what `import … from "build-image"` gives, and the built entry point package.json names.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readFileSync } from "node:fs";
import * as face from "../src/index.js";

test("the face exports the library's entry points", () => {
  for (const name of ["build", "runImage", "parseDockerfile", "createBuildPlan", "expandWord", "splitWords", "openStore", "createRegistryClient", "runInSandbox", "openCache", "prune", "isBuildImageError"]) {
    assert.type((face as Record<string, unknown>)[name], "function", name);
  }
});

test("package.json: ESM, a bin, exports with types that the build emits", () => {
  const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { type: string; bin: Record<string, string>; exports: Record<string, { types: string; import: string }> };
  assert.is(pkg.type, "module");
  assert.is(pkg.bin["build-image"], "bin/build-image.js");
  assert.is(pkg.exports["."]!.types, "./dist/index.d.ts");
  // dist/ exists after `npm ci` (prepare builds it) or `npm run build`.
  assert.ok(existsSync(pkg.exports["."]!.types), "dist/index.d.ts missing: run npm run build");
  assert.ok(existsSync(pkg.exports["."]!.import), "dist/index.js missing: run npm run build");
});

test.run();
