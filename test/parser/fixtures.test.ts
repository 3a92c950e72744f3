import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseDockerfile, type ParseResult } from "../../src/parser/index.js";

const dir = new URL("../../fixtures/dockerfiles/", import.meta.url).pathname;

/** Every fixture: `<name>.Dockerfile` or `<name>/Dockerfile`. */
function fixtureNames(): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((entry) => {
      if (entry.endsWith(".Dockerfile")) return [entry.slice(0, -".Dockerfile".length)];
      if (statSync(join(dir, entry)).isDirectory()) return [`${entry}/Dockerfile`];
      return [];
    });
}

function parseFixture(name: string): ParseResult {
  const path = name.endsWith("/Dockerfile") ? join(dir, name) : join(dir, `${name}.Dockerfile`);
  return parseDockerfile(readFileSync(path, "utf8"));
}

interface Expectation {
  /** The keywords in order, space-separated. */
  keywords: string;
  check?: (result: ParseResult) => void;
}

const at = (r: ParseResult, i: number) => r.instructions[i]!;
const heredocNames = (r: ParseResult) => r.instructions.map((n) => n.heredocs.map((h) => h.name));

const expected: Record<string, Expectation> = {
  "add-remote-git": {
    keywords: "FROM ADD ADD ADD COPY COPY",
    check: (r) => {
      assert.equal(at(r, 3).flags, ["--chown=1000:1000", "--chmod=644"]);
      assert.equal(at(r, 4).flags, ["--parents", "--exclude=*.tmp"]);
      assert.equal(at(r, 2).args, ["https://github.com/moby/buildkit.git#v0.14.0", "/buildkit"]);
    },
  },
  "alpine-apk-comments": {
    keywords: "FROM RUN CMD",
    check: (r) => {
      assert.equal([at(r, 1).startLine, at(r, 1).endLine], [2, 10]);
      assert.not.match(at(r, 1).args[0]!, /#/);
      assert.match(at(r, 1).args[0]!, /^set -eux;     apk add --no-cache --virtual \.build-deps {9}gcc/);
    },
  },
  "arg-before-from": {
    keywords: "ARG ARG ARG FROM ARG LABEL RUN",
    check: (r) => {
      assert.equal(
        r.instructions.slice(0, 3).map((n) => n.pairs![0]),
        [
          { key: "REGISTRY", value: "docker.io", separator: "=" },
          { key: "BASE_IMAGE", value: "library/alpine", separator: "=" },
          { key: "BASE_TAG", value: "3.20", separator: "=" },
        ],
      );
      assert.equal(at(r, 4).pairs, [{ key: "BASE_TAG", value: "", separator: "" }]);
      assert.equal(at(r, 3).args, ["${REGISTRY}/${BASE_IMAGE}:${BASE_TAG}"]);
    },
  },
  "bom-and-comments": {
    keywords: "FROM RUN",
    check: (r) => {
      assert.is(r.directives.syntax, "docker/dockerfile:1");
      assert.equal([at(r, 1).startLine, at(r, 1).startColumn], [6, 1]);
    },
  },
  "c-autotools": {
    keywords: "FROM RUN WORKDIR COPY RUN FROM COPY RUN ENTRYPOINT CMD",
    check: (r) => {
      assert.equal([at(r, 1).startLine, at(r, 1).endLine], [2, 9]);
      assert.ok(at(r, 1).args[0]!.endsWith(" && rm -rf /var/lib/apt/lists/*"));
      assert.equal(at(r, 9).args, ["--help"]);
    },
  },
  "c-cmake-static": {
    keywords: "FROM RUN WORKDIR COPY COPY RUN FROM COPY ENTRYPOINT",
    check: (r) => assert.equal(at(r, 6).args, ["scratch"]),
  },
  "check-directive": {
    keywords: "FROM CMD",
    check: (r) => {
      assert.is(r.directives.check, "skip=StageNameCasing,JSONArgsRecommended;error=true");
      assert.equal(at(r, 0).args, ["alpine", "AS", "Build"]);
    },
  },
  "ci-runner/Dockerfile": {
    keywords: "ARG FROM ARG RUN RUN COPY USER WORKDIR ENTRYPOINT",
    check: (r) => {
      assert.equal(r.directives.list, []);
      assert.equal(at(r, 3).flags, ["--mount=type=cache,target=/var/cache/apt,sharing=locked", "--mount=type=cache,target=/var/lib/apt,sharing=locked"]);
      assert.equal(at(r, 5).flags, ["--chown=runner:runner", "--chmod=755"]);
    },
  },
  "crlf-line-endings": {
    keywords: "FROM RUN CMD",
    check: (r) => {
      assert.equal(at(r, 1).args, ["echo one     two"]);
      assert.equal(at(r, 2).args, ["sh"]);
      assert.is(at(r, 1).original, "RUN echo one \\\r\n    two");
    },
  },
  dotnet: {
    keywords: "FROM ARG WORKDIR COPY RUN COPY RUN FROM EXPOSE WORKDIR COPY USER ENTRYPOINT",
    check: (r) => {
      assert.equal(at(r, 10).flags, ["--link", "--from=build"]);
      assert.equal(at(r, 3).args, ["*.csproj", "."]);
    },
  },
  "empty-continuation": {
    keywords: "FROM RUN",
    check: (r) => {
      assert.equal(
        r.warnings.map((w) => [w.code, w.line]),
        [["DOCKERFILE_EMPTY_CONTINUATION", 3]],
      );
      assert.equal(at(r, 1).args, ["apt-get update &&     apt-get install -y git"]);
    },
  },
  "escape-backtick-windows": {
    keywords: "FROM SHELL RUN WORKDIR COPY ENV ENTRYPOINT",
    check: (r) => {
      assert.is(r.directives.escape, "`");
      assert.equal(at(r, 2).args, ["New-Item -ItemType Directory C:\\app ;     Write-Host 'created'"]);
      assert.equal(at(r, 3).args, ["C:\\app"]);
      assert.equal(at(r, 4).args, ["bin\\", "C:\\app\\"]);
      assert.equal(at(r, 5).pairs, [{ key: "PATH", value: '"C:\\app;C:\\Windows\\system32"', separator: "=" }]);
      assert.equal(at(r, 6).args, ["C:\\app\\server.exe"]);
    },
  },
  "go-multistage": {
    keywords: "ARG FROM WORKDIR COPY RUN COPY ARG RUN FROM COPY USER EXPOSE ENTRYPOINT",
    check: (r) => {
      assert.is(r.directives.syntax, "docker/dockerfile:1.7");
      assert.equal(at(r, 1).flags, ["--platform=$BUILDPLATFORM"]);
      assert.equal(at(r, 7).flags, ["--mount=type=cache,target=/go/pkg/mod", "--mount=type=cache,target=/root/.cache/go-build"]);
      assert.equal([at(r, 7).startLine, at(r, 7).endLine], [10, 12]);
      assert.equal(at(r, 6).args, ["TARGETOS", "TARGETARCH"]);
    },
  },
  "healthcheck-variants": {
    keywords: "FROM HEALTHCHECK FROM HEALTHCHECK FROM HEALTHCHECK",
    check: (r) => {
      assert.equal(at(r, 1).args, ["CMD", "redis-cli ping | grep PONG || exit 1"]);
      assert.equal(at(r, 1).flags.length, 4);
      assert.equal(at(r, 3).args, ["CMD", "pg_isready", "-U", "postgres"]);
      assert.is(at(r, 3).json, true);
      assert.equal(at(r, 5).args, ["NONE"]);
    },
  },
  "heredoc-copy-files": {
    keywords: "FROM COPY COPY COPY EXPOSE",
    check: (r) => {
      assert.equal(heredocNames(r), [[], ["EOF"], ["index.html", "robots.txt"], ["ENTRY"], []]);
      const entry = at(r, 3).heredocs[0]!;
      assert.equal([entry.chomp, entry.expand, entry.content], [true, false, '#!/bin/sh\necho "hello from $HOSTNAME"\n']);
      assert.is(at(r, 1).heredocs[0]!.content.split("\n").length, 7);
      assert.equal(at(r, 2).args, ["<<index.html", "<<robots.txt", "/usr/share/nginx/html/"]);
    },
  },
  "heredoc-onbuild-mixed": {
    keywords: "FROM ONBUILD RUN COPY",
    check: (r) => {
      assert.equal(heredocNames(r), [[], ["EOF"], ["A", "B"], ["EOT"]]);
      assert.is(at(r, 1).next!.keyword, "RUN");
      assert.equal(
        at(r, 2).heredocs.map((h) => h.content),
        ["alpha\n", "beta\n"],
      );
      assert.is(at(r, 3).heredocs[0]!.content, "Welcome\n");
      assert.equal([at(r, 3).startLine, at(r, 3).endLine], [10, 12]);
    },
  },
  "heredoc-run-scripts": {
    keywords: "FROM RUN RUN RUN CMD",
    check: (r) => {
      assert.equal(heredocNames(r), [[], ["EOF"], ["SCRIPT"], ["PY"], []]);
      assert.is(at(r, 2).heredocs[0]!.expand, false);
      assert.is(at(r, 1).heredocs[0]!.content.split("\n").length, 5);
      assert.equal(at(r, 3).args, ["python3 <<PY"]);
    },
  },
  "hugo-site/Dockerfile": {
    keywords: "FROM WORKDIR COPY RUN FROM COPY",
    check: (r) => assert.equal(at(r, 5).flags, ["--from=build"]),
  },
  "java-maven": {
    keywords: "FROM WORKDIR COPY RUN COPY RUN FROM ARG COPY ENTRYPOINT",
    check: (r) => assert.equal(at(r, 9).args, ["java", "-XX:MaxRAMPercentage=75", "-jar", "/app.jar"]),
  },
  "json-shell-fallback": {
    keywords: "FROM CMD ENTRYPOINT RUN CMD SHELL",
    check: (r) => {
      assert.equal(
        r.instructions.map((n) => n.json),
        [false, false, true, false, true, true],
      );
      assert.equal(at(r, 4).args, ["echo", 'a "quoted" word']);
      assert.equal(at(r, 1).args, ["[ \"echo\", 'single quotes are not JSON' ]"]);
    },
  },
  "label-multiline": {
    keywords: "FROM LABEL",
    check: (r) => {
      assert.equal(at(r, 1).pairs, [
        { key: "org.opencontainers.image.title", value: '"demo"', separator: "=" },
        { key: "org.opencontainers.image.description", value: '"A demo image with a continued description"', separator: "=" },
        { key: "org.opencontainers.image.licenses", value: "MIT", separator: "=" },
      ]);
    },
  },
  "legacy-env-label": {
    keywords: "FROM MAINTAINER ENV ENV LABEL LABEL RUN ADD EXPOSE VOLUME CMD",
    check: (r) => {
      assert.equal(at(r, 1).args, ["Jane Doe <jane@example.com>"]);
      assert.equal(at(r, 2).pairs, [{ key: "DEBIAN_FRONTEND", value: "noninteractive", separator: " " }]);
      assert.equal(at(r, 4).pairs, [{ key: "version", value: "1.0", separator: " " }]);
      assert.equal(at(r, 5).args, ["description", '"Legacy style image"', "vendor", "Example"]);
      assert.equal(at(r, 8).args, ["5000", "5001/udp"]);
      assert.equal([at(r, 9).json, at(r, 10).json], [true, false]);
    },
  },
  "lowercase-keywords": {
    keywords: "FROM RUN COPY WORKDIR CMD",
    check: (r) => assert.equal(at(r, 0).args, ["alpine:3.20", "as", "base"]),
  },
  "multi-platform-xx": {
    keywords: "FROM FROM COPY ARG RUN WORKDIR COPY RUN FROM COPY",
    check: (r) => {
      assert.equal(at(r, 2).args, ["/", "/"]);
      assert.equal(at(r, 2).flags, ["--from=xx"]);
      assert.equal(at(r, 7).args, ["xx-go build -o /out/tool . && xx-verify /out/tool"]);
    },
  },
  "nextjs-standalone": {
    keywords: "FROM FROM RUN WORKDIR COPY RUN FROM WORKDIR COPY COPY ENV RUN FROM WORKDIR ENV RUN RUN COPY COPY COPY USER EXPOSE ENV CMD",
    check: (r) => {
      const install = at(r, 5);
      assert.equal([install.startLine, install.endLine], [7, 12]);
      assert.ok(install.args[0]!.startsWith("if [ -f yarn.lock ]; then yarn --frozen-lockfile;   elif"));
      assert.ok(install.args[0]!.endsWith("exit 1;   fi"));
      assert.equal(at(r, 18).flags, ["--from=builder", "--chown=nextjs:nodejs"]);
    },
  },
  "node-npm-ci": {
    keywords: "FROM WORKDIR COPY RUN FROM WORKDIR COPY RUN COPY RUN FROM ENV WORKDIR COPY COPY COPY USER EXPOSE HEALTHCHECK CMD",
    check: (r) => {
      assert.equal(at(r, 18).args, ["CMD", "node", "dist/healthcheck.js"]);
      assert.is(at(r, 18).json, true);
      assert.equal(at(r, 18).flags, ["--interval=30s", "--timeout=5s", "--retries=3"]);
      assert.equal(at(r, 3).args, ["npm ci --omit=dev"]);
    },
  },
  "onbuild-base": {
    keywords: "FROM WORKDIR ONBUILD ONBUILD ONBUILD ONBUILD CMD",
    check: (r) => {
      assert.equal(
        r.instructions.slice(2, 6).map((n) => n.next!.keyword),
        ["ARG", "COPY", "RUN", "COPY"],
      );
      assert.equal(at(r, 2).next!.pairs, [{ key: "NODE_ENV", value: "production", separator: "=" }]);
      assert.equal(at(r, 3).args, ["COPY package*.json ./"]);
    },
  },
  "php-apache": {
    keywords: "FROM RUN RUN COPY ENV RUN EXPOSE",
    check: (r) => assert.equal(at(r, 3).flags, ["--chown=www-data:www-data"]),
  },
  "postgres-init": {
    keywords: "FROM ENV COPY COPY HEALTHCHECK",
    check: (r) => {
      assert.equal(at(r, 1).args, ["POSTGRES_DB", "app", "POSTGRES_USER", "app"]);
      assert.equal(
        at(r, 3).heredocs.map((h) => [h.name, h.expand, h.content]),
        [["SQL", false, 'CREATE EXTENSION IF NOT EXISTS "uuid-ossp";\n']],
      );
      assert.equal(at(r, 4).args, ["CMD", 'pg_isready -U "$POSTGRES_USER" -d "$POSTGRES_DB"']);
    },
  },
  "python-poetry": {
    keywords: "FROM ENV WORKDIR FROM RUN COPY RUN RUN FROM COPY RUN COPY RUN USER CMD",
    check: (r) => {
      assert.equal(
        at(r, 1).pairs!.map((p) => p.key),
        ["PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PIP_NO_CACHE_DIR"],
      );
      assert.equal(at(r, 4).args, ['pip install "poetry==1.8.3"']);
    },
  },
  "ruby-rails": {
    keywords: "ARG FROM WORKDIR ENV FROM RUN COPY RUN COPY RUN FROM COPY COPY RUN USER ENTRYPOINT EXPOSE CMD",
    check: (r) => {
      assert.equal(at(r, 3).pairs![0], { key: "RAILS_ENV", value: '"production"', separator: "=" });
      assert.equal(at(r, 11).args, ['"${BUNDLE_PATH}"', '"${BUNDLE_PATH}"']);
    },
  },
  "rust-cargo-chef": {
    keywords: "FROM WORKDIR FROM COPY RUN FROM COPY RUN COPY RUN FROM WORKDIR COPY ENTRYPOINT",
    check: (r) => assert.equal(at(r, 5).args, ["chef", "AS", "builder"]),
  },
  "secrets-ssh-mounts": {
    keywords: "FROM RUN RUN RUN RUN RUN RUN",
    check: (r) => {
      assert.equal(at(r, 4).flags, ["--mount=type=secret,id=aws,env=AWS_ACCESS_KEY_ID", "--network=none"]);
      assert.equal(at(r, 4).args, ["true"]);
      assert.equal(at(r, 3).flags, ["--mount=type=ssh"]);
      assert.equal(at(r, 2).args, ["cat /root/.npmrc > /dev/null"]);
    },
  },
  "stopsignal-user-volume": {
    keywords: "FROM STOPSIGNAL USER VOLUME WORKDIR EXPOSE",
    check: (r) => {
      assert.equal(at(r, 1).args, ["SIGQUIT"]);
      assert.equal(at(r, 3).args, ["/var/cache/nginx", "/var/run"]);
    },
  },
  "unknown-and-maintainer": {
    keywords: "FROM MAINTAINER RUNN CMD",
    check: (r) => {
      assert.equal(at(r, 2).args, []);
      assert.is(at(r, 2).original, "RUNN echo typo");
    },
  },
};

test("there are at least 30 fixtures and each has an expectation", () => {
  const names = fixtureNames();
  assert.ok(names.length >= 30, `only ${names.length} fixtures`);
  assert.equal(names, Object.keys(expected).sort());
});

for (const name of fixtureNames()) {
  test(`fixture ${name}`, () => {
    const expectation = expected[name];
    assert.ok(expectation, `no expectation for ${name}`);
    const result = parseFixture(name);
    assert.is(result.instructions.map((n) => n.keyword).join(" "), expectation.keywords);
    for (const node of result.instructions) assert.ok(node.startLine <= node.endLine, `${name}: ${node.original}`);
    expectation.check?.(result);
  });
}

test.run();
