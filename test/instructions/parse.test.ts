import { suite } from "uvu";
import * as assert from "uvu/assert";
import { fails, one, parseAll } from "./helpers.js";

const instructions = suite("typed instructions");

const strip = <T extends object>(i: T) => {
  const { location, node, escape, expanded, argsInScope, ...rest } = i as T & Record<string, unknown>;
  void node;
  void escape;
  void expanded;
  void argsInScope;
  void location;
  return rest;
};

instructions("FROM: image, lower-cased stage name, --platform as written", () => {
  assert.equal(strip(one("from", "FROM --platform=$BUILDPLATFORM golang:1.22 AS Build")), {
    kind: "from",
    image: "golang:1.22",
    name: "build",
    platform: "$BUILDPLATFORM",
  });
  assert.equal(strip(one("from", "from alpine")), { kind: "from", image: "alpine", name: undefined, platform: undefined });
  fails(() => parseAll("FROM alpine AS"), "DOCKERFILE_ARGUMENTS", /FROM requires either one or three arguments/);
  fails(() => parseAll("FROM alpine x y"), "DOCKERFILE_ARGUMENTS");
  fails(() => parseAll("FROM alpine AS my$stage"), "DOCKERFILE_INVALID_STAGE_NAME");
  fails(() => parseAll("FROM --chown=1 alpine"), "DOCKERFILE_FLAG_NOT_ALLOWED", /--chown is not a flag of FROM \(it belongs to COPY, ADD\)/);
});

instructions("RUN: shell and exec form, heredocs, --network, --security", () => {
  assert.equal(strip(one("run", "RUN --network=none --security=insecure echo $HOME")), {
    kind: "run",
    command: ["echo $HOME"],
    shell: true,
    files: [],
    mountSpecs: [],
    mounts: [],
    network: "none",
    security: "insecure",
  });
  const exec = one("run", 'RUN ["echo", "$HOME"]');
  assert.equal([exec.command, exec.shell, exec.network, exec.security], [["echo", "$HOME"], false, "default", "sandbox"]);
  const heredoc = one("run", "RUN <<EOF\necho $HOME\nEOF\n");
  assert.equal(heredoc.command, ["<<EOF"]);
  assert.equal(heredoc.files, [{ name: "EOF", content: "echo $HOME\n", expand: true, chomp: false }]);
  fails(() => parseAll("RUN --network=bridge true"), "DOCKERFILE_FLAG_VALUE", /invalid value for --network: 'bridge': expected one of default, none, host/);
  fails(() => parseAll("RUN --security=root true"), "DOCKERFILE_FLAG_VALUE");
  fails(() => parseAll("RUN"), "DOCKERFILE_ARGUMENTS");
});

instructions("flags: unknown (with suggestion), wrong instruction, duplicate, missing value, bad boolean", () => {
  const unknown = fails(() => parseAll("RUN --mout=type=cache,target=/x true"), "DOCKERFILE_UNKNOWN_FLAG", /RUN: unknown flag: --mout/);
  assert.is(unknown.hint, "did you mean --mount?");
  assert.equal([unknown.location.line, unknown.location.column], [1, 5]);
  const wrong = fails(() => parseAll("FROM a\nCOPY --mount=type=cache,target=/x a b"), "DOCKERFILE_FLAG_NOT_ALLOWED", /--mount is not a flag of COPY \(it belongs to RUN\)/);
  assert.equal([wrong.location.line, wrong.location.column, wrong.location.lineText], [2, 6, "COPY --mount=type=cache,target=/x a b"]);
  fails(() => parseAll("RUN --chown=1 true"), "DOCKERFILE_FLAG_NOT_ALLOWED");
  fails(() => parseAll("WORKDIR --link /x"), "DOCKERFILE_FLAG_NOT_ALLOWED");
  fails(() => parseAll("ENV --foo=1 A=b"), "DOCKERFILE_UNKNOWN_FLAG", /ENV: unknown flag: --foo/);
  fails(() => parseAll("COPY --from=a --from=b x y"), "DOCKERFILE_DUPLICATE_FLAG", /duplicate flag specified: --from/);
  fails(() => parseAll("COPY --from x y"), "DOCKERFILE_FLAG_VALUE", /missing a value on flag --from/);
  fails(() => parseAll("COPY --link=maybe x y"), "DOCKERFILE_FLAG_VALUE", /expecting boolean value for flag --link, not: maybe/);
  assert.is(one("copy", "COPY --link=FALSE x y").link, false);
  assert.is(one("copy", "COPY --link x y").link, true);
});

