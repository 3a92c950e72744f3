import { test } from "uvu";
import * as assert from "uvu/assert";
import { applyToEnv, createBuildPlan, envForStep, expandInstruction, type BuildPlanOptions, type Instruction } from "../../src/instructions/index.js";
import { isBuildImageError } from "../../src/errors.js";

const host = { platform: "linux/amd64", buildPlatform: "linux/amd64" };
const plan = (text: string, options: BuildPlanOptions = {}) => createBuildPlan(text, { ...host, ...options });

function fails(fn: () => unknown, code: string, message?: RegExp) {
  try {
    fn();
  } catch (err) {
    assert.ok(isBuildImageError(err), `not a BuildImageError: ${String(err)}`);
    assert.is((err as { code: string }).code, code, (err as Error).message);
    if (message) assert.match((err as Error).message, message);
    return err as Error & { location: { line: number; column: number; lineText?: string }; hint?: string };
  }
  assert.unreachable("expected an error");
  throw new Error("unreachable");
}

const MULTI = `ARG GO=1.22
FROM golang:\${GO} AS build
WORKDIR /src
COPY . .
RUN go build -o /out/app .

FROM alpine AS tools
RUN apk add curl

FROM build AS test
RUN go test ./...

FROM scratch AS runtime
COPY --from=build /out/app /app
COPY --from=tools /usr/bin/curl /curl
ENTRYPOINT ["/app"]
`;

test("stages in Dockerfile order, bases expanded with meta ARGs, last stage is the target", () => {
  const p = plan(MULTI);
  assert.equal(
    p.stages.map((s) => [s.index, s.name, s.base, s.dependsOn]),
    [
      [0, "build", { kind: "image", ref: "golang:1.22" }, []],
      [1, "tools", { kind: "image", ref: "alpine" }, []],
      [3, "runtime", { kind: "scratch" }, [0, 1]],
    ],
  );
  assert.is(p.target, 3);
  assert.equal(p.order, [0, 1, 3]);
  assert.equal([...p.byIndex.keys()], [0, 1, 3]);
  assert.is(p.stageCount, 4);
  assert.equal(
    p.stages[2]?.instructions.map((i) => i.kind),
    ["copy", "copy", "entrypoint"],
  );
  assert.equal(p.stages[2]?.location, { file: "Dockerfile", line: 13, column: 1, endLine: 13, lineText: "FROM scratch AS runtime" });
});

test("--target picks a stage and prunes what it does not need", () => {
  const p = plan(MULTI, { target: "test", buildArgs: { GO: "1.21" } });
  assert.equal(p.stages.map((s) => s.index), [0, 2]);
  assert.equal(p.stages[1]?.base, { kind: "stage", index: 0 });
  assert.equal(p.stages[0]?.base, { kind: "image", ref: "golang:1.21" });
  assert.equal(p.order, [0, 2]);
  assert.is(p.target, 2);
  assert.equal(plan(MULTI, { target: "BUILD" }).order, [0]);
});

test("unknown --target suggests the closest stage", () => {
  const err = fails(() => plan(MULTI, { target: "runtme" }), "DOCKERFILE_UNKNOWN_TARGET", /target stage 'runtme' could not be found/);
  assert.is(err.hint, "did you mean --target runtime?");
  const none = fails(() => plan("FROM alpine\n", { target: "x" }), "DOCKERFILE_UNKNOWN_TARGET");
  assert.match(none.hint ?? "", /no named stages/);
});

test("COPY --from by name, by index, or an image", () => {
  const p = plan(`FROM alpine AS a
FROM busybox
COPY --from=a /x /x
COPY --from=0 /y /y
COPY --from=nginx:1.25 /etc/nginx /etc/nginx
RUN --mount=from=a,target=/mnt,source=/src cat /mnt/f
RUN --mount=type=bind,from=registry.local/img,target=/i true
`);
  const froms = p.stages[1]?.instructions.flatMap((i) => (i.kind === "copy" ? [i.from] : i.kind === "run" ? i.mounts.map((m) => ("from" in m ? m.from : undefined)) : []));
  assert.equal(froms, [
    { kind: "stage", index: 0, name: "a" },
    { kind: "stage", index: 0, name: "a" },
    { kind: "image", ref: "nginx:1.25" },
    { kind: "stage", index: 0, name: "a" },
    { kind: "image", ref: "registry.local/img" },
  ]);
  assert.equal(p.stages[1]?.dependsOn, [0]);
});

