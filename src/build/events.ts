/**
 * The typed progress events a build emits through `onEvent`. The CLI renders them (a live view on a
 * terminal, plain lines in CI, one JSON object a line with `--progress json`); programs consume them.
 * Every event carries `time` (ms since the epoch). Step ids are `"<stage>/<step>"`, stable within a build.
 */
export type BuildEvent =
  | { type: "build-start"; time: number; stages: number; steps: number }
  | { type: "step-start"; time: number; id: string; stage: string; name: string; index: number; total: number }
  | { type: "cache"; time: number; id: string; hit: boolean; reason: string }
  | { type: "log"; time: number; id: string; stream: "stdout" | "stderr"; text: string }
  | { type: "step-end"; time: number; id: string; durationMs: number; cached: boolean; error?: string }
  | { type: "warning"; time: number; message: string; code: string; line?: number }
  | { type: "bytes"; time: number; id: string; label: string; current: number; total?: number }
  | { type: "build-end"; time: number; durationMs: number; digest?: string; imageId?: string; error?: string };

export type EventSink = (event: BuildEvent) => void;

/** A build event before its time is stamped on. */
export type UntimedEvent = BuildEvent extends infer E ? (E extends BuildEvent ? Omit<E, "time"> : never) : never;

/** Stamps the time on once, so call sites stay short; a throwing listener cannot break the build. */
export function emitter(onEvent: EventSink | undefined): (event: UntimedEvent) => void {
  return (event) => {
    try {
      onEvent?.({ ...event, time: Date.now() } as BuildEvent);
    } catch {
      // A listener's bug is not the build's failure.
    }
  };
}
