import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import type { Ignore } from "@balena/dockerignore";
import { compilePatterns, goMatch, openContext, parseIgnoreFile } from "../../src/context/index.js";

// A CommonJS default export; typed by hand so NodeNext does not wrap it.
const balena = createRequire(import.meta.url)("@balena/dockerignore") as () => Ignore;

// Cases from moby/patternmatcher's patternmatcher_test.go (TestMatches, MatchesOrParentMatches).
const single: [pattern: string, path: string, match: boolean][] = [
  ["**", "file", true], ["**", "file/", true], ["**/", "file", true], ["**/", "file/", true],
  ["**", "dir/file", true], ["**/", "dir/file", true], ["**/**", "dir/file", true],
  ["dir/**", "dir/file", true], ["dir/**", "dir/dir2/file", true], ["**/dir", "dir", true],
  ["**/dir", "dir/file", true], ["**/dir2/*", "dir/dir2/file", true], ["**/dir2/*", "dir/dir2/file/", true],
  ["**/dir2/**", "dir/dir2/dir3/file", true], ["**file", "file", true], ["**file", "dir/file", true],
  ["**/file", "dir/file", true], ["**file", "dir/dir/file", true], ["**/file", "dir/dir/file", true],
  ["**/file*", "dir/dir/file", true], ["**/file*", "dir/dir/file.txt", true], ["**/file*txt", "dir/dir/file.txt", true],
  ["**/file*.txt", "dir/dir/file.txt", true], ["**/file*.txt*", "dir/dir/file.txt", true],
  ["**/**/*.txt", "dir/dir/file.txt", true], ["**/**/*.txt2", "dir/dir/file.txt", false],
  ["**/*.txt", "file.txt", true], ["**/**/*.txt", "file.txt", true], ["a**/*.txt", "a/file.txt", true],
  ["a**/*.txt", "a/dir/file.txt", true], ["a**/*.txt", "a/dir/dir/file.txt", true], ["a/*.txt", "a/dir/file.txt", false],
  ["a/*.txt", "a/file.txt", true], ["a/*.txt**", "a/file.txt", true], ["a[b-d]e", "ae", false], ["a[b-d]e", "ace", true],
  ["a[b-d]e", "aae", false], ["a[^b-d]e", "aze", true], [".*", ".foo", true], [".*", "foo", false],
  ["abc.def", "abcdef", false], ["abc.def", "abc.def", true], ["abc.def", "abcZdef", false], ["abc?def", "abcZdef", true],
  ["abc?def", "abcdef", false], ["**/foo/bar", "foo/bar", true], ["**/foo/bar", "dir/foo/bar", true],
  ["**/foo/bar", "dir/dir2/foo/bar", true], ["abc/**", "abc", false], ["abc/**", "abc/def", true], ["abc/**", "abc/def/ghi", true],
  ["**/.foo", ".foo", true], ["**/.foo", "bar.foo", false], ["a(b)c/def", "a(b)c/def", true], ["a(b)c/def", "a(b)c/xyz", false],
  ["a.|)$(}+{bc", "a.|)$(}+{bc", true],
  ["dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true],
  ["dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true],
  ["a\\\\", "a\\", true], ["a\\*b", "a*b", true],
  // A pattern matches a path or any of its parents; matching is case-sensitive.
  ["docs", "docs/README.md", true], ["a*", "ab/c", true], ["README.md", "readme.md", false],
  ["a+b", "a+b", true], ["a+b", "aab", false], ["x$", "x$", true], ["[[]x", "[x", true],
];

const multi: [patterns: string[], path: string, match: boolean][] = [
  [["**", "!util/docker/web"], "util/docker/web/foo", false],
  [["**", "!util/docker/web", "util/docker/web/foo"], "util/docker/web/foo", true],
  [["**", "!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl"], "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", false],
  [["**", "!dist/*.whl"], "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", false],
  [["docs", "!docs/README.md"], "docs/README.md", false],
  [["docs/", "!docs/README.md"], "docs/README.md", false],
  [["docs/*", "!docs/README.md"], "docs/README.md", false],
  [["*.go", "!fileutils.go"], "fileutils.go", false],
  [["!fileutils.go", "*.go"], "fileutils.go", true],
];

test("patterns match as moby/patternmatcher does", () => {
  for (const [pattern, path, want] of single) {
    assert.is(compilePatterns([pattern]).matches(path), want, `${pattern} vs ${path}`);
  }
  for (const [patterns, path, want] of multi) {
    assert.is(compilePatterns(patterns).matches(path), want, `${patterns.join(",")} vs ${path}`);
  }
});

test("malformed patterns are errors, as Docker's", () => {
  for (const bad of ["[", "a[", "[^", "[^bc", "\\", "a\\", "[]a]", "[-]", "[x-]", "[-x]", "[a-b-c]", "!", "\\q"]) {
    assert.throws(() => compilePatterns([bad]), /invalid pattern/, bad);
  }
  for (const good of ["[\\]a]", "[\\-]", "[x\\-]", "a\\*b", "a(", "a)", "a|b", "a]", "a{1}"]) {
    compilePatterns([good]);
  }
});

test("goMatch follows Go's filepath.Match", () => {
  const cases: [string, string, boolean][] = [
    ["abc", "abc", true], ["*", "abc", true], ["*c", "abc", true], ["a*", "a", true], ["a*", "ab/c", false],
    ["a*/b", "abc/b", true], ["a*/b", "a/c/b", false], ["a*b*c*d*e*/f", "axbxcxdxexxx/f", true],
    ["a*b?c*x", "abxbbxdbxebxczzx", true], ["a*b?c*x", "abxbbxdbxebxczzy", false], ["ab[^c]", "abc", false],
    ["a?b", "a☺b", true], ["a???b", "a☺b", false], ["[a-ζ]*", "α", true], ["a?b", "a/b", false], ["[\\]a]", "]", true],
    ["[x\\-]", "-", true], ["[\\-x]", "a", false],
  ];
  for (const [pattern, name, want] of cases) assert.is(goMatch(pattern, name), want, `${pattern} vs ${name}`);
});

test("ignore files are read as ignorefile.ReadAll: comments, trimming, ! and leading / cleaned", () => {
  const lines = parseIgnoreFile("\uFEFF# comment\n  # not a comment\n/abs/path/\n./rel\n ! keep.txt \r\n\n!/x/../y\nnode_modules\n");
  assert.equal(
    lines.map((l) => l.pattern),
    ["# not a comment", "abs/path", "rel", "!keep.txt", "!y", "node_modules"],
  );
  assert.equal(lines.map((l) => l.line), [2, 3, 4, 5, 7, 8]);
});

// @balena/dockerignore was the suggested dependency; these are the Docker rules it gets wrong,
// which is why src/context/patterns.ts ports moby/patternmatcher instead of wrapping it.
test("@balena/dockerignore disagrees with Docker on case, regexp metacharacters and malformed patterns", () => {
  const balenaMatches = (patterns: string[], path: string): boolean | "throws" => {
    try {
      return balena().add(patterns).ignores(path);
    } catch {
      return "throws";
    }
  };
  const disagreements = [
    { patterns: ["README.md"], path: "readme.md" }, // Docker is case-sensitive
    { patterns: ["a+b"], path: "aab" }, // `+` is literal in Docker
    { patterns: ["a(b"], path: "a(b" }, // `(` is literal in Docker
    { patterns: ["a|b"], path: "a" }, // `|` is literal in Docker
  ];
  for (const { patterns, path } of disagreements) {
    assert.is.not(balenaMatches(patterns, path), compilePatterns(patterns).matches(path), `${patterns} vs ${path}`);
  }
  // Docker rejects a trailing `\` when the file is read; balena accepts it and matches nothing.
  assert.throws(() => compilePatterns(["a\\"]), /invalid pattern/);
  assert.is(balenaMatches(["a\\"], "a\\"), false);
  // Docker rejects `[` when the file is read; balena throws a raw SyntaxError at the first match.
  assert.throws(() => compilePatterns(["["]), /invalid pattern/);
  assert.is(balenaMatches(["["], "x"), "throws");
});

let dir = "";
test.before.each(async () => {
  dir = await mkdtemp(join(tmpdir(), "bi-ignore-"));
});
test.after.each(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("openContext reads .dockerignore once; <Dockerfile>.dockerignore next to the Dockerfile wins", async () => {
  await writeFile(join(dir, ".dockerignore"), "*.log\n");
  let ctx = await openContext(dir);
  assert.ok(ctx.isIgnored("a.log"));
  assert.ok(ctx.isIgnored("./a.log"));
  assert.not.ok(ctx.isIgnored("a.txt"));
  assert.is(ctx.ignoreFile, join(ctx.dir, ".dockerignore"));
  await mkdir(join(dir, "build"));
  await writeFile(join(dir, "build/app.Dockerfile"), "FROM scratch\n");
  await writeFile(join(dir, "build/app.Dockerfile.dockerignore"), "*.txt\n");
  ctx = await openContext(dir, { dockerfile: join(dir, "build/app.Dockerfile") });
  assert.ok(ctx.isIgnored("a.txt"));
  assert.not.ok(ctx.isIgnored("a.log"));
  assert.not.ok(ctx.isIgnored("."));
});

test("an invalid .dockerignore pattern fails with its line", async () => {
  await writeFile(join(dir, ".dockerignore"), "ok\n# c\nbad[\n");
  try {
    await openContext(dir);
    assert.unreachable();
  } catch (err) {
    const e = err as { code: string; location?: { line: number }; hint?: string };
    assert.is(e.code, "DOCKERIGNORE_INVALID_PATTERN");
    assert.is(e.location?.line, 3);
    assert.ok(e.hint);
  }
});

test("a missing context directory is an error with a code", async () => {
  try {
    await openContext(join(dir, "nope"));
    assert.unreachable();
  } catch (err) {
    assert.is((err as { code: string }).code, "CONTEXT_NOT_FOUND");
  }
});

test.run();
