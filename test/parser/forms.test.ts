import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseDockerfile } from "../../src/parser/index.js";
import { parseWords } from "../../src/parser/line-parsers.js";
import { dump, errorOf } from "./dump.js";

const only = (text: string) => parseDockerfile(text).instructions[0]!;

test("exec form: JSON arrays of strings (BuildKit testfiles/json)", () => {
  const text = 'CMD []\nCMD [""]\nCMD ["a"]\nCMD ["a","b"]\nCMD [ "a", "b" ]\nCMD [\t"a",\t"b"\t]\nCMD\t[\t"a",\t"b"\t]\t\nCMD ["abc 123", "♥", "☃", "\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u0000"]';
  assert.is(
    dump(text),
    [
      "(cmd)",
      '(cmd "")',
      '(cmd "a")',
      '(cmd "a" "b")',
      '(cmd "a" "b")',
      '(cmd "a" "b")',
      '(cmd "a" "b")',
      '(cmd "abc 123" "♥" "☃" "\\" \\\\ / \\b \\f \\n \\r \\t \\u0000")',
    ].join("\n"),
  );
  assert.ok(parseDockerfile(text).instructions.every((n) => n.json));
});

test("malformed JSON falls back to shell form (BuildKit jeztah-invalid-json-*)", () => {
  const cases: Array<[string, string]> = [
    ['CMD [ "echo", "[\\"nested json\\"]" ]', '(cmd "echo" "[\\"nested json\\"]")'],
    ['CMD [ "echo", "["nested json"]" ]', '(cmd "[ \\"echo\\", \\"[\\"nested json\\"]\\" ]")'],
    ["CMD [ 'echo', 'single quotes are invalid JSON' ]", `(cmd "[ 'echo', 'single quotes are invalid JSON' ]")`],
    ['CMD [ "echo", "look ma, no brackets"', '(cmd "[ \\"echo\\", \\"look ma, no brackets\\"")'],
    ['CMD [ "echo", "look ma, no quote ]', '(cmd "[ \\"echo\\", \\"look ma, no quote ]")'],
    ['ENTRYPOINT ["a"] extra', '(entrypoint "[\\"a\\"] extra")'],
    ["RUN [ -f /etc/passwd ] && echo yes", '(run "[ -f /etc/passwd ] && echo yes")'],
  ];
  for (const [input, expected] of cases) {
    assert.is(dump(input), expected, input);
    assert.is(only(input).json, input.startsWith('CMD [ "echo", "[\\"'), input);
  }
});

test("a JSON array of non-strings is an error, not a fallback (BuildKit shykes-nested-json)", () => {
  for (const input of ['CMD [ "echo", [ "nested json" ] ]', "RUN [1, 2]", 'ENTRYPOINT ["a", null]', 'COPY ["a", true]', 'HEALTHCHECK CMD ["a", 1]']) {
    const e = errorOf(`FROM a\n${input}`);
    assert.is(typeof e === "object" && e.code, "DOCKERFILE_JSON_NOT_STRINGS", input);
    assert.is(typeof e === "object" && e.line, 2, input);
  }
});

test("which keywords take JSON or shell form, and which split on blanks", () => {
  assert.is(dump('SHELL ["/bin/bash", "-c"]'), '(shell "/bin/bash" "-c")');
  assert.is(dump("SHELL /bin/sh -c"), '(shell "/bin/sh -c")');
  assert.is(dump("ENTRYPOINT exec top -b"), '(entrypoint "exec top -b")');
  assert.is(dump('COPY ["a b", "/c d/"]'), '(copy "a b" "/c d/")');
  assert.is(dump("COPY  a \t b   /c/"), '(copy "a" "b" "/c/")');
  assert.is(dump("ADD https://x/y.tgz /z"), '(add "https://x/y.tgz" "/z")');
  assert.is(dump('VOLUME ["/a", "/b"]'), '(volume "/a" "/b")');
  assert.is(dump("VOLUME /a /b"), '(volume "/a" "/b")');
  assert.is(dump("FROM --platform=$BUILDPLATFORM golang:1.22 AS build"), '(from ["--platform=$BUILDPLATFORM"] "golang:1.22" "AS" "build")');
  assert.is(dump("EXPOSE 80/tcp   443"), '(expose "80/tcp" "443")');
  assert.is(dump('EXPOSE ["80"]'), '(expose "[\\"80\\"]")');
  assert.is(dump("USER app:app"), '(user "app:app")');
  assert.is(dump("WORKDIR /my dir"), '(workdir "/my dir")');
  assert.is(dump("STOPSIGNAL SIGKILL"), '(stopsignal "SIGKILL")');
  assert.is(dump('MAINTAINER James Turnbull "james@example.com"'), '(maintainer "James Turnbull \\"james@example.com\\"")');
});

