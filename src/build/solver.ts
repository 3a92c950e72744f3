/**
 * The solver: runs the stages a BuildPlan needs, independent stages in parallel (at most `jobs` at once),
 * each stage waiting only for the stages it uses; then each stage's steps in order. The first failure
 * aborts every other running step, and nothing is left mounted or running.
 */
import { envForStep, expandInstruction, parseOnbuildTriggers, type BuildPlan, type Instruction, type ResolvedArg, type Stage } from "../instructions/index.js";
import { localImageState } from "./base.js";
import { applyMeta, historyText, isMetaInstruction, nextWorkdir } from "./dispatch-meta.js";
import { dispatchCopy } from "./dispatch-copy.js";
import { dispatchRun, runArgv, runEnv } from "./dispatch-run.js";
import { dispatchWorkdir } from "./dispatch-workdir.js";
import { BuildError, throwIfAborted } from "./errors.js";
import { cacheKey } from "../cache/index.js";
import { scratchState } from "./base.js";
import { addHistory, cloneState, envRecord, type StageState } from "./stage-state.js";
import type { BuildServices, Step, StepOutcome } from "./step.js";

export type SolverServices = Omit<BuildServices, "stageResult" | "imageChain">;

/** Limits how many stages run their steps at once. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(count: number) {
    this.free = count;
  }
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

export interface SolveResult {
  state: StageState;
  steps: { id: string; cached: boolean }[];
  /** The cache keys of every layer step this build ran or reused, any stage (for --cache-to). */
  keys: string[];
}

/**
 * Runs the plan's stages. `abort` is called with the first failure, so the steps still running in other
 * stages (which watch the same signal) stop instead of finishing work nobody will use.
 */
export async function solve(plan: BuildPlan, base: SolverServices, slug: string, abort: (reason: unknown) => void): Promise<SolveResult> {
  const slots = new Slots(base.options.jobs);
  const results = new Map<number, Promise<StageState>>();
  const images = new Map<string, Promise<{ chainId: string | null; state: StageState }>>();
  const steps: { id: string; cached: boolean }[] = [];
  const keys: string[] = [];
  let firstFailure: { error: unknown } | undefined;
  const services: BuildServices = {
    ...base,
    stageResult(index) {
      const result = results.get(index);
      if (!result) throw new BuildError("BUILD_INTERNAL", `stage ${index} is not part of this build`);
      return result;
    },
    imageChain: (ref) => imageState(ref).then((s) => ({ chainId: s.chainId })),
  };

  function imageState(ref: string): Promise<{ chainId: string | null; state: StageState }> {
    let found = images.get(ref);
    if (!found) {
      found = (async () => {
        let image = base.options.pull ? undefined : await localImageState(base.store, ref, ref, plan.platform, base.options.signal);
        if (!image) {
          await base.pull(ref).catch((err: unknown) => {
            throw baseNotFound(ref, err);
          });
          image = await localImageState(base.store, ref, ref, plan.platform, base.options.signal);
        }
        if (!image) throw baseNotFound(ref);
        return { chainId: image.state.chainId, state: image.state };
      })();
      images.set(ref, found);
    }
    return found;
  }

  const total = (stage: Stage) => stage.instructions.length + 1;
  const label = (stage: Stage) => stage.name ?? `stage-${stage.index}`;

  async function runStage(stage: Stage): Promise<StageState> {
    await Promise.all(stage.dependsOn.map((i) => services.stageResult(i)));
    await slots.acquire();
    try {
      throwIfAborted(base.options.signal);
      const fromId = `${stage.index}/1`;
      base.emit({ type: "step-start", id: fromId, stage: label(stage), name: fromText(plan, stage), index: 1, total: total(stage) });
      const started = Date.now();
      let state: StageState;
      let triggers: string[] = [];
      try {
        if (stage.base.kind === "scratch") state = scratchState(label(stage), stage.platform);
        else if (stage.base.kind === "stage") state = cloneState(await services.stageResult(stage.base.index), label(stage));
        else {
          const image = await imageState(stage.base.ref).catch((err: unknown) => {
            if (!(err instanceof BuildError && err.code === "BUILD_BASE_NOT_FOUND")) throw err;
            throw new BuildError(err.code, err.message, { location: stage.location, ...(err.hint ? { hint: err.hint } : {}), ...(err.cause !== undefined ? { cause: err.cause } : {}) });
          });
          state = cloneState(image.state, label(stage));
          triggers = state.config.config?.OnBuild ?? [];
          // The triggers run now, in this build; the new image does not carry them on (as Docker).
          if (state.config.config) delete state.config.config.OnBuild;
        }
        base.emit({ type: "step-end", id: fromId, durationMs: Date.now() - started, cached: true });
      } catch (err) {
        base.emit({ type: "step-end", id: fromId, durationMs: Date.now() - started, cached: false, error: (err as Error).message });
        throw err;
      }
      const instructions = [...onbuildInstructions(plan, stage, triggers), ...stage.instructions];
      for (const [i, raw] of instructions.entries()) {
        throwIfAborted(base.options.signal);
        const id = `${stage.index}/${i + 2}`;
        const step: Step = { id, instruction: raw, slot: `${slug}|${label(stage)}|${i + 2}` };
        base.emit({ type: "step-start", id, stage: label(stage), name: historyText(raw), index: i + 2, total: instructions.length + 1 });
        const stepStarted = Date.now();
        try {
          const outcome = await dispatch(services, state, step, raw);
          steps.push({ id, cached: outcome.cached });
          if (outcome.key) keys.push(outcome.key);
          base.emit({ type: "step-end", id, durationMs: Date.now() - stepStarted, cached: outcome.cached });
        } catch (err) {
          base.emit({ type: "step-end", id, durationMs: Date.now() - stepStarted, cached: false, error: (err as Error).message.split("\n")[0]! });
          throw err;
        }
      }
      return state;
    } finally {
      slots.release();
    }
  }

  for (const index of plan.order) {
    const stage = plan.byIndex.get(index)!;
    const promise = runStage(stage);
    promise.catch((err: unknown) => {
      firstFailure ??= { error: err };
      abort(err);
    });
    results.set(index, promise);
  }
  try {
    const state = await results.get(plan.target)!;
    return { state, steps, keys };
  } catch (err) {
    // The stage that failed first says what went wrong; the others only stopped because of it.
    throw firstFailure ? firstFailure.error : err;
  } finally {
    // Let every other stage finish or fail (they stop at the abort) before the caller cleans up.
    await Promise.allSettled(results.values());
  }
}

