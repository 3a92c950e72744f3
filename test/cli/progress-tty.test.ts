// The live terminal view as a user sees it: `build-image build --progress tty` typed into a real
// terminal (tmux), its screen captured while a slow RUN is running and after the build ends.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { storeWithBusybox } from "../helpers/images.js";

const test = suite("cli progress tty");
const WIDTH = 100;
let root = "";
let dispose = async () => {};
let dir = "";
let socket = "";
const sessions: string[] = [];

function tmux(...args: string[]): string {
  return execFileSync("tmux", ["-S", socket, ...args], { encoding: "utf8" });
}

/** The visible screen as text (no escape sequences), trailing blank lines dropped. */
function screen(session: string): string {
  return tmux("capture-pane", "-p", "-t", session).replace(/\n+$/, "\n");
}

/** Everything the pane ever showed, scrollback included, to catch frames drawn instead of redrawn. */
function history(session: string): string {
  return tmux("capture-pane", "-p", "-S", "-", "-t", session).replace(/\n+$/, "\n");
}

const exited = (s: string) => /^exit=\d+$/m.test(s);

async function waitForScreen(session: string, test: (text: string) => boolean, what: string, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = screen(session);
    if (test(text)) return text;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; screen:\n${text}`);
    await sleep(50);
  }
}

/**
 * Opens a terminal of `rows` × WIDTH running a plain shell and types a build of `dockerfile` into it,
 * followed by `echo exit=$?`. Returns the session's name.
 */
async function typeBuild(name: string, dockerfile: string, rows: number): Promise<string> {
  const context = join(dir, name);
  await mkdir(context);
  await writeFile(join(context, "Dockerfile"), dockerfile);
  // One short line to type; the script holds the long command line.
  await writeFile(
    join(context, "build.sh"),
    `cd ${JSON.stringify(process.cwd())} && BUILD_IMAGE_ROOT=${JSON.stringify(root)} exec ${JSON.stringify(process.execPath)} --import tsx src/cli/main.ts build --progress tty -t ${name} ${JSON.stringify(context)}\n`,
  );
  // A private server (its own socket, no config), a fixed prompt, a known screen size.
  tmux("-f", "/dev/null", "new-session", "-d", "-s", name, "-x", String(WIDTH), "-y", String(rows), "env", "-u", "CI", "-u", "TMUX", "PS1=$ ", "TERM=tmux-256color", "sh");
  sessions.push(name);
  tmux("set-option", "-t", name, "history-limit", "5000");
  tmux("send-keys", "-t", name, `sh ${join(context, "build.sh")}; echo "exit=$?"`, "Enter");
  return name;
}

/** Each frame replaced the one before: one header in all the pane ever showed, no escape remnants, no wrapped line. */
function assertCleanHistory(session: string): string {
  const all = history(session);
  assert.is(all.match(/\[\+\] Building/g)?.length, 1, all);
  // (A Dockerfile's own "\033[31m" text, as in a RUN's title, is not a remnant.)
  assert.not.match(all, /\x1b|\^\[|(?<!\\033)\[\d+(;\d+)*[A-HJKSTfmsu]/, "no escape sequence shows as text");
  for (const line of all.split("\n")) assert.ok([...line].length <= WIDTH, `line fits the screen: ${line}`);
  return all;
}

test.before(async () => {
  ({ root, dispose } = await storeWithBusybox("bi-tty-"));
  dir = await mkdtemp(join(tmpdir(), "bi-cli-tty-"));
  socket = join(dir, "tmux.sock");
});

test.after(async () => {
  try {
    // A build still running (a failed assertion) is interrupted as a user would, so it unmounts its step.
    for (const session of sessions) {
      if (exited(screen(session))) continue;
      tmux("send-keys", "-t", session, "C-c");
      await waitForScreen(session, exited, "the interrupted build to exit", 30_000).catch(() => undefined);
    }
    tmux("kill-server");
  } catch {
    // the server may already be gone
  }
  await dispose();
  await rm(dir, { recursive: true, force: true });
});

test("the live view: steps, the running step's output tail, then final timings and the image", async () => {
  const session = await typeBuild("tty-sleep", "FROM busybox:latest\nRUN echo waiting-for-sleep && sleep 2 && echo done-sleeping\n", 30);

  const running = await waitForScreen(session, (s) => s.includes("=> => waiting-for-sleep"), "the running step's output");
  assert.match(running, /^\[\+\] Building \d+\.\ds \(\d\/2\)$/m);
  assert.match(running, /^ => CACHED \[stage-0 1\/2\] FROM busybox:latest +\d+\.\ds$/m);
  assert.match(running, /^ => \[stage-0 2\/2\] RUN echo waiting-for-sleep && sleep 2 && echo done-sleeping +\d+\.\ds$/m);
  assert.match(running, /^ => => waiting-for-sleep$/m);
  assert.not.match(running, /=> => done-sleeping/, "still sleeping");
  assert.not.ok(exited(running));

  const done = await waitForScreen(session, exited, "the build to end");
  assert.match(done, /^exit=0$/m, done);
  assert.match(done, /^\[\+\] Building \d+\.\ds \(2\/2\)$/m);
  const runLine = done.match(/^ => \[stage-0 2\/2\] RUN echo waiting-for-sleep && sleep 2 && echo done-sleeping +(\d+\.\d)s$/m);
  assert.ok(runLine, done);
  assert.ok(Number(runLine[1]) >= 2, `the RUN step's time covers its sleep: ${runLine[1]}s`);
  assert.not.match(done, /^ => => /m, "a finished step's output is folded away");
  assert.match(done, /^ => writing image sha256:[0-9a-f]{64}$/m);
  assert.match(done, /^ => manifest sha256:[0-9a-f]{64}$/m);
  assertCleanHistory(session);
});

test("output with colours, \\r progress, tabs and wide characters, and more steps than the screen has rows", async () => {
  const rows = 14;
  const steps = Array.from({ length: 16 }, (_, i) => `RUN true step-${i + 1}\n`).join("");
  const noisy = String.raw`RUN printf '\033[31mred\033[0m text\n\033[2J\033[Hafter clear\nprogress 10%%\rprogress 99%%\ncol\tumns\n' && printf 'wide %s end\n' "$(printf '日本語%.0s' $(seq 40))" && sleep 2`;
  const session = await typeBuild("tty-noisy", `FROM busybox:latest\n${noisy}\n${steps}`, rows);

  const running = await waitForScreen(session, (s) => s.includes("=> => wide"), "the noisy step's output");
  const tail = running.split("\n").filter((l) => l.startsWith(" => => "));
  assert.equal(tail.slice(0, 4), [" => => red text", " => => after clear", " => => progress 99%", " => => col     umns"]);
  // Clipped to the screen rather than wrapped onto a second row.
  assert.match(tail[4]!, /^ => => wide (日本語)+日?本?…$/);
  const wideRow = running.split("\n").indexOf(tail[4]!);
  assert.not.match(running.split("\n")[wideRow + 1] ?? "", /^[日本語]/);

  const done = await waitForScreen(session, exited, "the build to end");
  assert.match(done, /^exit=0$/m, done);
  // While building, the view never grew past the screen, so no frame was left behind in the scrollback;
  // the last frame lists every step once.
  const all = assertCleanHistory(session);
  for (let i = 1; i <= 16; i++) assert.is(all.match(new RegExp(`\\] RUN true step-${i} +\\d`, "g"))?.length, 1, `step-${i} once:\n${all}`);
});

test.run();
