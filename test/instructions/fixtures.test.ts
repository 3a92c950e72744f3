import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { createBuildPlan, lintDockerfile } from "../../src/instructions/index.js";
import { isBuildImageError } from "../../src/errors.js";

const root = new URL("../../fixtures/", import.meta.url).pathname;

function dockerfiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return dockerfiles(path);
      return name === "Dockerfile" || name.endsWith(".Dockerfile") ? [path] : [];
    });
}

// Fixtures that are wrong on purpose, and the error they must give.
const expectedErrors: Record<string, string> = { "dockerfiles/unknown-and-maintainer.Dockerfile": "DOCKERFILE_UNKNOWN_INSTRUCTION" };

const files = dockerfiles(root);

test("there are fixtures to plan", () => {
  assert.ok(files.length >= 30, `only ${files.length} fixtures`);
});

for (const file of files) {
  const name = relative(root, file);
  test(`plan and lint ${name}`, () => {
    const text = readFileSync(file, "utf8");
    const lint = lintDockerfile(text, { file: name, platform: "linux/amd64", buildPlatform: "linux/amd64" });
    const expected = expectedErrors[name];
    if (expected) {
      assert.equal(lint.errors.map((e) => e.code), [expected]);
      try {
        createBuildPlan(text, { file: name });
        assert.unreachable("expected an error");
      } catch (err) {
        assert.ok(isBuildImageError(err));
        assert.is(err.code, expected);
      }
      return;
    }
    assert.equal(lint.errors.map((e) => `${e.code}: ${e.message}`), []);
    const plan = createBuildPlan(text, { file: name, platform: "linux/amd64", buildPlatform: "linux/amd64" });
    assert.ok(plan.stages.length >= 1);
    assert.is(plan.order[plan.order.length - 1], plan.target);
    for (const stage of plan.stages) for (const dep of stage.dependsOn) assert.ok(plan.order.indexOf(dep) < plan.order.indexOf(stage.index), `${name}: stage ${stage.index} before its dependency ${dep}`);
  });
}

test.run();
