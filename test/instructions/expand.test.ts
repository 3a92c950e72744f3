import { test } from "uvu";
import * as assert from "uvu/assert";
import { applyToEnv, expandInstruction, expandInstructionWithMatches, type Instruction } from "../../src/instructions/index.js";
import { fails, one, parseAll } from "./helpers.js";

const env = { APP: "/srv/app", USER: "node", PORTS: "80 443/tcp", NAME: "world", MODE: "0755", SIG: "SIGINT", EMPTY: "" };
const expand = <K extends Instruction["kind"]>(kind: K, text: string, e: Record<string, string> = env) =>
  expandInstruction(one(kind, text), e) as Extract<Instruction, { kind: K }>;

test("ENV and LABEL: keys and values, quotes removed", () => {
  assert.equal(expand("env", 'ENV HOME_DIR=$APP "GREETING"="hello $NAME" RAW=\'$NAME\' ESC=a\\ b').env, [
    { key: "HOME_DIR", value: "/srv/app" },
    { key: "GREETING", value: "hello world" },
    { key: "RAW", value: "$NAME" },
    { key: "ESC", value: "a b" },
  ]);
  assert.equal(expand("label", 'LABEL "app.path"="${APP}" version=${VERSION:-dev}').labels, [
    { key: "app.path", value: "/srv/app" },
    { key: "version", value: "dev" },
  ]);
});

test("COPY/ADD: sources, destination, --chown, --chmod, --exclude and unquoted heredocs; never --from", () => {
  const copy = expand("copy", "COPY --chown=$USER:$USER --chmod=$MODE --exclude=$NAME.md ${NAME}.txt $APP/");
  assert.equal([copy.sources, copy.dest, copy.chown, copy.chmod, copy.exclude], [["world.txt"], "/srv/app/", "node:node", "0755", ["world.md"]]);
  const heredoc = expand("copy", "COPY <<EOF <<'RAW' /etc/\nhello \"$NAME\" 'q'\nEOF\n$NAME\nRAW\n");
  assert.equal(heredoc.files.map((f) => f.content), ["hello \"world\" 'q'\n", "$NAME\n"]);
  fails(() => expand("copy", "COPY --chmod=$BAD a b", { BAD: "rwx" }), "DOCKERFILE_FLAG_VALUE", /invalid value for --chmod: 'rwx'/);
  fails(() => expand("copy", "COPY --chown=$EMPTY:x a b"), "DOCKERFILE_FLAG_VALUE", /invalid value for --chown: ':x'/);
  fails(() => expand("copy", "COPY a $EMPTY"), "DOCKERFILE_ARGUMENTS", /destination expands to an empty string/);
  const add = expand("add", "ADD --checksum=$SUM https://example.com/$NAME.tgz /x", { ...env, SUM: `sha256:${"b".repeat(64)}` });
  assert.equal([add.checksum, add.sources], [`sha256:${"b".repeat(64)}`, ["https://example.com/world.tgz"]]);
});

test("EXPOSE: a word may expand to several ports, each checked", () => {
  assert.equal(expand("expose", "EXPOSE $PORTS 8080").ports, ["80", "443/tcp", "8080"]);
  fails(() => expand("expose", "EXPOSE $P", { P: "http" }), "DOCKERFILE_BAD_PORT");
});

test("WORKDIR, USER, VOLUME, STOPSIGNAL", () => {
  assert.is(expand("workdir", "WORKDIR ${APP}/src").path, "/srv/app/src");
  assert.is(expand("user", "USER ${USER}:staff").user, "node:staff");
  assert.equal(expand("volume", 'VOLUME ["$APP/data"]').volumes, ["/srv/app/data"]);
  assert.is(expand("stopsignal", "STOPSIGNAL $SIG").signal, "SIGINT");
  fails(() => expand("stopsignal", "STOPSIGNAL $X", { X: "NOPE" }), "DOCKERFILE_BAD_SIGNAL");
  fails(() => expand("workdir", "WORKDIR $EMPTY"), "DOCKERFILE_ARGUMENTS");
  fails(() => expand("workdir", "WORKDIR ${REQUIRED:?set it}"), "DOCKERFILE_REQUIRED_VARIABLE", /REQUIRED: set it/);
});

