import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseDockerfile } from "../../src/parser/index.js";
import { dump, errorOf } from "./dump.js";

const directivesOf = (text: string) => parseDockerfile(text).directives;

test("syntax, escape and check directives at the top are read, in order, with their lines", () => {
  const d = directivesOf("# syntax=docker/dockerfile:1.7\n# escape=`\n# check=skip=JSONArgsRecommended;error=true\nFROM scratch\n");
  assert.equal(d, {
    escape: "`",
    syntax: "docker/dockerfile:1.7",
    check: "skip=JSONArgsRecommended;error=true",
    list: [
      { name: "syntax", value: "docker/dockerfile:1.7", line: 1 },
      { name: "escape", value: "`", line: 2 },
      { name: "check", value: "skip=JSONArgsRecommended;error=true", line: 3 },
    ],
  });
});

test("no directives: the escape character is the backslash", () => {
  assert.equal(directivesOf("FROM scratch"), { escape: "\\", syntax: undefined, check: undefined, list: [] });
});

test("directive names are case-insensitive; blanks around = and the value are allowed", () => {
  const d = directivesOf("#SYNTAX = example/frontend:1  \n#  Escape   =   `\t\nFROM scratch");
  assert.equal(d.list, [
    { name: "syntax", value: "example/frontend:1", line: 1 },
    { name: "escape", value: "`", line: 2 },
  ]);
});

test("leading whitespace before # still makes a directive", () => {
  assert.is(directivesOf("   # escape=`\nFROM scratch").escape, "`");
});

test("a directive after an instruction is a comment", () => {
  const d = directivesOf("FROM scratch\n# escape=`\nRUN a \\\n b");
  assert.equal(d.list, []);
  assert.is(dump("FROM scratch\n# escape=`\nRUN a \\\n b"), '(from "scratch")\n(run "a  b")');
});

test("a directive after a plain comment is a comment (BuildKit escape-after-comment)", () => {
  const text = "# Comment here. Should not be looking for the following parser directive.\n# escape = `\n\nFROM image\nMAINTAINER foo@bar.com\nENV GOPATH \\\n\\go\n";
  assert.equal(directivesOf(text).list, []);
  assert.is(dump(text), '(from "image")\n(maintainer "foo@bar.com")\n(env "GOPATH" "\\\\go")');
});

test("a directive after a blank line is a comment", () => {
  const d = directivesOf("\n# escape=`\nFROM scratch");
  assert.is(d.escape, "\\");
  assert.equal(d.list, []);
});

test("a directive after an unknown directive-looking comment is a comment", () => {
  const d = directivesOf("# foo=bar\n# escape=`\nFROM scratch");
  assert.is(d.escape, "\\");
  assert.equal(d.list, []);
});

test("escape=` with no blank line before the instruction (BuildKit escape-nonewline)", () => {
  const text = "# escape = `\n# Note this is the same as escape-after-comment\nFROM image\nMAINTAINER foo@bar.com\nENV GOPATH `\n\\go\n";
  assert.is(dump(text), '(from "image")\n(maintainer "foo@bar.com")\n(env "GOPATH" "\\\\go")');
});

test("escape=` makes the backtick the continuation character and the backslash plain", () => {
  const text = "# escape=`\nFROM mcr.microsoft.com/windows/servercore\nRUN dir c:\\ `\n    && echo done\nCOPY testfile.txt c:\\\nWORKDIR c:\\Users\\";
  assert.is(
    dump(text),
    '(from "mcr.microsoft.com/windows/servercore")\n(run "dir c:\\\\     && echo done")\n(copy "testfile.txt" "c:\\\\")\n(workdir "c:\\\\Users\\\\")',
  );
});

test("a byte-order mark does not stop the directive on line 1", () => {
  assert.is(directivesOf("\uFEFF# escape=`\nFROM scratch").escape, "`");
});

test("a repeated directive is a comment, and ends the directives (issue 2; BuildKit would reject it)", () => {
  const first = directivesOf("# escape=`\n# escape=\\\nFROM scratch");
  assert.is(first.escape, "`");
  assert.equal(first.list.map((d) => [d.name, d.value, d.line]), [["escape", "`", 1]]);
  const later = directivesOf("# syntax=a\n# SYNTAX=b\n# escape=`\nFROM scratch");
  assert.is(later.syntax, "a");
  assert.is(later.escape, "\\", "a directive after the repeated one is a comment too");
});

test("an escape directive with another character is an error", () => {
  const e = errorOf("# escape=x\nFROM scratch");
  assert.equal(e, { code: "DOCKERFILE_INVALID_ESCAPE", message: "invalid escape token 'x' does not match ` or \\", line: 1, column: 1, lineText: "# escape=x" });
});

test("an invalid escape after the directive block is only a comment", () => {
  assert.is(errorOf("FROM scratch\n# escape=x"), "no error");
});

test.run();
