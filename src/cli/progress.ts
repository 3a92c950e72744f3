/**
 * Renders build events: a live, BuildKit-like view on a terminal (`tty`), plain numbered lines for
 * CI and logs (`plain`), one JSON event a line for programs (`json`), or nothing (`quiet`).
 * `auto` picks `tty` when the stream is a terminal and CI is not set, else `plain`.
 */
import type { BuildEvent } from "../build/index.js";

export type ProgressMode = "auto" | "tty" | "plain" | "json" | "quiet";

export interface ProgressRenderer {
  onEvent(event: BuildEvent): void;
  /** Draws the final state and stops any timer. */
  close(): void;
}

type Stream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number };

export function createProgressRenderer(mode: ProgressMode, out: Stream, env: NodeJS.ProcessEnv): ProgressRenderer {
  const chosen = mode === "auto" ? (out.isTTY && !env.CI ? "tty" : "plain") : mode;
  switch (chosen) {
    case "quiet":
      return { onEvent() {}, close() {} };
    case "json":
      return { onEvent: (e) => out.write(`${JSON.stringify(e)}\n`), close() {} };
    case "plain":
      return plainRenderer(out);
    case "tty":
      return ttyRenderer(out);
  }
}

interface StepView {
  number: number;
  id: string;
  title: string;
  start: number;
  end?: number;
  cached: boolean;
  error?: string;
  lines: string[];
  partial: string;
}

/** Splits streamed output into lines, keeping an unterminated tail for the next chunk. */
function takeLines(step: StepView, text: string): string[] {
  const parts = (step.partial + text).split(/\r?\n/);
  step.partial = parts.pop() ?? "";
  return parts;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

function plainRenderer(out: Stream): ProgressRenderer {
  const steps = new Map<string, StepView>();
  let next = 1;
  return {
    onEvent(e) {
      switch (e.type) {
        case "step-start": {
          const step: StepView = { number: next++, id: e.id, title: `[${e.stage} ${e.index}/${e.total}] ${e.name}`, start: e.time, cached: false, lines: [], partial: "" };
          steps.set(e.id, step);
          out.write(`#${step.number} ${step.title}\n`);
          break;
        }
        case "cache": {
          const step = steps.get(e.id);
          if (step && !e.hit && e.reason) out.write(`#${step.number} cache miss: ${e.reason}\n`);
          break;
        }
        case "log": {
          const step = steps.get(e.id);
          if (!step) break;
          const at = seconds(e.time - step.start);
          for (const line of takeLines(step, e.text)) out.write(`#${step.number} ${at} ${line}\n`);
          break;
        }
        case "step-end": {
          const step = steps.get(e.id);
          if (!step) break;
          if (step.partial) out.write(`#${step.number} ${step.partial}\n`);
          if (e.error) out.write(`#${step.number} ERROR: ${e.error}\n`);
          else out.write(e.cached ? `#${step.number} CACHED\n` : `#${step.number} DONE ${seconds(e.durationMs)}\n`);
          break;
        }
        case "warning":
          out.write(`WARNING: ${e.line ? `Dockerfile:${e.line}: ` : ""}${e.message}\n`);
          break;
        case "build-end":
          if (e.digest) out.write(`writing image ${e.imageId ?? ""} done\nmanifest ${e.digest}\n`);
          break;
        default:
          break;
      }
    },
    close() {},
  };
}

const TAIL_LINES = 6;

// A RUN's output may hold escape sequences, tabs and carriage returns (colours, progress bars). Written
// into the live view they would move the cursor or take more columns than counted, and every redraw
// would then leave rows of the old frame behind. So each line is reduced to what it would finally
// show, as plain text: the part after the last \r, escape sequences and other controls removed, tabs
// expanded.
const ESCAPE = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[ -/]*[0-~])?/g;
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

function printable(line: string): string {
  const shown = line.slice(line.lastIndexOf("\r") + 1).replace(ESCAPE, "").replace(CONTROL, "");
  let column = 0;
  return shown.replace(/[^\t]*\t/g, (run) => {
    const text = run.slice(0, -1);
    column += displayWidth(text);
    const pad = 8 - (column % 8);
    column += pad;
    return text + " ".repeat(pad);
  });
}

// Columns a code point takes in a terminal: 0 for combining marks and joiners, 2 for East Asian wide
// and fullwidth characters and emoji, else 1.
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\u200b-\u200f\ufe00-\ufe0f]$/u;
const EMOJI = /^\p{Extended_Pictographic}$/u;