test("instructions with no arguments have none", () => {
  assert.is(dump("FROM\nRUN\nCMD\nCOPY\nENV\nLABEL\nARG\nONBUILD\nUSER\nHEALTHCHECK"), "(from)\n(run)\n(cmd)\n(copy)\n(env)\n(label)\n(arg)\n(onbuild)\n(user)\n(healthcheck)");
});

test("HEALTHCHECK: type word, then JSON or shell form (BuildKit testfiles/health)", () => {
  const text =
    'FROM debian\nADD check.sh main.sh /app/\nCMD /app/main.sh\nHEALTHCHECK\nHEALTHCHECK --interval=5s --timeout=3s --retries=3 \\\n  CMD /app/check.sh --quiet\nHEALTHCHECK CMD\nHEALTHCHECK   CMD   a b\nHEALTHCHECK --timeout=3s CMD ["foo"]\nHEALTHCHECK CONNECT TCP 7000\nHEALTHCHECK --start-period=0s --interval=5s --timeout=0s --retries=0 CMD ["foo"]\n';
  assert.is(
    dump(text),
    [
      '(from "debian")',
      '(add "check.sh" "main.sh" "/app/")',
      '(cmd "/app/main.sh")',
      "(healthcheck)",
      '(healthcheck ["--interval=5s" "--timeout=3s" "--retries=3"] "CMD" "/app/check.sh --quiet")',
      '(healthcheck "CMD")',
      '(healthcheck "CMD" "a b")',
      '(healthcheck ["--timeout=3s"] "CMD" "foo")',
      '(healthcheck "CONNECT" "TCP 7000")',
      '(healthcheck ["--start-period=0s" "--interval=5s" "--timeout=0s" "--retries=0"] "CMD" "foo")',
    ].join("\n"),
  );
  const nodes = parseDockerfile(text).instructions;
  assert.is(nodes[7]!.json, true);
  assert.is(nodes[6]!.json, false);
  assert.is(dump("HEALTHCHECK NONE"), '(healthcheck "NONE")');
});

test("ENV and LABEL k=v pairs keep quotes and escapes as written", () => {
  const node = only('ENV A=1 B="two words" C=\'x y\' D=a\\ b E= F==g');
  assert.equal(node.pairs, [
    { key: "A", value: "1", separator: "=" },
    { key: "B", value: '"two words"', separator: "=" },
    { key: "C", value: "'x y'", separator: "=" },
    { key: "D", value: "a\\ b", separator: "=" },
    { key: "E", value: "", separator: "=" },
    { key: "F", value: "=g", separator: "=" },
  ]);
  assert.equal(node.args, ["A", "1", "B", '"two words"', "C", "'x y'", "D", "a\\ b", "E", "", "F", "=g"]);
  assert.is(dump('LABEL "com.example.vendor"="ACME Inc" version=1.0 description="multi \\\nline"'), '(label "\\"com.example.vendor\\"" "\\"ACME Inc\\"" "version" "1.0" "description" "\\"multi line\\"")');
});

test("ENV and LABEL legacy `k v` form: the value is the rest of the line", () => {
  assert.equal(only("ENV PATH  /usr/local/go/bin:$PATH  x").pairs, [{ key: "PATH", value: "/usr/local/go/bin:$PATH  x", separator: " " }]);
  assert.is(dump("LABEL\tmaintainer\tTianon Gravi <admwiggin@gmail.com> (@tianon)"), '(label "maintainer" "Tianon Gravi <admwiggin@gmail.com> (@tianon)")');
  assert.is(dump('ENV X "quoted value"'), '(env "X" "\\"quoted value\\"")');
  assert.is(dump("ENV DOCKER_CROSSPLATFORMS\t\\\n\tlinux/386 linux/arm \\\n\tdarwin/amd64"), '(env "DOCKER_CROSSPLATFORMS" "linux/386 linux/arm \\tdarwin/amd64")');
});

test("ENV and LABEL syntax errors (BuildKit env_no_value, missing =)", () => {
  assert.equal(errorOf("FROM busybox\nENV PATH"), { code: "DOCKERFILE_SYNTAX", message: "ENV must have two arguments", line: 2, column: 5, lineText: "ENV PATH" });
  assert.equal(errorOf("LABEL a=1 b"), {
    code: "DOCKERFILE_SYNTAX",
    message: `Syntax error - can't find = in "b". Must be of the form: name=value`,
    line: 1,
    column: 11,
    lineText: "LABEL a=1 b",
  });
});