test("stage reference errors: forward, self, typo, bad index, duplicate name", () => {
  const forward = fails(() => plan("FROM alpine AS a\nCOPY --from=b /x /x\nFROM alpine AS b\n"), "DOCKERFILE_FORWARD_REFERENCE", /stage 'b' \(stage 1\) is defined later/);
  assert.is(forward.location.line, 2);
  assert.is(forward.location.column, 6);
  fails(() => plan("FROM b\nFROM alpine AS b\n"), "DOCKERFILE_FORWARD_REFERENCE");
  fails(() => plan("FROM alpine\nCOPY --from=1 /x /x\nFROM alpine\n"), "DOCKERFILE_FORWARD_REFERENCE");
  fails(() => plan("FROM alpine AS a\nCOPY --from=a /x /x\n"), "DOCKERFILE_STAGE_CYCLE", /refers to the stage it is in/);
  fails(() => plan("FROM alpine\nCOPY --from=0 /x /x\n"), "DOCKERFILE_STAGE_CYCLE");
  fails(() => plan("FROM alpine AS a\nFROM alpine\nRUN --mount=from=1,target=/m true\n"), "DOCKERFILE_STAGE_CYCLE");
  const typo = fails(() => plan("FROM alpine AS builder\nFROM alpine\nCOPY --from=buildr /x /x\n"), "DOCKERFILE_UNKNOWN_STAGE", /no stage named 'buildr'/);
  assert.match(typo.hint ?? "", /did you mean 'builder'\?/);
  fails(() => plan("FROM alpine\nFROM alpine\nCOPY --from=7 /x /x\n"), "DOCKERFILE_UNKNOWN_STAGE", /there is no stage 7/);
  const dup = fails(() => plan("FROM alpine AS a\nFROM busybox AS A\n"), "DOCKERFILE_DUPLICATE_STAGE", /duplicate stage name 'a' \(first defined at line 1\)/);
  assert.is(dup.location.line, 2);
  fails(() => plan("FROM alpine AS 1st\n"), "DOCKERFILE_INVALID_STAGE_NAME");
  fails(() => plan("FROM alpine\nCOPY --from=$X /x /x\n"), "DOCKERFILE_FLAG_VALUE", /does not support variable expansion/);
});

test("FROM of its own name is the image; FROM an earlier stage name is that stage", () => {
  const p = plan("FROM alpine AS alpine\nFROM alpine\n");
  assert.equal(p.stages.map((s) => s.base), [{ kind: "image", ref: "alpine" }, { kind: "stage", index: 0 }]);
  assert.equal(p.order, [0, 1]);
});

test("meta ARGs: usable in FROM, not in the stage unless re-declared, which inherits the value", () => {
  const p = plan(`ARG TAG=3.19
ARG IMAGE=alpine:\${TAG}
FROM \${IMAGE}
WORKDIR /a/$TAG
ARG TAG
WORKDIR /b/$TAG
`);
  assert.equal(p.stages[0]?.base, { kind: "image", ref: "alpine:3.19" });
  assert.equal(p.metaArgs, [
    { name: "TAG", value: "3.19", source: "default" },
    { name: "IMAGE", value: "alpine:3.19", source: "default" },
  ]);
  const [w1, arg, w2] = p.stages[0]?.instructions as Instruction[];
  assert.equal(w1?.argsInScope, []);
  assert.equal(arg?.kind === "arg" && arg.resolved, [{ name: "TAG", value: "3.19", source: "meta" }]);
  assert.equal(w2?.argsInScope, [{ name: "TAG", value: "3.19", source: "meta" }]);
  // The solver expands at dispatch with the image env plus what came before.
  let env: Record<string, string> = { PATH: "/bin" };
  const expanded = (p.stages[0]?.instructions as Instruction[]).map((i) => {
    const e = expandInstruction(i, env);
    env = applyToEnv(env, e);
    return e;
  });
  assert.equal(expanded.map((i) => (i.kind === "workdir" ? i.path : i.kind)), ["/a/", "arg", "/b/3.19"]);
});

