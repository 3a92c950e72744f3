import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseDockerfile } from "../../src/parser/index.js";

const spans = (text: string) => parseDockerfile(text).instructions.map((n) => [n.keyword, n.startLine, n.startColumn, n.endLine]);

test("start line, keyword column and end line of every instruction (BuildKit testfile-line style)", () => {
  const text = [
    "# ignore this comment", // 1
    "", // 2
    "", // 3
    "   FROM busybox", // 4
    "", // 5
    "RUN echo hello \\", // 6
    "  # comment inside", // 7
    "  world", // 8
    "", // 9
    "\tCOPY <<EOF /x", // 10
    "body", // 11
    "EOF", // 12
    "CMD [\"a\", \\", // 13
    "  \"b\"]", // 14
  ].join("\n");
  assert.equal(spans(text), [
    ["FROM", 4, 4, 4],
    ["RUN", 6, 1, 8],
    ["COPY", 10, 2, 12],
    ["CMD", 13, 1, 14],
  ]);
});

test("a continuation into trailing comment lines at EOF ends on the last line read", () => {
  assert.equal(spans("RUN a \\\n# c1\n# c2"), [["RUN", 1, 1, 3]]);
});

test("original is the text as written, continuation and comment lines included, heredoc bodies not", () => {
  const [run, copy] = parseDockerfile("  RUN a \\\n  # note\n  b\nCOPY <<EOF /x\nbody\nEOF\n").instructions;
  assert.is(run!.original, "RUN a \\\n  # note\n  b");
  assert.is(copy!.original, "COPY <<EOF /x");
});

test("ONBUILD's inner node points at its own keyword", () => {
  const node = parseDockerfile("ONBUILD \\\n  RUN echo hi").instructions[0]!;
  assert.equal([node.startLine, node.startColumn, node.endLine], [1, 1, 2]);
  assert.equal([node.next!.startLine, node.next!.startColumn, node.next!.endLine], [2, 3, 2]);
  assert.is(node.next!.original, "RUN echo hi");
});

test("argument positions, across continuation lines", () => {
  const [from, env] = parseDockerfile("FROM  alpine\nENV \\\n   A=1").instructions;
  assert.equal(from!.argsPosition, { line: 1, column: 7 });
  assert.equal(env!.argsPosition, { line: 3, column: 4 });
  assert.is(parseDockerfile("RUN").instructions[0]!.argsPosition, undefined);
});

test("a byte-order mark does not count as a column", () => {
  assert.equal(spans("\uFEFFFROM a\n RUN b"), [
    ["FROM", 1, 1, 1],
    ["RUN", 2, 2, 2],
  ]);
});

test("error positions point into continuation lines, with the offending line's text", () => {
  let caught: unknown;
  try {
    parseDockerfile("FROM a\nLABEL a=1 \\\n  b=2 \\\n  oops");
  } catch (err) {
    caught = err;
  }
  const e = caught as { name: string; code: string; location: unknown; hint: string };
  assert.is(e.name, "DockerfileError");
  assert.is(e.code, "DOCKERFILE_SYNTAX");
  assert.equal(e.location, { file: "Dockerfile", line: 4, column: 3, lineText: "  oops" });
  assert.match(e.hint, /oops=value/);
});

test.run();
