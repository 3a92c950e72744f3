import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseDockerfile } from "../../src/parser/index.js";
import { dump } from "./dump.js";

test("continuation lines are joined as written: the escape goes, the line's own whitespace stays", () => {
  assert.is(dump("RUN apt-get update && \\\n    apt-get install -y curl"), '(run "apt-get update &&     apt-get install -y curl")');
  assert.is(dump("RUN a\\\nb"), '(run "ab")');
});

test("tabs after a continuation stay in the joined line (BuildKit testfiles/docker)", () => {
  assert.is(dump("RUN\tapt-get install -yq \\\n\tapt-utils \\\n\t--no-install-recommends"), '(run "apt-get install -yq \\tapt-utils \\t--no-install-recommends")');
});

test("spaces and tabs after the escape character still continue the line", () => {
  assert.is(dump("RUN a \\  \t\n  b"), '(run "a   b")');
});

test("an escaped escape at the end of a line is not a continuation", () => {
  assert.is(dump("RUN echo a\\\\\nRUN b"), '(run "echo a\\\\\\\\")\n(run "b")');
});

test("a line that is only the escape character continues into the next", () => {
  assert.is(dump("FROM a\nRUN x \\\n\\\n y"), '(from "a")\n(run "x  y")');
});

test("comment lines inside a continuation are dropped, indented or not", () => {
  const text = "RUN non-indented \\\n# this is a comment\n   after-comment\n\nRUN indented \\\n    # this is an indented comment\n    comment";
  assert.is(dump(text), '(run "non-indented    after-comment")\n(run "indented     comment")');
  assert.equal(parseDockerfile(text).warnings, []);
});

test("a blank line inside a continuation is skipped with one warning per instruction (BuildKit's test)", () => {
  const text =
    "\nFROM alpine:3.6\n\nRUN valid \\\n    continuation\n\nRUN something \\\n\n    following \\\n\n    more\n\nRUN another \\\n\n    thing\n\nRUN non-indented \\\n# this is a comment\n   after-comment\n\nRUN indented \\\n    # this is an indented comment\n    comment\n\t";
  const result = parseDockerfile(text);
  assert.equal(result.warnings, [
    { code: "DOCKERFILE_EMPTY_CONTINUATION", message: "Empty continuation line found in: RUN something     following     more", line: 8, column: 1 },
    { code: "DOCKERFILE_EMPTY_CONTINUATION", message: "Empty continuation line found in: RUN another     thing", line: 14, column: 1 },
  ]);
  assert.is(result.instructions.length, 6);
  assert.is(dump(text).split("\n")[2], '(run "something     following     more")');
});

test("a whitespace-only line counts as blank inside a continuation", () => {
  const result = parseDockerfile("RUN a \\\n   \t\n b");
  assert.is(result.instructions[0]!.args[0], "a  b");
  assert.is(result.warnings.length, 1);
  assert.is(result.warnings[0]!.line, 2);
});

test("a comment line ending in the escape character does not continue", () => {
  assert.is(dump("FROM a\n# comment \\\nRUN x"), '(from "a")\n(run "x")');
});

test("a continuation at the end of the file ends the instruction (BuildKit continue-at-eof)", () => {
  assert.is(dump("FROM alpine:3.5\n\nRUN something \\"), '(from "alpine:3.5")\n(run "something")');
  assert.is(dump("FROM a\nRUN x \\\n# trailing comment\n"), '(from "a")\n(run "x")');
});

test("continuation after the escape directive's backtick, in ENV (BuildKit escape)", () => {
  assert.is(dump("FROM image\nMAINTAINER foo@bar.com\nENV GOPATH \\\n\\go"), '(from "image")\n(maintainer "foo@bar.com")\n(env "GOPATH" "\\\\go")');
});

test("CRLF line endings are handled like LF", () => {
  assert.is(dump("FROM a\r\nRUN x \\\r\n  y\r\nCMD [\"b\"]\r\n"), '(from "a")\n(run "x   y")\n(cmd "b")');
});

test("comments, blank lines and leading whitespace around instructions are ignored", () => {
  assert.is(dump("# top\n\n   FROM a\n\t# indented comment\n  \t RUN b # not a comment\n"), '(from "a")\n(run "b # not a comment")');
});

test("keywords are case-insensitive and come back upper-case", () => {
  const nodes = parseDockerfile("from a\nRuN b\ncopy x y\nonbuild run z").instructions;
  assert.equal(
    nodes.map((n) => n.keyword),
    ["FROM", "RUN", "COPY", "ONBUILD"],
  );
  assert.is(nodes[3]!.next!.keyword, "RUN");
});

test.run();
