import { test } from "uvu";
import * as assert from "uvu/assert";
import { expandWord, expandWordWithMatches, splitWords } from "../../src/instructions/index.js";
import { isBuildImageError } from "../../src/errors.js";
import { readFileSync } from "node:fs";

function fails(fn: () => unknown, code: string, message?: RegExp) {
  try {
    fn();
  } catch (err) {
    assert.ok(isBuildImageError(err), `not a BuildImageError: ${String(err)}`);
    assert.is((err as { code: string }).code, code);
    if (message) assert.match((err as Error).message, message);
    return err as Error & { location: { line: number; column: number } };
  }
  assert.unreachable("expected an error");
  throw new Error("unreachable");
}

const env = { PWD: "/home", SHELL: "bash", KOREAN: "한국어", NULL: "" };

test("plain words, $V and ${V}", () => {
  assert.is(expandWord("hello", env), "hello");
  assert.is(expandWord("he'll'o", env), "hello");
  assert.is(expandWord("$PWD", env), "/home");
  assert.is(expandWord("${PWD}", env), "/home");
  assert.is(expandWord("a${PWD}b", env), "a/homeb");
  assert.is(expandWord("$PWD/x", env), "/home/x");
  assert.is(expandWord("$KOREAN", env), "한국어");
  assert.is(expandWord("$MISSING-x", env), "-x");
  assert.is(expandWord("$", env), "$");
  assert.is(expandWord("a$ b", env), "a$ b");
  assert.is(expandWord("$1x", env), "x");
});

test("quotes and escapes", () => {
  assert.is(expandWord("'$PWD'", env), "$PWD");
  assert.is(expandWord('"$PWD"', env), "/home");
  assert.is(expandWord('"a \\"b\\" c"', env), 'a "b" c');
  assert.is(expandWord('"a\\nb"', env), "a\\nb"); // inside "", \ only escapes " $ and itself
  assert.is(expandWord('"\\$PWD"', env), "$PWD");
  assert.is(expandWord("\\$PWD", env), "$PWD");
  assert.is(expandWord("a\\ b", env), "a b");
  assert.is(expandWord("'a\\b'", env), "a\\b");
  assert.is(expandWord("abc\\", env), "abc");
  assert.is(expandWord("\"it's\"", env), "it's");
});

test("the escape character is a parameter: backtick", () => {
  assert.is(expandWord("`$PWD", env, { escape: "`" }), "$PWD");
  assert.is(expandWord("C:\\dir\\$SHELL", env, { escape: "`" }), "C:\\dir\\bash");
  assert.is(expandWord('"a `"b`" c"', env, { escape: "`" }), 'a "b" c');
});

test("${V:-w} ${V-w} ${V:+w} ${V+w}", () => {
  const e = { FOO: "xxx", BAR: "" };
  assert.is(expandWord("${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}", e), "xxx  ccc");
  assert.is(expandWord("${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}", e), "xxx bbb ccc");
  assert.is(expandWord("${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}", e), "aaa bbb ");
  assert.is(expandWord("${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}", e), "aaa  ");
  assert.is(expandWord("${BAZ:-$FOO}", e), "xxx");
  assert.is(expandWord('${BAZ:-"a b"}', e), "a b");
  assert.is(expandWord("${BAZ:-${FOO:+yes}}", e), "yes");
  assert.is(expandWord("x${TARGETVARIANT:+-${TARGETVARIANT}}", { TARGETVARIANT: "v7" }), "x-v7");
});

test("${V:?msg} and ${V?msg} fail with DOCKERFILE_REQUIRED_VARIABLE", () => {
  assert.is(expandWord("${VAR:?message here$ARG}", { VAR: "plain", ARG: "x" }), "plain");
  assert.is(expandWord("${VAR?message here$ARG}", { VAR: "", ARG: "x" }), "");
  fails(() => expandWord("${VAR:?message here$ARG}", { VAR: "", ARG: "x" }), "DOCKERFILE_REQUIRED_VARIABLE", /VAR: message herex/);
  fails(() => expandWord("${VAR?message here$ARG}", { ARG: "x" }), "DOCKERFILE_REQUIRED_VARIABLE", /VAR: message herex/);
  fails(() => expandWord("${VAR:?}", {}), "DOCKERFILE_REQUIRED_VARIABLE", /VAR: is not allowed to be unset/);
  fails(() => expandWord("${VAR:?}", { VAR: "" }), "DOCKERFILE_REQUIRED_VARIABLE", /VAR: is not allowed to be empty/);
});

