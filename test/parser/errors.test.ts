import { test } from "uvu";
import * as assert from "uvu/assert";
import { PassThrough } from "node:stream";
import { BuildImageError, isBuildImageError } from "../../src/errors.js";
import { renderError } from "../../src/cli/render-error.js";
import { DockerfileError, parseDockerfile } from "../../src/parser/index.js";

function thrown(text: string): unknown {
  try {
    parseDockerfile(text);
  } catch (err) {
    return err;
  }
  throw new Error("expected a parse error");
}

test("DockerfileError is a BuildImageError with code, location and hint", () => {
  const err = new DockerfileError("DOCKERFILE_SYNTAX", "bad", { line: 3, column: 7, lineText: "RUN x", hint: "fix it" });
  assert.ok(err instanceof BuildImageError);
  assert.ok(isBuildImageError(err));
  assert.is(err.name, "DockerfileError");
  assert.is(err.hint, "fix it");
  assert.equal(err.location, { file: "Dockerfile", line: 3, column: 7, lineText: "RUN x" });
  assert.equal(new DockerfileError("X", "y", { line: 1, column: 1, file: "ci/Dockerfile", endLine: 2 }).location, { file: "ci/Dockerfile", line: 1, column: 1, endLine: 2 });
});

test("every parser error is a DockerfileError with a hint", () => {
  for (const text of ["", "# escape=x\nFROM a", "ENV A", "LABEL a", "CMD [1]", "RUN <<EOF\n"]) {
    const err = thrown(text);
    assert.ok(err instanceof DockerfileError, text);
    assert.ok((err as DockerfileError).hint, text);
  }
});

test("the CLI renders a parser error with the line and a caret under the column", () => {
  const out = new PassThrough();
  let text = "";
  out.on("data", (chunk: Buffer) => (text += chunk.toString()));
  renderError(thrown("FROM a\nENV A=1 B"), out);
  assert.is(
    text,
    [
      `error: Dockerfile:2:9: Syntax error - can't find = in "B". Must be of the form: name=value [DOCKERFILE_SYNTAX]`,
      " 2 | ENV A=1 B",
      "             ^",
      'hint: Give "B" a value: B=value (quote values that contain spaces).',
      "",
    ].join("\n"),
  );
});

test.run();