function charWidth(char: string): number {
  const cp = char.codePointAt(0)!;
  if (ZERO_WIDTH.test(char)) return 0;
  if (cp < 0x1100) return 1;
  const wide =
    cp <= 0x115f || (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) || (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && EMOJI.test(char)) || (cp >= 0x20000 && cp <= 0x3fffd);
  return wide ? 2 : 1;
}

function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) width += charWidth(char);
  return width;
}

/** Cuts `text` to at most `width` columns, ending in … when cut. */
function clipTo(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  let out = "";
  let used = 0;
  for (const char of text) {
    const w = charWidth(char);
    if (used + w > width - 1) break;
    out += char;
    used += w;
  }
  return `${out}…`;
}

function ttyRenderer(out: Stream): ProgressRenderer {
  const steps: StepView[] = [];
  const byId = new Map<string, StepView>();
  const warnings: string[] = [];
  let started = Date.now();
  let drawnLines = 0;
  let final: string[] | undefined;
  const timer = setInterval(() => draw(), 100);
  timer.unref();

  /**
   * Redraws the view over the last one. A live frame must fit the screen: rows that scrolled off the
   * top cannot be moved back to, so each redraw would leave a copy behind; the oldest finished steps
   * are left out until it fits. The last frame is drawn whole, as it is never redrawn.
   */
  function draw(last = false): void {
    const width = Math.max(40, out.columns ?? 100);
    const maxLines = last || !out.rows ? Infinity : Math.max(2, out.rows - 1);
    const now = Date.now();
    // Lines stay one column short of the width, so none makes the terminal wrap; the last frame may
    // wrap its warnings rather than hide their ends.
    const clip = (s: string) => clipTo(printable(s), width - 1);
    const fold = last ? printable : clip;
    const header = `[+] Building ${seconds(now - started)} (${steps.filter((s) => s.end).length}/${steps.length})`;
    const blocks = steps.map((step) => {
      // The status goes first, as in BuildKit, so clipping a long title never hides it.
      const status = step.error ? "ERROR " : step.cached ? "CACHED " : "";
      const time = seconds((step.end ?? now) - step.start).padStart(7);
      // The title gives way to the time, never the reverse.
      const title = clipTo(` => ${status}${printable(step.title)}`, width - 9);
      const block = [`${title}${" ".repeat(width - 8 - displayWidth(title))}${time}`];
      if (!step.end || step.error) for (const l of step.lines.slice(-TAIL_LINES)) block.push(clipTo(` => => ${printable(l)}`, width - 1));
      return { done: step.end !== undefined && !step.error, lines: block };
    });
    const footer = [...warnings.map((w) => fold(`WARNING: ${w}`)), ...(last && final ? final : [])];
    let count = 1 + blocks.reduce((n, b) => n + b.lines.length, 0) + footer.length;
    for (const block of blocks) {
      if (count <= maxLines) break;
      if (!block.done) continue;
      count -= block.lines.length;
      block.lines = [];
    }
    const lines = [header, ...[...blocks.flatMap((b) => b.lines), ...footer].slice(1 - maxLines)];
    // Move up over what we drew last time, overwrite it line by line (each line's old tail erased),
    // then erase what is left below. Erasing the whole frame at once from the top of the screen makes
    // tmux (scroll-on-clear) push every frame into its history.
    const up = drawnLines ? `\x1b[${drawnLines}F` : "";
    out.write(`${up}${lines.map((l) => `${l}\x1b[K\n`).join("")}\x1b[0J`);
    drawnLines = lines.length;
  }

  return {
    onEvent(e) {
      switch (e.type) {
        case "build-start":
          started = e.time;
          break;
        case "step-start": {
          const step: StepView = { number: steps.length + 1, id: e.id, title: `[${e.stage} ${e.index}/${e.total}] ${e.name}`, start: e.time, cached: false, lines: [], partial: "" };
          steps.push(step);
          byId.set(e.id, step);
          break;
        }
        case "log": {
          const step = byId.get(e.id);
          if (step) step.lines.push(...takeLines(step, e.text));
          break;
        }
        case "step-end": {
          const step = byId.get(e.id);
          if (!step) break;
          step.end = e.time;
          step.cached = e.cached;
          if (step.partial) step.lines.push(step.partial);
          if (e.error) step.error = e.error;
          break;
        }
        case "warning":
          warnings.push(`${e.line ? `Dockerfile:${e.line}: ` : ""}${e.message}`);
          break;
        case "build-end":
          if (e.digest) final = [` => writing image ${e.imageId ?? ""}`, ` => manifest ${e.digest}`];
          break;
        default:
          break;
      }
    },
    close() {
      clearInterval(timer);
      draw(true);
    },
  };
}
