import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseDockerfile } from "../../src/parser/index.js";
import { dump } from "./dump.js";

const only = (text: string) => parseDockerfile(text).instructions[0]!;

test("flags are taken off the front, up to the first word without -- (BuildKit testfiles/flags)", () => {
  const text =
    'FROM scratch\nCOPY foo /tmp/\nCOPY --user=me foo /tmp/\nCOPY --doit=true foo /tmp/\nCOPY --user=me --doit=true foo /tmp/\nCOPY --doit=true -- foo /tmp/\nCOPY -- foo /tmp/\nCMD --doit [ "a", "b" ]\nCMD --doit=true -- [ "a", "b" ]\nCMD --doit -- [ ]\n';
  assert.is(
    dump(text),
    [
      '(from "scratch")',
      '(copy "foo" "/tmp/")',
      '(copy ["--user=me"] "foo" "/tmp/")',
      '(copy ["--doit=true"] "foo" "/tmp/")',
      '(copy ["--user=me" "--doit=true"] "foo" "/tmp/")',
      '(copy ["--doit=true"] "foo" "/tmp/")',
      '(copy "foo" "/tmp/")',
      '(cmd ["--doit"] "a" "b")',
      '(cmd ["--doit=true"] "a" "b")',
      '(cmd ["--doit"])',
    ].join("\n"),
  );
});

test("valueless flags do not swallow the next word", () => {
  assert.is(dump("COPY --link --parents src/ dst/"), '(copy ["--link" "--parents"] "src/" "dst/")');
});

test("repeated flags are all kept, in order", () => {
  assert.equal(only("RUN --mount=type=cache,target=/a --mount=type=secret,id=npm --network=none make").flags, [
    "--mount=type=cache,target=/a",
    "--mount=type=secret,id=npm",
    "--network=none",
  ]);
});

test("a single dash is not a flag; flags stop at the first argument", () => {
  assert.is(dump("RUN -x --y"), '(run "-x --y")');
  assert.is(dump("COPY a --chown=1 b"), '(copy "a" "--chown=1" "b")');
});

test("quotes in flags are removed and backslash escapes the next character", () => {
  assert.equal(only('COPY --chown="app user" --chmod=\'755\' a b').flags, ["--chown=app user", "--chmod=755"]);
  assert.equal(only("COPY --exclude=a\\ b x y").flags, ["--exclude=a b"]);
  assert.equal(only('COPY --x="" a b').flags, ["--x="]);
});

test("flags on a continuation line, and flags only", () => {
  const node = only("RUN \\\n  --mount=type=bind,target=/src \\\n  --network=host \\\n  make");
  assert.equal(node.flags, ["--mount=type=bind,target=/src", "--network=host"]);
  assert.equal(node.args, ["make"]);
  assert.equal(only("COPY --from=x").args, []);
  assert.equal(only("COPY --from=x").flags, ["--from=x"]);
});

test("flags on every instruction are just collected (meaning is the instructions layer's job)", () => {
  assert.is(dump("WORKDIR --foo /x\nENV --bar A=b\nONBUILD --baz RUN x"), '(workdir ["--foo"] "/x")\n(env ["--bar"] "A" "b")\n(onbuild ["--baz"] (run "x"))');
});

test("positions of flags", () => {
  const node = only("RUN --a=1 \\\n    --b make");
  assert.equal(node.flagPositions, [
    { line: 1, column: 5 },
    { line: 2, column: 5 },
  ]);
  assert.equal(node.argsPosition, { line: 2, column: 9 });
});

test.run();