instructions("RUN --mount: every type parsed into a typed mount", () => {
  const mounts = one(
    "run",
    [
      "RUN --mount=target=/src",
      "--mount=type=bind,source=/go,target=/go,rw",
      "--mount=type=cache,id=gomod,target=/root/go/pkg/mod,sharing=locked,mode=0755,uid=1000,gid=1000",
      "--mount=type=tmpfs,dst=/tmp,size=64m",
      "--mount=type=secret,id=npmrc,target=/root/.npmrc,required",
      "--mount=type=secret,id=token,env=TOKEN",
      "--mount=type=ssh,id=default,mode=0600",
      "--mount=type=cache,target=/var/cache/apt,ro=true",
      "go build",
    ].join(" "),
  ).mounts;
  assert.equal(mounts, [
    { type: "bind", target: "/src", source: undefined, from: undefined, readonly: true },
    { type: "bind", target: "/go", source: "/go", from: undefined, readonly: false },
    { type: "cache", target: "/root/go/pkg/mod", id: "gomod", sharing: "locked", from: undefined, source: undefined, readonly: false, mode: 0o755, uid: 1000, gid: 1000 },
    { type: "tmpfs", target: "/tmp", size: 64 * 1024 * 1024 },
    { type: "secret", id: "npmrc", target: "/root/.npmrc", env: undefined, required: true, mode: undefined, uid: undefined, gid: undefined },
    { type: "secret", id: "token", target: undefined, env: "TOKEN", required: false, mode: undefined, uid: undefined, gid: undefined },
    { type: "ssh", id: "default", target: undefined, required: false, mode: 0o600, uid: undefined, gid: undefined },
    { type: "cache", target: "/var/cache/apt", id: undefined, sharing: "shared", from: undefined, source: undefined, readonly: true, mode: undefined, uid: undefined, gid: undefined },
  ]);
  // The parser drops quotes from flags as BuildKit does, so a CSV quote is written escaped.
  const quoted = one("run", `RUN --mount="type=bind,\\"target=/a,b\\"" true`).mounts[0];
  assert.is(quoted?.type === "bind" && quoted.target, "/a,b");
});