test("${V#p} ${V##p} ${V%p} ${V%%p}", () => {
  const e = { FOO: "xxyy" };
  assert.is(expandWord("${FOO#*x*y}", e), "y");
  assert.is(expandWord("${FOO#*}", e), "xxyy");
  assert.is(expandWord("${FOO#$BAR}", { FOO: "xxyy", BAR: "x" }), "xyy");
  assert.is(expandWord("${FOO#}", e), "xxyy");
  assert.is(expandWord("${FOO##*x}", e), "yy");
  assert.is(expandWord("${FOO##}", e), "xxyy");
  assert.is(expandWord("${FOO#?\\?}", { FOO: "???y" }), "?y");
  assert.is(expandWord("${ABC:-.}${FOO%x}${ABC:-.}", e), ".xxyy.");
  assert.is(expandWord("${FOO%y}", e), "xxy");
  assert.is(expandWord("${FOO%%y*}", e), "xx");
  assert.is(expandWord("${FOO%%\\**}", { FOO: "xx**" }), "xx");
  assert.is(expandWord("${FOO%%\\**\\*}", { FOO: "a***yy*" }), "a");
  assert.is(expandWord("${FOO#()[]{\\}^$.\\*\\?|\\\\}", { FOO: "()[]{}^$.*?|\\x" }), "x");
  assert.is(expandWord("${VERSION#v}", { VERSION: "v1.2.3" }), "1.2.3");
  assert.is(expandWord("${FILE%.tar.gz}", { FILE: "app.tar.gz" }), "app");
});

test("${V/p/r} and ${V//p/r}", () => {
  assert.is(expandWord("${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}", { FOO: "/foo*/*/*.txt", NEEDLE: "\\*/" }), "/foo.*/*.txt - /foo..*.txt");
  assert.is(expandWord("${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}", { FOO: "/tmp/tmp/bar.txt", NEEDLE: "/tmp" }), "/tmp/bar.txt - /bar.txt");
  assert.is(expandWord("${FOO/$N/$R} - ${FOO//$N/$R}", { FOO: "/a/foo/b/c.txt", N: "/?/", R: "/" }), "/foo/b/c.txt - /foo/c.txt");
  assert.is(expandWord("${FOO/$N/$R}", { FOO: "http://google.de", N: "http://", R: "https://" }), "https://google.de");
  assert.is(expandWord("${FOO//\\//\\/}", { FOO: "/tmp/foo.txt" }), "\\/tmp\\/foo.txt");
  assert.is(expandWord("${FOO/$BAR/ww}", { FOO: "xxyy", BAR: "" }), "wwxxyy");
  assert.is(expandWord("${FOO///}", { FOO: "xxyy" }), "xxyy");
  assert.is(expandWord("${FOO///}", {}), "");
  assert.is(expandWord("${V/./-}", { V: "1.2.3" }), "1-2.3");
  assert.is(expandWord("${V//./-}", { V: "1.2.3" }), "1-2-3");
  assert.is(expandWord("${V//x/$1}", { V: "axb" }), "ab"); // the replacement is literal text, $1 is a variable
});

test("malformed words fail with positions and codes", () => {
  fails(() => expandWord("${FOO", {}), "DOCKERFILE_BAD_SUBSTITUTION", /missing '}'/);
  fails(() => expandWord("${", {}), "DOCKERFILE_BAD_SUBSTITUTION", /missing '}'/);
  fails(() => expandWord("${}", {}), "DOCKERFILE_BAD_SUBSTITUTION", /bad substitution/);
  fails(() => expandWord("${:x}", {}), "DOCKERFILE_BAD_SUBSTITUTION", /bad substitution/);
  fails(() => expandWord("${{x}", {}), "DOCKERFILE_BAD_SUBSTITUTION", /bad substitution/);
  fails(() => expandWord("${FOO=aaa}", { FOO: "x" }), "DOCKERFILE_BAD_SUBSTITUTION", /unsupported modifier \(=\)/);
  fails(() => expandWord("${FOO:=aaa}", { FOO: "x" }), "DOCKERFILE_BAD_SUBSTITUTION", /unsupported modifier \(:=\)/);
  fails(() => expandWord("${FOO:-aaa", {}), "DOCKERFILE_BAD_SUBSTITUTION", /missing '}'/);
  fails(() => expandWord("${FOO//ww}", { FOO: "x" }), "DOCKERFILE_BAD_SUBSTITUTION", /missing '\/' in \$\{\}/);
  fails(() => expandWord("${FOO//}", { FOO: "x" }), "DOCKERFILE_BAD_SUBSTITUTION", /missing '\/' in \$\{\}/);
  fails(() => expandWord("${FOO/a/b", { FOO: "x" }), "DOCKERFILE_BAD_SUBSTITUTION", /missing '}'/);
  fails(() => expandWord("${FOO/x}", { FOO: "x" }), "DOCKERFILE_BAD_SUBSTITUTION", /missing '\/' in \$\{\}/);
  fails(() => expandWord("${FOO#\\x}", { FOO: "x" }), "DOCKERFILE_BAD_SUBSTITUTION", /invalid escape/);
  const err = fails(() => expandWord("ab'cd", {}), "DOCKERFILE_UNTERMINATED_QUOTE", /single-quote/);
  assert.is(err.location.column, 6);
  fails(() => expandWord('"abc', {}), "DOCKERFILE_UNTERMINATED_QUOTE", /double-quote/);
  const placed = fails(() => expandWord("${X", {}, { position: { line: 7, column: 3, lineText: "WORKDIR ${X" } }), "DOCKERFILE_BAD_SUBSTITUTION");
  assert.equal(placed.location, { file: "Dockerfile", line: 7, column: 3, lineText: "WORKDIR ${X" });
});

