import { test } from "uvu";
import * as assert from "uvu/assert";
import { createBuildPlan, expandInstruction, parseOnbuildTriggers } from "../../src/instructions/index.js";
import { fails, one } from "./helpers.js";

const plan = createBuildPlan("FROM alpine AS assets\nFROM alpine AS unused\nFROM my/onbuild-base AS app\nCOPY --from=assets /a /a\n", { platform: "linux/amd64" });

test("a base image's OnBuild list becomes typed instructions of the child stage", () => {
  const triggers = parseOnbuildTriggers(plan, 2, ["COPY . /app/src", "RUN npm ci", "WORKDIR $APP_HOME", "COPY --from=assets /x /x", "COPY --from=node:20 /y /y"]);
  assert.equal(triggers.map((t) => t.kind), ["copy", "run", "workdir", "copy", "copy"]);
  assert.equal(triggers.map((t) => t.location.line), [3, 3, 3, 3, 3]);
  const w = expandInstruction(triggers[2]!, { APP_HOME: "/home/app" });
  assert.is(w.kind === "workdir" && w.path, "/home/app");
  assert.equal(triggers[3]?.kind === "copy" && triggers[3].from, { kind: "stage", index: 0, name: "assets" });
  assert.equal(triggers[4]?.kind === "copy" && triggers[4].from, { kind: "image", ref: "node:20" });
});

test("what ONBUILD stores round-trips, heredocs included", () => {
  const stored = one("onbuild", "ONBUILD COPY <<EOF /greeting\nhello\nEOF\n").expression;
  assert.is(stored, "COPY <<EOF /greeting\nhello\nEOF");
  const [copy] = parseOnbuildTriggers(plan, 2, [stored]);
  assert.equal(copy?.kind === "copy" && copy.files, [{ name: "EOF", content: "hello\n", expand: true, chomp: false }]);
});

test("bad triggers fail at the FROM line", () => {
  const err = fails(() => parseOnbuildTriggers(plan, 2, ["RUNN x"]), "DOCKERFILE_UNKNOWN_INSTRUCTION", /ONBUILD trigger 'RUNN x' of the base image: unknown instruction: RUNN/);
  assert.equal([err.location.line, err.location.lineText], [3, "FROM my/onbuild-base AS app"]);
  fails(() => parseOnbuildTriggers(plan, 2, ["FROM alpine"]), "DOCKERFILE_ONBUILD_TRIGGER", /FROM isn't allowed as an ONBUILD trigger/);
  fails(() => parseOnbuildTriggers(plan, 2, ["COPY --from=unused /x /x"]), "DOCKERFILE_ONBUILD_TRIGGER", /stage 'unused', which this build does not include/);
});

test.run();
