import { test } from "uvu";
import * as assert from "uvu/assert";
import { createBuildPlan, lintDockerfile, parseCheckDirective } from "../../src/instructions/index.js";

const codes = (text: string) => lintDockerfile(text, { platform: "linux/amd64", buildPlatform: "linux/amd64" }).warnings.map((w) => [w.code, w.location?.line]);

test("each rule, with the line it points at", () => {
  const cases: [string, [string, number][]][] = [
    ["FROM alpine\nMAINTAINER me\n", [["MAINTAINER_DEPRECATED", 2]]],
    ["FROM alpine\nCMD node app.js\n", [["JSON_ARGS_RECOMMENDED", 2]]],
    ["FROM alpine\nENTRYPOINT exec app\n", [["JSON_ARGS_RECOMMENDED", 2]]],
    ['FROM alpine\nCMD ["a"]\nCMD ["b"]\nHEALTHCHECK NONE\nHEALTHCHECK NONE\n', [["MULTIPLE_INSTRUCTIONS_DISALLOWED", 2], ["MULTIPLE_INSTRUCTIONS_DISALLOWED", 4]]],
    ["FROM alpine\nWORKDIR app\nWORKDIR sub\n", [["WORKDIR_RELATIVE_PATH", 2]]],
    ["FROM alpine\nWORKDIR /app\nWORKDIR sub\nWORKDIR $HOME\n", []],
    ["FROM alpine AS Build\n", [["STAGE_NAME_CASING", 1]]],
    ["FROM alpine as build\n", [["FROM_AS_CASING", 1]]],
    ["from alpine as build\n", []],
    ["FROM alpine AS scratch\n", [["RESERVED_STAGE_NAME", 1]]],
    ["FROM alpine\nENV A 1\nLABEL b 2\n", [["LEGACY_KEY_VALUE_FORMAT", 2], ["LEGACY_KEY_VALUE_FORMAT", 3]]],
    ["FROM alpine\nARG GITHUB_TOKEN\nENV DB_PASSWORD=x PUBLIC_KEY=y KEYBOARD=z\n", [["SECRETS_USED_IN_ARG_OR_ENV", 2], ["SECRETS_USED_IN_ARG_OR_ENV", 3]]],
    ["FROM --platform=$TARGETPLATFORM alpine\n", [["REDUNDANT_TARGET_PLATFORM", 1]]],
    ["FROM --platform=linux/amd64 alpine\n", [["FROM_PLATFORM_FLAG_CONST_DISALLOWED", 1]]],
    ["FROM --platform=$BUILDPLATFORM alpine\n", []],
    ["FROM alpine\nrun true\nrun true\nrun true\n", [["CONSISTENT_INSTRUCTION_CASING", 1]]],
    ["FROM alpine\nrun true\nRUN true\n", [["CONSISTENT_INSTRUCTION_CASING", 2]]],
    ["FROM alpine:$TAG\n", [["UNDEFINED_ARG_IN_FROM", 1]]],
    ["ARG TAG\nFROM alpine:$TAG\n", [["INVALID_DEFAULT_ARG_IN_FROM", 2]]],
    ["ARG VERSION=1\nFROM alpine:$VERSOIN\n", [["UNDEFINED_ARG_IN_FROM", 2]]],
    ["FROM scratch\nCOPY $SRC /x\n", [["UNDEFINED_VAR", 2]]],
  ];
  for (const [text, expected] of cases) assert.equal(codes(text), expected, text);
});

test("# check=skip drops rules by BuildKit name; skip=all drops every one", () => {
  assert.equal(codes("# check=skip=MaintainerDeprecated,JSONArgsRecommended\nFROM alpine\nMAINTAINER me\nCMD x\nENV A 1\n"), [["LEGACY_KEY_VALUE_FORMAT", 5]]);
  assert.equal(codes("# check=skip=all\nFROM alpine\nMAINTAINER me\n"), []);
  assert.equal(parseCheckDirective("skip=JSONArgsRecommended;error=true"), { skip: new Set(["JSON_ARGS_RECOMMENDED"]), error: true });
  const plan = createBuildPlan("# check=skip=MaintainerDeprecated\nFROM alpine\nMAINTAINER me\nCMD x\n", { platform: "linux/amd64" });
  assert.equal(plan.warnings.map((w) => w.code), ["JSON_ARGS_RECOMMENDED"]);
});

test("lint goes on after an error and reports them all, sorted by line", () => {
  const r = lintDockerfile("FROM alpine\nWORKDIR ${X\nRUN --network=x true\nFROM alpine AS a\nFROM alpine AS a\nCOPY --from=9 a b\n");
  assert.equal(
    r.errors.map((e) => [e.code, e.location?.line]),
    [
      ["DOCKERFILE_BAD_SUBSTITUTION", 2],
      ["DOCKERFILE_FLAG_VALUE", 3],
      ["DOCKERFILE_DUPLICATE_STAGE", 5],
      ["DOCKERFILE_UNKNOWN_STAGE", 6],
    ],
  );
});

test("createBuildPlan reports rule warnings only for the stages it builds", () => {
  const text = "FROM alpine AS a\nMAINTAINER me\nFROM alpine AS b\nCMD x\n";
  assert.equal(createBuildPlan(text, { target: "a", platform: "linux/amd64" }).warnings.map((w) => w.code), ["MAINTAINER_DEPRECATED"]);
  assert.equal(createBuildPlan(text, { platform: "linux/amd64" }).warnings.map((w) => w.code), ["JSON_ARGS_RECOMMENDED"]);
});

test.run();
