import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseDockerfile, type Heredoc } from "../../src/parser/index.js";
import { errorOf } from "./dump.js";

/** Heredocs without the positions, to compare with BuildKit's expectations. */
const docs = (text: string): Array<Array<Omit<Heredoc, "line" | "column">>> =>
  parseDockerfile(text).instructions.map((n) => n.heredocs.map(({ name, content, expand, chomp, fd }) => ({ name, content, expand, chomp, fd })));

const doc = (name: string, content: string, extra: Partial<Heredoc> = {}) => ({ name, content, expand: true, chomp: false, fd: 0, ...extra });

test("BuildKit's TestParseExtractsHeredoc, case by case", () => {
  const text = `FROM alpine:3.6
ENV NAME=me
RUN ls
USER <<INVALID
INVALID
RUN <<EMPTY
EMPTY
RUN 3<<EMPTY2
EMPTY2
RUN "<<NOHEREDOC"
RUN <<INDENT
\tfoo
\tbar
INDENT
RUN <<-UNINDENT
\tbaz
\tquux
UNINDENT
RUN <<-UNINDENT2
\tbaz
\tquux
\tUNINDENT2
RUN <<-EXPAND
\texpand $NAME
EXPAND
RUN <<-'NOEXPAND'
\tdon't expand $NAME
NOEXPAND
RUN <<COPY
echo hello world
echo foo bar
COPY
RUN <<COMMENT
# internal comment
echo hello world
echo foo bar # trailing comment
COMMENT
RUN --mount=type=cache,target=/foo <<MOUNT
echo hello
MOUNT
COPY <<FILE1 <<FILE2 /dest
content 1
FILE1
content 2
FILE2
COPY <<EOF /quotes
"foo"
'bar'
EOF
COPY <<X <<Y /dest
Y
X
X
Y
RUN <<COMPLEX python3
print('hello world')
COMPLEX
COPY <<file.txt /dest
hello world
file.txt
RUN <<eo'f'
echo foo
eof
RUN <<eo\\'f
echo foo
eo'f
RUN <<'e'o\\'f
echo foo
eo'f
RUN <<'one two'
echo bar
one two
RUN <<$EOF
$EOF
RUN <<  EOF
EOF
RUN <<  EOF  > foo
EOF
`;
  const got = docs(text);
  const instructions = parseDockerfile(text).instructions;
  // USER does not take heredocs: "INVALID" is an (unknown) instruction of its own.
  assert.equal(instructions.map((n) => n.keyword).slice(0, 5), ["FROM", "ENV", "RUN", "USER", "INVALID"]);
  assert.equal(got.slice(0, 5), [[], [], [], [], []]);
  assert.equal(got.slice(5), [
    [doc("EMPTY", "")],
    [doc("EMPTY2", "", { fd: 3 })],
    [],
    [doc("INDENT", "\tfoo\n\tbar\n")],
    [doc("UNINDENT", "baz\nquux\n", { chomp: true })],
    [doc("UNINDENT2", "baz\nquux\n", { chomp: true })],
    [doc("EXPAND", "expand $NAME\n", { chomp: true })],
    [doc("NOEXPAND", "don't expand $NAME\n", { chomp: true, expand: false })],
    [doc("COPY", "echo hello world\necho foo bar\n")],
    [doc("COMMENT", "# internal comment\necho hello world\necho foo bar # trailing comment\n")],
    [doc("MOUNT", "echo hello\n")],
    [doc("FILE1", "content 1\n"), doc("FILE2", "content 2\n")],
    [doc("EOF", "\"foo\"\n'bar'\n")],
    [doc("X", "Y\n"), doc("Y", "X\n")],
    [doc("COMPLEX", "print('hello world')\n")],
    [doc("file.txt", "hello world\n")],
    [doc("eof", "echo foo\n", { expand: false })],
    [doc("eo'f", "echo foo\n")],
    [doc("eo'f", "echo foo\n", { expand: false })],
    [doc("one two", "echo bar\n", { expand: false })],
    [doc("$EOF", "")],
    [doc("EOF", "")],
    [doc("EOF", "")],
  ]);
});

test("heredoc as the command (RUN <<EOF) vs as a file fed to a command", () => {
  const [asCommand, asFile] = parseDockerfile("RUN <<EOF\napk add curl\nEOF\nRUN python3 <<EOF\nprint(1)\nEOF\n").instructions;
  assert.equal(asCommand!.args, ["<<EOF"]);
  assert.equal(asFile!.args, ["python3 <<EOF"]);
  assert.is(asCommand!.heredocs[0]!.content, "apk add curl\n");
  assert.is(asFile!.heredocs[0]!.content, "print(1)\n");
});