test("parseWords keeps quotes and escapes, splits on Unicode blanks (BuildKit TestParseWords)", () => {
  const cases: Array<[string, string[]]> = [
    ["foo", ["foo"]],
    ["foo bar", ["foo", "bar"]],
    ["foo\\ bar", ["foo\\ bar"]],
    ["foo=bar", ["foo=bar"]],
    ["foo bar 'abc xyz'", ["foo", "bar", "'abc xyz'"]],
    ['foo bar "abc xyz"', ["foo", "bar", '"abc xyz"']],
    ["àöû", ["àöû"]],
    ['föo bàr "âbc xÿz"', ["föo", "bàr", '"âbc xÿz"']],
    ["a\u00a0b", ["a", "b"]],
    ["'a\\' b", ["'a\\'", "b"]],
    ["trailing\\", ["trailing"]],
  ];
  for (const [input, words] of cases) assert.equal(parseWords(input.replace("\\u00a0", "\u00a0"), "\\").words, words, input);
});

test("ENV words follow the escape directive: with escape=` a backslash does not escape a quote", () => {
  assert.equal(parseDockerfile('# escape=`\nENV A="x`" y" B=2').instructions[0]!.pairs, [
    { key: "A", value: '"x`" y"', separator: "=" },
    { key: "B", value: "2", separator: "=" },
  ]);
  assert.equal(parseDockerfile('ENV A="x\\" y" B=2').instructions[0]!.pairs, [
    { key: "A", value: '"x\\" y"', separator: "=" },
    { key: "B", value: "2", separator: "=" },
  ]);
  // With escape=` the backslash is plain, so the quote closes early and `y" B=2` is one word.
  assert.equal(parseDockerfile('# escape=`\nENV A="x\\" y" B=2').instructions[0]!.pairs, [
    { key: "A", value: '"x\\"', separator: "=" },
    { key: 'y" B', value: "2", separator: "=" },
  ]);
});

test("ARG: bare names and name=value words", () => {
  const node = only('ARG VERSION=1.2 NAME TAG="a b"');
  assert.equal(node.args, ["VERSION=1.2", "NAME", 'TAG="a b"']);
  assert.equal(node.pairs, [
    { key: "VERSION", value: "1.2", separator: "=" },
    { key: "NAME", value: "", separator: "" },
    { key: "TAG", value: '"a b"', separator: "=" },
  ]);
  assert.equal(only("ARG EMPTY=").pairs, [{ key: "EMPTY", value: "", separator: "=" }]);
});

test("ONBUILD carries its inner instruction as `next`, flags and all", () => {
  const node = only("ONBUILD COPY --from=builder /out /app");
  assert.is(node.keyword, "ONBUILD");
  assert.equal(node.args, ["COPY --from=builder /out /app"]);
  assert.is(node.next!.keyword, "COPY");
  assert.equal(node.next!.flags, ["--from=builder"]);
  assert.equal(node.next!.args, ["/out", "/app"]);
  assert.is(dump('ONBUILD RUN ["echo", "hi"]\nonbuild env A=b'), '(onbuild (run "echo" "hi"))\n(onbuild (env "A" "b"))');
  assert.is(only('ONBUILD RUN ["echo"]').next!.json, true);
  assert.is(dump("ONBUILD ONBUILD RUN x"), '(onbuild (onbuild (run "x")))');
});

test("unknown keywords are kept, upper-cased, without arguments (parseIgnore)", () => {
  const node = only("FOO bar baz");
  assert.is(node.keyword, "FOO");
  assert.equal(node.args, []);
  assert.is(node.original, "FOO bar baz");
});

test("BuildKit kartar-entrypoint-oddities", () => {
  const text = 'FROM ubuntu:14.04\nMAINTAINER James Turnbull "james@example.com"\nENV REFRESHED_AT 2014-06-01\nRUN apt-get update\nRUN apt-get -y install redis-server redis-tools\nEXPOSE 6379\nENTRYPOINT [ "/usr/bin/redis-server" ]';
  assert.is(
    dump(text),
    '(from "ubuntu:14.04")\n(maintainer "James Turnbull \\"james@example.com\\"")\n(env "REFRESHED_AT" "2014-06-01")\n(run "apt-get update")\n(run "apt-get -y install redis-server redis-tools")\n(expose "6379")\n(entrypoint "/usr/bin/redis-server")',
  );
});

test("an empty file, or one with only comments, is an error (file with no instructions)", () => {
  assert.equal(errorOf(""), { code: "DOCKERFILE_EMPTY", message: "file with no instructions", line: 1, column: 1, lineText: undefined });
  assert.is((errorOf("# just a comment\n\n   \n") as { code: string; line: number }).line, 3);
});

test.run();
