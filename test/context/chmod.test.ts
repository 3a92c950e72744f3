// --chmod: octal sets the mode; symbolic clauses change each entry's own mode, as chmod(1) does.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { applyChmod, parseChmod } from "../../src/context/index.js";

const apply = (spec: string, mode: number, isDir = false) => applyChmod(parseChmod(spec)!, mode, isDir);

test("octal gives every entry that mode", () => {
  assert.is(apply("755", 0o600), 0o755);
  assert.is(apply("0640", 0o777, true), 0o640);
});

test("symbolic: + - = per class, several clauses, no class meaning all", () => {
  assert.is(apply("u+x", 0o644), 0o744);
  assert.is(apply("g-w", 0o664), 0o644);
  assert.is(apply("u=rwx,go=rx", 0o600), 0o755);
  assert.is(apply("+x", 0o644), 0o755);
  assert.is(apply("a-w", 0o775), 0o555);
  assert.is(apply("o=", 0o777), 0o770);
  assert.is(apply("g=u", 0o640), 0o660);
  assert.is(apply("u+x-w", 0o644), 0o544);
});

test("X adds execute to directories and already-executable files only; s and t", () => {
  assert.is(apply("a=rX", 0o700, true), 0o555);
  assert.is(apply("a=rX", 0o600), 0o444);
  assert.is(apply("a=rX", 0o700), 0o555);
  assert.is(apply("u+s", 0o755), 0o4755);
  assert.is(apply("g+s", 0o755), 0o2755);
  assert.is(apply("o+t", 0o777, true), 0o1777);
  assert.is(apply("u=rw", 0o4755), 0o0655, "= clears the class's special bit too");
});

test("a value that is neither is undefined", () => {
  for (const bad of ["u+q", "8", "u+x,", "rwx", ""]) assert.is(parseChmod(bad), undefined, bad);
});

test.run();
