import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../helpers/cli.js";

async function lint(args: string[], stdin = ""): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await runCli(["lint", ...args], { stdin, env: { PROXY_FROM_ENV: "x" } });
  return { code, stdout, stderr };
}

let dir = "";
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), "build-image-lint-"));
});
test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const GOOD = `FROM alpine AS build
RUN echo hi > /x
FROM scratch
COPY --from=build /x /x
CMD ["/x"]
`;

test("a clean Dockerfile: exit 0, nothing but the summary", async () => {
  await writeFile(join(dir, "Dockerfile"), GOOD);
  const r = await lint([dir]);
  assert.is(r.code, 0);
  assert.is(r.stdout, "0 errors, 0 warnings\n");
});

test("warnings print with place, line and caret, and do not fail", async () => {
  const file = join(dir, "warn.Dockerfile");
  await writeFile(file, "FROM alpine\nMAINTAINER me\nCMD node app.js\n");
  const r = await lint(["-f", file, "--build-arg", "UNUSED=1"]);
  assert.is(r.code, 0);
  assert.is(
    r.stdout,
    `warning: build arg 'UNUSED' was given but no ARG in the stages built declares it [UNUSED_BUILD_ARG]
hint: declare it with ARG UNUSED in the stage that needs it
warning: ${file}:2:1: Maintainer instruction is deprecated in favor of using label [MAINTAINER_DEPRECATED]
 2 | MAINTAINER me
     ^
hint: write LABEL org.opencontainers.image.authors="me"
warning: ${file}:3:1: JSON arguments recommended for CMD to prevent unintended behavior related to OS signals [JSON_ARGS_RECOMMENDED]
 3 | CMD node app.js
     ^
hint: write CMD ["node","app.js"]
0 errors, 3 warnings
`,
  );
});

test("errors: every one is reported, exit 1", async () => {
  const r = await lint(["-f", "-"], "FROM alpine\nRUN --mout=type=cache,target=/x true\nCOPY --from=1 a b\nRUNN x\n");
  assert.is(r.code, 1);
  assert.match(r.stdout, /^error: Dockerfile:2:5: RUN: unknown flag: --mout \[DOCKERFILE_UNKNOWN_FLAG\]\n 2 \| RUN --mout=type=cache,target=\/x true\n {9}\^\nhint: did you mean --mount\?\n/);
  assert.match(r.stdout, /error: Dockerfile:3:6: --from=1: there is no stage 1 \(the Dockerfile has 1\) \[DOCKERFILE_UNKNOWN_STAGE\]/);
  assert.match(r.stdout, /error: Dockerfile:4:1: unknown instruction: RUNN \[DOCKERFILE_UNKNOWN_INSTRUCTION\]/);
  assert.match(r.stdout, /3 errors, 0 warnings\n$/);
});

test("--format json, --target and --build-arg from the environment", async () => {
  const text = "ARG PROXY_FROM_ENV\nFROM alpine AS a\nFROM scratch AS b\nENV API_TOKEN=x\n";
  const r = await lint(["-f", "-", "--format", "json", "--target", "b", "--build-arg", "PROXY_FROM_ENV", "--build-arg", "NOT_IN_ENV"], text);
  assert.is(r.code, 0);
  const json = JSON.parse(r.stdout);
  assert.is(json.file, "Dockerfile");
  assert.equal(json.errors, []);
  assert.equal(json.warnings, [
    {
      code: "SECRETS_USED_IN_ARG_OR_ENV",
      message: 'Do not use ARG or ENV instructions for sensitive data (ENV "API_TOKEN")',
      location: { file: "Dockerfile", line: 4, column: 5, endLine: 4, lineText: "ENV API_TOKEN=x" },
      hint: "pass it with --secret and RUN --mount=type=secret instead; ARG and ENV values end up in the image",
    },
  ]);
  const bad = JSON.parse((await lint(["-f", "-", "--format", "json", "--target", "c"], text)).stdout);
  assert.equal(bad.errors.map((e: { code: string; hint: string }) => [e.code, e.hint]), [["DOCKERFILE_UNKNOWN_TARGET", "did you mean --target a?"]]);
});

test("# check=skip and error=true are honoured", async () => {
  const skipped = await lint(["-f", "-"], "# check=skip=JSONArgsRecommended\nFROM alpine\nCMD node app.js\n");
  assert.is(skipped.stdout, "0 errors, 0 warnings\n");
  const strict = await lint(["-f", "-"], "# check=error=true\nFROM alpine\nCMD node app.js\n");
  assert.is(strict.code, 1);
  assert.match(strict.stdout, /JSON_ARGS_RECOMMENDED/);
});

test("a syntax error from the parser, a missing file, bad usage", async () => {
  const syntax = await lint(["-f", "-"], "FROM alpine\nCOPY <<EOF /x\nno end\n");
  assert.is(syntax.code, 1);
  assert.match(syntax.stdout, /^error: Dockerfile:2:/);
  const missing = await lint(["-f", join(dir, "nope")]);
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /\[DOCKERFILE_NOT_FOUND\]/);
  const usage = await lint(["--format", "yaml"]);
  assert.is(usage.code, 2);
  assert.match(usage.stderr, /--format 'yaml': expected text or json/);
});

test.run();