test("--build-arg overrides defaults; ARGs are per stage; later definitions win", () => {
  const p = plan(
    `FROM alpine AS a
ARG V=1
ENV E=$V
ARG V=2
FROM a
ARG V
RUN echo $V
`,
    { buildArgs: { V: "9" } },
  );
  const a = p.stages[0]?.instructions as Instruction[];
  assert.equal(a[0]?.kind === "arg" && a[0].resolved, [{ name: "V", value: "9", source: "build-arg" }]);
  assert.equal(a[2]?.argsInScope, [{ name: "V", value: "9", source: "build-arg" }]);
  const b = p.stages[1]?.instructions as Instruction[];
  assert.equal(b[1]?.argsInScope, [{ name: "V", value: "9", source: "build-arg" }]);
  const q = plan("FROM alpine\nARG V=1\nARG W=${V}-x\nRUN true\n");
  assert.equal(q.stages[0]?.instructions[2]?.argsInScope, [
    { name: "V", value: "1", source: "default" },
    { name: "W", value: "1-x", source: "default" },
  ]);
});

test("an ARG default that needs the image's ENV is marked dynamic and resolved at dispatch", () => {
  const p = plan("FROM node\nARG DIR=$HOME/x\nRUN true\n");
  const [arg, run] = p.stages[0]?.instructions as Instruction[];
  assert.equal(run?.argsInScope, [{ name: "DIR", value: "$HOME/x", source: "default", dynamic: true }]);
  const dispatched = expandInstruction(arg as Instruction, { HOME: "/root" });
  assert.equal(dispatched.kind === "arg" && dispatched.resolved, [{ name: "DIR", value: "/root/x", source: "default" }]);
  const scratch = plan("FROM scratch\nARG DIR=$HOME/x\nRUN true\n");
  assert.equal(scratch.stages[0]?.instructions[1]?.argsInScope, [{ name: "DIR", value: "/x", source: "default" }]);
  assert.equal(scratch.warnings.map((w) => w.code), ["UNDEFINED_VAR"]);
});

test("envForStep: an ARG beats the base image's ENV, a later ENV beats the ARG (BuildKit's order)", () => {
  const p = plan("FROM debian\nARG DEBIAN_FRONTEND=noninteractive\nARG DIR=$HOME/x\nRUN a\nENV DIR=/fixed\nRUN b\n");
  const [, , runA, , runB] = p.stages[0]?.instructions as Instruction[];
  const image = { DEBIAN_FRONTEND: "teletype", HOME: "/root", PATH: "/bin" };
  assert.equal(envForStep(image, runA as Instruction), { DEBIAN_FRONTEND: "noninteractive", HOME: "/root", PATH: "/bin", DIR: "/root/x" });
  assert.equal(runB?.argsInScope.find((a) => a.name === "DIR")?.shadowed, true);
  assert.equal(envForStep({ ...image, DIR: "/fixed" }, runB as Instruction).DIR, "/fixed");
});