/** FROM as resolved: the image reference after ARG expansion, or the stage it builds on. */
function fromText(plan: BuildPlan, stage: Stage): string {
  const base = stage.base.kind === "image" ? stage.base.ref : stage.base.kind === "scratch" ? "scratch" : (plan.byIndex.get(stage.base.index)?.name ?? String(stage.base.index));
  return `FROM ${base}${stage.name ? ` AS ${stage.name}` : ""}`;
}

function baseNotFound(ref: string, cause?: unknown): BuildError {
  const why = cause instanceof Error ? `, and pulling it failed: ${cause.message}` : "";
  return new BuildError("BUILD_BASE_NOT_FOUND", `base image '${ref}' is not in the local store${why}`, {
    hint: `check the name and the registry, or make it locally: 'build-image load -i FILE' or 'build-image import ROOTFS ${ref}'`,
    ...(cause !== undefined ? { cause } : {}),
  });
}

/** ONBUILD triggers of the base image, run first, with the ARGs in scope at the stage's start. */
function onbuildInstructions(plan: BuildPlan, stage: Stage, triggers: string[]): Instruction[] {
  if (triggers.length === 0) return [];
  const args: ResolvedArg[] = stage.instructions[0]?.argsInScope ?? [];
  return parseOnbuildTriggers(plan, stage.index, triggers).map((instr) => ({ ...instr, argsInScope: args }));
}

async function dispatch(services: BuildServices, state: StageState, step: Step, raw: Instruction): Promise<StepOutcome> {
  const instr = expandInstruction(raw, envForStep(envRecord(state.config), raw));
  const created = services.created;
  switch (instr.kind) {
    case "run": {
      const outcome = await dispatchRun(services, state, step, instr);
      const { args } = runEnv(state, instr);
      const argList = Object.entries(args).map(([k, v]) => `${k}=${v}`);
      const prefix = argList.length ? `|${argList.length} ${argList.join(" ")} ` : "";
      addHistory(state, { created, created_by: `RUN ${prefix}${runArgv(state, instr).argv.join(" ")} # buildkit`, comment: "buildkit.dockerfile.v0", ...(outcome.empty ? { empty_layer: true } : {}) });
      return outcome;
    }
    case "copy":
    case "add": {
      const outcome = await dispatchCopy(services, state, step, instr);
      addHistory(state, { created, created_by: `${historyText(instr)} # buildkit`, comment: "buildkit.dockerfile.v0", ...(outcome.empty ? { empty_layer: true } : {}) });
      return outcome;
    }
    case "workdir": {
      const path = nextWorkdir(state, instr.path);
      const outcome = await dispatchWorkdir(services, state, step, path);
      addHistory(state, { created, created_by: `WORKDIR ${path}`, comment: "buildkit.dockerfile.v0", ...(outcome.empty ? { empty_layer: true } : {}) });
      return outcome;
    }
    case "from":
      throw new BuildError("BUILD_INTERNAL", "FROM inside a stage's instructions");
    default: {
      if (!isMetaInstruction(instr)) throw new BuildError("BUILD_INTERNAL", "no dispatcher for this instruction");
      applyMeta(state, instr);
      state.cacheKey = cacheKey(state.cacheKey, { kind: "meta", fields: { instruction: historyText(instr), value: JSON.stringify(state.config.config ?? {}) } });
      addHistory(state, { created, created_by: historyText(instr), comment: "buildkit.dockerfile.v0", empty_layer: true });
      return { cached: false, empty: true };
    }
  }
}