test("RUN: the command and heredocs are left to the shell; mount values are expanded and re-checked", () => {
  const run = expand("run", "RUN --mount=type=cache,target=$APP/.cache,id=$NAME,mode=$MODE echo $NAME <<EOF\n$NAME\nEOF\n");
  assert.equal(run.command, ["echo $NAME <<EOF"]);
  assert.is(run.files[0]?.content, "$NAME\n");
  assert.equal(run.mounts[0], { type: "cache", target: "/srv/app/.cache", id: "world", sharing: "shared", from: undefined, source: undefined, readonly: false, mode: 0o755, uid: undefined, gid: undefined });
  fails(() => expand("run", "RUN --mount=type=cache,target=/c,mode=$M true", { M: "abc" }), "DOCKERFILE_BAD_MOUNT", /invalid value for mode/);
  fails(() => expand("run", "RUN --mount=type=cache,target=$EMPTY true"), "DOCKERFILE_BAD_MOUNT", /needs a target/);
});

test("never expanded: CMD, ENTRYPOINT, SHELL, HEALTHCHECK, MAINTAINER, ONBUILD", () => {
  for (const [kind, text] of [
    ["cmd", "CMD echo $NAME"],
    ["entrypoint", 'ENTRYPOINT ["$APP"]'],
    ["shell", 'SHELL ["$SHELL", "-c"]'],
    ["healthcheck", "HEALTHCHECK CMD curl $APP"],
    ["maintainer", "MAINTAINER $NAME"],
    ["onbuild", "ONBUILD WORKDIR $APP"],
  ] as const) {
    const raw = one(kind, text);
    const { instruction, matched, unmatched } = expandInstructionWithMatches(raw, env);
    assert.equal({ ...instruction, expanded: false }, raw, text);
    assert.is(matched.size + unmatched.size, 0);
  }
});

test("the escape directive applies to expansion", () => {
  const [, workdir] = parseAll("# escape=`\nFROM a\nWORKDIR C:\\app\\`$NAME\\$NAME");
  const w = expandInstruction(workdir as Instruction, env);
  assert.is(w.kind === "workdir" && w.path, "C:\\app\\$NAME\\world");
});

test("ARG: a default is expanded at dispatch; build-arg values stay as resolved", () => {
  const arg = one("arg", "ARG DIR=$APP/x OTHER");
  const planned = { ...arg, resolved: [{ name: "DIR", value: "${APP}/x", source: "default" as const }, { name: "OTHER", value: "v", source: "build-arg" as const }] };
  const e = expandInstruction(planned, env);
  assert.equal(e.kind === "arg" && e.resolved, [
    { name: "DIR", value: "/srv/app/x", source: "default" },
    { name: "OTHER", value: "v", source: "build-arg" },
  ]);
  assert.equal(applyToEnv({ DIR: "old", KEEP: "1" }, e), { DIR: "/srv/app/x", KEEP: "1", OTHER: "v" });
  assert.equal(applyToEnv({ A: "1" }, expand("env", "ENV A=2 B=$A", { A: "1" })), { A: "2", B: "1" });
});

test("expandInstructionWithMatches reports the variables used, for lint and cache explanations", () => {
  const r = expandInstructionWithMatches(one("copy", "COPY --chown=$USER $SRC ${DEST:-/d}"), env);
  assert.equal([...r.matched], ["USER"]);
  assert.equal([...r.unmatched].sort(), ["DEST", "SRC"]);
  const partial = expandInstructionWithMatches(one("workdir", "WORKDIR $HOME/$APP"), env, { keepUnset: true });
  assert.is(partial.instruction.kind === "workdir" && partial.instruction.path, "$HOME//srv/app");
  assert.is(partial.instruction.expanded, false);
});

test.run();