test("platform args: automatic in FROM, declared in a stage; FROM --platform", () => {
  const p = createBuildPlan(
    `FROM --platform=$BUILDPLATFORM golang AS build
ARG TARGETOS TARGETARCH TARGETVARIANT BUILDPLATFORM
RUN GOOS=$TARGETOS GOARCH=$TARGETARCH go build
FROM alpine
COPY --from=build /app /app
`,
    { platform: "linux/arm/v7", buildPlatform: "linux/amd64" },
  );
  assert.equal(p.stages[0]?.platform, { os: "linux", architecture: "amd64" });
  assert.is(p.stages[0]?.platformFromFlag, true);
  assert.equal(p.stages[1]?.platform, { os: "linux", architecture: "arm", variant: "v7" });
  assert.equal(p.stages[0]?.instructions[1]?.argsInScope, [
    { name: "TARGETOS", value: "linux", source: "platform" },
    { name: "TARGETARCH", value: "arm", source: "platform" },
    { name: "TARGETVARIANT", value: "v7", source: "platform" },
    { name: "BUILDPLATFORM", value: "linux/amd64", source: "platform" },
  ]);
  assert.equal(createBuildPlan("FROM alpine\n", { platform: "linux/x86_64" }).platform, { os: "linux", architecture: "amd64" });
  fails(() => plan("FROM --platform=linux alpine\n"), "DOCKERFILE_BAD_PLATFORM");
});

test("proxy args need no ARG and are reported apart; unknown build args warn", () => {
  const p = plan("ARG USED\nFROM alpine\nRUN true\n", { buildArgs: { HTTP_PROXY: "http://p:3128", USED: "1", VERSOIN: "2", SOURCE_DATE_EPOCH: "0" } });
  assert.equal(p.proxyArgs, { HTTP_PROXY: "http://p:3128" });
  assert.equal(
    p.warnings.map((w) => [w.code, w.message]),
    [["UNUSED_BUILD_ARG", "build arg 'VERSOIN' was given but no ARG in the stages built declares it"]],
  );
  const q = plan("FROM alpine AS a\nARG VERSION\nFROM alpine\n", { buildArgs: { VERSOIN: "2" } });
  assert.is(q.warnings[0]?.hint, "declare it with ARG VERSOIN in the stage that needs it"); // stage a is pruned
});

test("FROM problems: blank base, undefined ARG in FROM, instruction before FROM, empty file", () => {
  fails(() => plan("ARG IMAGE\nFROM $IMAGE\n"), "DOCKERFILE_EMPTY_BASE", /base name \(\$IMAGE\) should not be blank/);
  const p = plan("FROM alpine:$TAG\n");
  assert.equal(p.warnings.map((w) => w.code), ["UNDEFINED_ARG_IN_FROM"]);
  assert.is(p.stages[0]?.base.kind === "image" && p.stages[0].base.ref, "alpine:");
  const before = fails(() => plan("RUN true\nFROM alpine\n"), "DOCKERFILE_NO_STAGE");
  assert.is(before.location.line, 1);
  fails(() => plan("# only a comment\n"), "DOCKERFILE_EMPTY");
  fails(() => plan("ARG X=1\n"), "DOCKERFILE_NO_STAGE", /no FROM/);
});

test("expansion syntax is checked by the plan, variables only at dispatch", () => {
  const err = fails(() => plan("FROM alpine\nWORKDIR ${X\n"), "DOCKERFILE_BAD_SUBSTITUTION");
  assert.equal([err.location.line, err.location.column], [2, 9]);
  const p = plan("FROM node\nWORKDIR $HOME/app\nUSER ${APP_USER:-node}\n");
  const [workdir, user] = p.stages[0]?.instructions as Instruction[];
  assert.is(workdir?.kind === "workdir" && workdir.path, "$HOME/app");
  const env = { HOME: "/root" };
  const w = expandInstruction(workdir as Instruction, env);
  assert.is(w.kind === "workdir" && w.path, "/root/app");
  assert.is(w.expanded, true);
  const u = expandInstruction(user as Instruction, env);
  assert.is(u.kind === "user" && u.user, "node");
});

test("UNDEFINED_VAR only where the whole env is known (scratch-based chains)", () => {
  const p = plan("FROM scratch AS a\nENV A=1\nWORKDIR /$A/$B\nFROM alpine AS c\nWORKDIR $D\nFROM a\nCOPY --from=c /x /x\nWORKDIR $A$C\n");
  assert.equal(
    p.warnings.map((w) => [w.code, w.message, w.location?.line]),
    [
      ["UNDEFINED_VAR", "usage of undefined variable '$B'", 3],
      ["UNDEFINED_VAR", "usage of undefined variable '$C'", 8],
    ],
  );
});

test.run();