test("heredocs as COPY/ADD sources keep the <<NAME word in the argument list", () => {
  const node = parseDockerfile('ADD <<EOF /etc/motd\nhello "$USER"\nEOF').instructions[0]!;
  assert.equal(node.args, ["<<EOF", "/etc/motd"]);
  assert.equal(
    node.heredocs.map((h) => [h.name, h.content, h.expand]),
    [["EOF", 'hello "$USER"\n', true]],
  );
});

test("double-quoted terminator: no expansion", () => {
  assert.equal(docs('RUN <<"EOF"\n$HOME\nEOF'), [[doc("EOF", "$HOME\n", { expand: false })]]);
});

test("exec form and quoted words never start heredocs (BuildKit TestParseJSONHeredoc)", () => {
  const text = "FROM alpine:3.6\nRUN [\"whoami\"]\nRUN [\"<<EOF\"]\nRUN [\"<<'EOF'\"]\nRUN '<<EOF'\nRUN cat<<EOF\nRUN echo <<<EOF\n";
  assert.equal(docs(text), [[], [], [], [], [], [], []]);
  assert.is(parseDockerfile(text).instructions.length, 7);
});

test("<< followed by blanks; << -EOF; but <<- EOF is no heredoc (lex.go only swallows blanks right after <<)", () => {
  const text = "RUN <<- EOF\nEOF\nRUN << -EOF\n-EOF\nRUN 4<<EOF <<EOF2\nEOF\nEOF2";
  assert.equal(
    parseDockerfile(text).instructions.map((n) => n.keyword),
    ["RUN", "EOF", "RUN", "RUN"],
  );
  assert.equal(docs(text), [[], [], [doc("-EOF", "")], [doc("EOF", "", { fd: 4 }), doc("EOF2", "")]]);
});

test("heredocs on ONBUILD's inner RUN/COPY/ADD, and on instructions continued over lines", () => {
  const [onbuild, continued] = parseDockerfile("ONBUILD RUN <<EOF\necho hi\nEOF\nRUN --network=none \\\n  <<EOF sh\nexit 0\nEOF\n").instructions;
  assert.equal(
    onbuild!.heredocs.map((h) => h.content),
    ["echo hi\n"],
  );
  assert.is(onbuild!.next!.heredocs, onbuild!.heredocs);
  assert.equal(
    continued!.heredocs.map((h) => [h.name, h.line, h.column]),
    [["EOF", 5, 3]],
  );
  assert.is(continued!.endLine, 7);
});

test("the terminator must be the whole line: trailing blanks do not end it, CRLF does", () => {
  assert.equal(docs("RUN <<EOF\nEOF \nEOF"), [[doc("EOF", "EOF \n")]]);
  assert.equal(docs("RUN <<EOF\r\nline\r\nEOF\r\nRUN x"), [[doc("EOF", "line\r\n")], []]);
});

test("heredoc bodies are not comments, continuations or directives", () => {
  const result = parseDockerfile("RUN <<EOF\n# escape=`\nfoo \\\nEOF\nRUN next");
  assert.is(result.instructions[0]!.heredocs[0]!.content, "# escape=`\nfoo \\\n");
  assert.is(result.instructions.length, 2);
  assert.is(result.directives.escape, "\\");
});

test("a heredoc that never ends is an error at its <<word", () => {
  assert.equal(errorOf("FROM a\nRUN echo x && cat <<END\nline\n"), {
    code: "DOCKERFILE_UNTERMINATED_HEREDOC",
    message: "unterminated heredoc END",
    line: 2,
    column: 19,
    lineText: "RUN echo x && cat <<END",
  });
  assert.is((errorOf("COPY <<A <<B /x\na\nA\nb\n") as { message: string }).message, "unterminated heredoc B");
  assert.is((errorOf("RUN <<-EOF\n\tbody\n  EOF\n") as { code: string }).code, "DOCKERFILE_UNTERMINATED_HEREDOC");
});

test("a line the shell lexer rejects has no heredocs (as BuildKit ignores its lexing error)", () => {
  assert.equal(docs("RUN echo 'unterminated <<EOF\nRUN echo ${} <<EOF\n"), [[], []]);
});

test("a heredoc word that lexes on the line but not on its own is an error, as in BuildKit", () => {
  // The line lexer splits `${A:-'x y'}` at the blank, leaving the word `<<${A:-'x` with an open quote.
  const e = errorOf("RUN cat <<${A:-'x y'}\nx\n");
  assert.equal(typeof e === "object" && [e.code, e.line, e.column], ["DOCKERFILE_SYNTAX", 1, 9]);
});

test.run();
