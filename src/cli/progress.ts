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

type Stream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

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

function ttyRenderer(out: Stream): ProgressRenderer {
  const steps: StepView[] = [];
  const byId = new Map<string, StepView>();
  const warnings: string[] = [];
  let started = Date.now();
  let drawnLines = 0;
  let final: string | undefined;
  const timer = setInterval(() => draw(), 100);
  timer.unref();

  function draw(): void {
    const width = Math.max(40, out.columns ?? 100);
    const now = Date.now();
    const clip = (s: string) => (s.length > width - 1 ? `${s.slice(0, width - 2)}…` : s);
    const lines = [`[+] Building ${seconds(now - started)} (${steps.filter((s) => s.end).length}/${steps.length})`];
    for (const step of steps) {
      const status = step.error ? " ERROR" : step.cached ? " CACHED" : "";
      const time = seconds((step.end ?? now) - step.start);
      lines.push(clip(` => ${step.title}${status}`.padEnd(width - 8) + time.padStart(7)));
      if (!step.end || step.error) for (const l of step.lines.slice(-TAIL_LINES)) lines.push(clip(` => => ${l}`));
    }
    for (const w of warnings) lines.push(clip(`WARNING: ${w}`));
    if (final) lines.push(final);
    // Move up over what we drew last time and clear to the end of the screen.
    out.write(`${drawnLines ? `\x1b[${drawnLines}F` : ""}\x1b[0J${lines.join("\n")}\n`);
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
          if (e.digest) final = ` => writing image ${e.imageId ?? ""}\n => manifest ${e.digest}`;
          break;
        default:
          break;
      }
    },
    close() {
      clearInterval(timer);
      draw();
    },
  };
}