test("splitWords splits on unquoted whitespace, also inside expanded values", () => {
  const e = { PORTS: "80/tcp  443/tcp", EMPTY: "" };
  assert.equal(splitWords("a b  c", e), ["a", "b", "c"]);
  assert.equal(splitWords('"a b" c', e), ["a b", "c"]);
  assert.equal(splitWords("'a b'c d", e), ["a bc", "d"]);
  assert.equal(splitWords("$PORTS 8080", e), ["80/tcp", "443/tcp", "8080"]);
  assert.equal(splitWords('"$PORTS" 8080', e), ["80/tcp  443/tcp", "8080"]);
  assert.equal(splitWords('a "" b $EMPTY', e), ["a", "b"]);
  assert.equal(splitWords("a\\ b c", e), ["a b", "c"]);
  assert.equal(splitWords("  ", e), []);
  // BuildKit's wordsTest: expansions split, quoted parts do not.
  const w = { hi: "hi", space: "abc  def", leading: "  ab c", trailing: "ab c  " };
  assert.equal(splitWords("hello${hi}bye", w), ["hellohibye"]);
  assert.equal(splitWords("hello${space}bye", w), ["helloabc", "defbye"]);
  assert.equal(splitWords('hello "${space}"bye', w), ["hello", "abc  defbye"]);
  assert.equal(splitWords('hello"${space}"${leading}bye', w), ["helloabc  def", "ab", "cbye"]);
  assert.equal(splitWords('hello "${space}${leading}"bye', w), ["hello", "abc  def  ab cbye"]);
  assert.equal(splitWords("hello${space}${trailing}bye", w), ["helloabc", "defab", "c", "bye"]);
});

test("expandWordWithMatches reports used and missing variables", () => {
  const r = expandWordWithMatches("${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc} $FOO", { FOO: "xxx", BAR: "" });
  assert.is(r.result, "xxx bbb ccc xxx");
  assert.equal([...r.matched].sort(), ["BAR", "FOO"]);
  assert.equal([...r.unmatched], ["BAZ"]);
  assert.equal([...expandWordWithMatches("'$QUOTED' x", {}).unmatched], []);
});

test("keepUnset leaves unknown references for a later expansion", () => {
  assert.is(expandWord("$A/${B}/${C:-x}/${D//a/b}/$E", { A: "1", E: "5" }, { keepUnset: true }), "1/${B}/${C:-x}/${D//a/b}/5");
  assert.is(expandWord("'q' \"$A\"", { A: "1" }, { keepUnset: true, rawQuotes: true }), "'q' \"1\"");
});

test("skipQuotes treats quotes as text (heredoc bodies)", () => {
  assert.is(expandWord("echo '$A' \"$A\"", { A: "1" }, { skipQuotes: true }), "echo '1' \"1\"");
});

test("the envVarTest-style table: every case expands or fails as in BuildKit", () => {
  const cases = readFileSync(new URL("./lex-cases.txt", import.meta.url), "utf8")
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#"));
  assert.ok(cases.length > 80);
  for (const line of cases) {
    const bar = line.lastIndexOf("|");
    const [source, expected] = [line.slice(0, bar), line.slice(bar + 1)];
    let got: string;
    try {
      got = expandWord(source, env);
    } catch (err) {
      assert.ok(isBuildImageError(err), source);
      got = "error";
    }
    assert.is(got, expected, source);
  }
});

test.run();