instructions("RUN --mount: bad specs fail with DOCKERFILE_BAD_MOUNT", () => {
  const typo = fails(() => parseAll("RUN --mount=type=cahce,target=/x true"), "DOCKERFILE_BAD_MOUNT", /unsupported mount type 'cahce'/);
  assert.is(typo.hint, "did you mean cache?");
  const key = fails(() => parseAll("RUN --mount=type=cache,traget=/x true"), "DOCKERFILE_BAD_MOUNT", /unexpected key 'traget'/);
  assert.is(key.hint, "did you mean target?");
  fails(() => parseAll("RUN --mount=type=bind,target=/x,size=1m true"), "DOCKERFILE_BAD_MOUNT", /unexpected key 'size' for mount type 'bind'/);
  fails(() => parseAll("RUN --mount=type=bind,target=/x,mode=0755 true"), "DOCKERFILE_BAD_MOUNT", /unexpected key 'mode' for mount type 'bind'/);
  fails(() => parseAll("RUN --mount=type=tmpfs,target=/x,sharing=locked true"), "DOCKERFILE_BAD_MOUNT", /unexpected key 'sharing' for mount type 'tmpfs'/);
  fails(() => parseAll("RUN --mount=type=cache,target=/x,sharing=all true"), "DOCKERFILE_BAD_MOUNT", /invalid value for sharing/);
  fails(() => parseAll("RUN --mount=type=cache,target=/x,mode=rwx true"), "DOCKERFILE_BAD_MOUNT", /invalid value for mode/);
  fails(() => parseAll("RUN --mount=type=cache,target=/x,uid=-1 true"), "DOCKERFILE_BAD_MOUNT", /invalid value for uid/);
  fails(() => parseAll("RUN --mount=type=tmpfs,target=/x,size=lots true"), "DOCKERFILE_BAD_MOUNT", /invalid value for size/);
  fails(() => parseAll("RUN --mount=type=cache true"), "DOCKERFILE_BAD_MOUNT", /a cache mount needs a target/);
  fails(() => parseAll("RUN --mount=type=secret true"), "DOCKERFILE_BAD_MOUNT", /a secret mount needs an id/);
  fails(() => parseAll("RUN --mount=type=secret,id=a,source=b true"), "DOCKERFILE_BAD_MOUNT", /both source and id/);
  fails(() => parseAll("RUN --mount=type=bind,target=/x,required true"), "DOCKERFILE_BAD_MOUNT", /unexpected key 'required' for mount type 'bind'/);
  fails(() => parseAll("RUN --mount=type=bind,target true"), "DOCKERFILE_BAD_MOUNT", /must be a key=value pair/);
  fails(() => parseAll('RUN --mount="type=bind,tar\\"get=/x" true'), "DOCKERFILE_BAD_MOUNT", /failed to parse csv/);
  fails(() => parseAll("RUN --mount=from=$IMG,target=/x true"), "DOCKERFILE_BAD_MOUNT", /'from' doesn't support variable expansion/);
  fails(() => parseAll("RUN --mount=type=bind,target=/x,ro=maybe true"), "DOCKERFILE_BAD_MOUNT", /invalid value for ro/);
  // A variable is checked once expanded, not before.
  assert.is(one("run", "RUN --mount=type=cache,target=/x,mode=$MODE true").mounts[0]?.type, "cache");
});

instructions("CMD, ENTRYPOINT: exec and shell form, never expanded", () => {
  assert.equal(strip(one("cmd", 'CMD ["node", "$APP"]')), { kind: "cmd", command: ["node", "$APP"], shell: false });
  assert.equal(strip(one("cmd", "CMD node $APP")), { kind: "cmd", command: ["node $APP"], shell: true });
  assert.equal(strip(one("entrypoint", "ENTRYPOINT []")), { kind: "entrypoint", command: [], shell: false });
  assert.equal(strip(one("entrypoint", "ENTRYPOINT exec top -b")), { kind: "entrypoint", command: ["exec top -b"], shell: true });
});

instructions("ENV, LABEL, MAINTAINER, ARG", () => {
  assert.equal(one("env", 'ENV A=1 B="two words" C=$A').env, [
    { key: "A", value: "1" },
    { key: "B", value: '"two words"' },
    { key: "C", value: "$A" },
  ]);
  assert.equal(one("env", "ENV PATH /usr/local/bin:$PATH").env, [{ key: "PATH", value: "/usr/local/bin:$PATH" }]);
  assert.equal(one("label", 'LABEL org.opencontainers.image.title="app" version=1').labels, [
    { key: "org.opencontainers.image.title", value: '"app"' },
    { key: "version", value: "1" },
  ]);
  assert.is(one("maintainer", "MAINTAINER Jane Doe <jane@example.com>").maintainer, "Jane Doe <jane@example.com>");
  assert.equal(one("arg", 'ARG A B=2 C="x y" D=').args, [
    { name: "A", default: undefined },
    { name: "B", default: "2" },
    { name: "C", default: '"x y"' },
    { name: "D", default: "" },
  ]);
  fails(() => parseAll("ARG =1"), "DOCKERFILE_ARGUMENTS", /ARG names can not be blank/);
  fails(() => parseAll("ARG"), "DOCKERFILE_ARGUMENTS");
  fails(() => parseAll("MAINTAINER"), "DOCKERFILE_ARGUMENTS", /MAINTAINER requires exactly one argument/);
});

instructions("EXPOSE, VOLUME, USER, WORKDIR, STOPSIGNAL", () => {
  assert.equal(one("expose", "EXPOSE 80 443/tcp 53/UDP 8000-8010 $PORT").ports, ["80", "443/tcp", "53/UDP", "8000-8010", "$PORT"]);
  fails(() => parseAll("EXPOSE 80/http"), "DOCKERFILE_BAD_PORT", /EXPOSE: invalid port '80\/http'/);
  fails(() => parseAll("EXPOSE 70000"), "DOCKERFILE_BAD_PORT");
  fails(() => parseAll("EXPOSE 90-80"), "DOCKERFILE_BAD_PORT");
  assert.equal(one("volume", 'VOLUME ["/data", "/logs"]').volumes, ["/data", "/logs"]);
  assert.equal(one("volume", "VOLUME /data /logs").volumes, ["/data", "/logs"]);
  fails(() => parseAll('VOLUME [""]'), "DOCKERFILE_ARGUMENTS", /VOLUME specified can not be an empty string/);
  assert.is(one("user", "USER app:staff").user, "app:staff");
  assert.is(one("workdir", "WORKDIR /srv/my app").path, "/srv/my app");
  fails(() => parseAll("WORKDIR"), "DOCKERFILE_ARGUMENTS", /WORKDIR requires exactly one argument/);
  assert.is(one("stopsignal", "STOPSIGNAL SIGTERM").signal, "SIGTERM");
  for (const ok of ["9", "KILL", "sigquit", "SIGRTMIN+3", "$SIG"]) assert.is(one("stopsignal", `STOPSIGNAL ${ok}`).signal, ok);
  fails(() => parseAll("STOPSIGNAL SIGFOO"), "DOCKERFILE_BAD_SIGNAL", /invalid signal: SIGFOO/);
  fails(() => parseAll("STOPSIGNAL 99"), "DOCKERFILE_BAD_SIGNAL");
});

instructions("COPY and ADD: sources, heredoc files, destination, flags", () => {
  assert.equal(strip(one("copy", "COPY --chown=app:app --chmod=0644 --link --parents --exclude=*.md --exclude=test/ src/ pkg/*.json /app/")), {
    kind: "copy",
    sources: ["src/", "pkg/*.json"],
    files: [],
    dest: "/app/",
    chown: "app:app",
    chmod: "0644",
    link: true,
    parents: true,
    exclude: ["*.md", "test/"],
    from: undefined,
  });
  assert.equal(one("copy", 'COPY ["a b", "/d e/"]').sources, ["a b"]);
  assert.is(one("copy", "COPY --chmod=u+rwx,g-w,o= a /b").chmod, "u+rwx,g-w,o=");
  const heredoc = one("copy", "COPY <<EOF <<'RAW' /etc/\nhello $NAME\nEOF\n$KEEP\nRAW\n");
  assert.equal(heredoc.files, [
    { name: "EOF", content: "hello $NAME\n", expand: true, chomp: false },
    { name: "RAW", content: "$KEEP\n", expand: false, chomp: false },
  ]);
  assert.equal(heredoc.sources, []);
  fails(() => parseAll("COPY onlyone"), "DOCKERFILE_ARGUMENTS", /COPY requires at least two arguments/);
  fails(() => parseAll("COPY --chown=a:b:c x y"), "DOCKERFILE_FLAG_VALUE", /invalid value for --chown/);
  fails(() => parseAll("COPY --chmod=999 x y"), "DOCKERFILE_FLAG_VALUE", /invalid value for --chmod/);
  fails(() => parseAll("COPY --from= x y"), "DOCKERFILE_FLAG_VALUE", /cannot be empty/);
  fails(() => parseAll("COPY --keep-git-dir x y"), "DOCKERFILE_FLAG_NOT_ALLOWED", /belongs to ADD/);
  const add = one("add", `ADD --keep-git-dir --checksum=sha256:${"a".repeat(64)} https://example.com/x.tar.gz /x/`);
  assert.equal([add.keepGitDir, add.checksum, add.sources, add.dest], [true, `sha256:${"a".repeat(64)}`, ["https://example.com/x.tar.gz"], "/x/"]);
  fails(() => parseAll("ADD --checksum=md5:abc x y"), "DOCKERFILE_FLAG_VALUE", /invalid value for --checksum/);
  fails(() => parseAll("ADD --from=a x y"), "DOCKERFILE_FLAG_NOT_ALLOWED");
});

instructions("ONBUILD: the trigger is parsed and checked; ONBUILD ONBUILD/FROM/MAINTAINER are errors", () => {
  const onbuild = one("onbuild", "ONBUILD COPY --chown=1:1 . /app");
  assert.is(onbuild.expression, "COPY --chown=1:1 . /app");
  assert.is(onbuild.trigger.kind, "copy");
  fails(() => parseAll("ONBUILD ONBUILD RUN x"), "DOCKERFILE_ONBUILD_TRIGGER", /Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed/);
  fails(() => parseAll("ONBUILD FROM alpine"), "DOCKERFILE_ONBUILD_TRIGGER", /FROM isn't allowed as an ONBUILD trigger/);
  fails(() => parseAll("ONBUILD MAINTAINER me"), "DOCKERFILE_ONBUILD_TRIGGER", /MAINTAINER isn't allowed/);
  fails(() => parseAll("ONBUILD RUN --mount=type=nope true"), "DOCKERFILE_BAD_MOUNT");
});

instructions("HEALTHCHECK: NONE, CMD (shell → CMD-SHELL), options as nanoseconds", () => {
  assert.equal(strip(one("healthcheck", "HEALTHCHECK NONE")), { kind: "healthcheck", test: ["NONE"], interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0 });
  assert.equal(strip(one("healthcheck", "HEALTHCHECK --interval=30s --timeout=1m30s --start-period=500ms --start-interval=1.5s --retries=3 CMD curl -f http://localhost/ || exit 1")), {
    kind: "healthcheck",
    test: ["CMD-SHELL", "curl -f http://localhost/ || exit 1"],
    interval: 30e9,
    timeout: 90e9,
    startPeriod: 500e6,
    startInterval: 1.5e9,
    retries: 3,
  });
  assert.equal(one("healthcheck", 'HEALTHCHECK CMD ["/bin/check", "-q"]').test, ["CMD", "/bin/check", "-q"]);
  assert.is(one("healthcheck", "HEALTHCHECK --interval=0 CMD true").interval, 0);
  fails(() => parseAll("HEALTHCHECK --interval=abc CMD true"), "DOCKERFILE_FLAG_VALUE", /invalid value for --interval: 'abc': not a duration/);
  fails(() => parseAll("HEALTHCHECK --timeout=100us CMD true"), "DOCKERFILE_FLAG_VALUE", /cannot be less than 1ms/);
  fails(() => parseAll("HEALTHCHECK --retries=-1 CMD true"), "DOCKERFILE_FLAG_VALUE", /cannot be negative/);
  fails(() => parseAll("HEALTHCHECK --retries=x CMD true"), "DOCKERFILE_FLAG_VALUE", /expected a whole number/);
  fails(() => parseAll("HEALTHCHECK --interval=5s NONE"), "DOCKERFILE_UNKNOWN_FLAG");
  fails(() => parseAll("HEALTHCHECK NONE x"), "DOCKERFILE_HEALTHCHECK", /HEALTHCHECK NONE takes no arguments/);
  fails(() => parseAll("HEALTHCHECK CURL x"), "DOCKERFILE_HEALTHCHECK", /Unknown type "CURL" in HEALTHCHECK \(try CMD\)/);
  fails(() => parseAll("HEALTHCHECK CMD"), "DOCKERFILE_HEALTHCHECK", /Missing command after HEALTHCHECK CMD/);
  fails(() => parseAll("HEALTHCHECK --foo=1 CMD true"), "DOCKERFILE_UNKNOWN_FLAG");
});

instructions("SHELL needs JSON; unknown instructions suggest the closest", () => {
  assert.equal(one("shell", 'SHELL ["/bin/bash", "-o", "pipefail", "-c"]').shell, ["/bin/bash", "-o", "pipefail", "-c"]);
  fails(() => parseAll("SHELL /bin/bash -c"), "DOCKERFILE_NOT_JSON", /SHELL requires the arguments to be in JSON form/);
  const err = fails(() => parseAll("FROM a\nRUNN echo"), "DOCKERFILE_UNKNOWN_INSTRUCTION", /unknown instruction: RUNN/);
  assert.is(err.hint, "did you mean RUN?");
  assert.equal([err.location.line, err.location.column, err.location.lineText], [2, 1, "RUNN echo"]);
});

instructions("locations point at the keyword, and errors at the flag", () => {
  const [, run] = parseAll("FROM a\n  RUN \\\n  echo hi\n");
  assert.equal(run?.location, { file: "Dockerfile", line: 2, column: 3, endLine: 3, lineText: "  RUN \\" });
  const err = fails(() => parseAll("FROM a\nCOPY --chown=1:1 --chmod=8 a b"), "DOCKERFILE_FLAG_VALUE");
  assert.equal([err.location.line, err.location.column], [2, 18]);
  const continued = fails(() => parseAll("FROM a\nRUN --network=none \\\n    --mount=type=cache true"), "DOCKERFILE_BAD_MOUNT");
  assert.equal([continued.location.line, continued.location.column, continued.location.lineText], [3, 13, "    --mount=type=cache true"]);
});

instructions("the escape directive is carried for expansion", () => {
  const [, workdir] = parseAll("# escape=`\nFROM a\nWORKDIR C:\\app");
  assert.is(workdir?.escape, "`");
});

instructions.run();
