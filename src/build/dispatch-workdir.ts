/** WORKDIR: sets the working directory and creates it when missing (a layer only when it was missing). */
import { ensureDirInRoot } from "../context/index.js";
import { commitOptions } from "./dispatch-run.js";
import { containerConfig, type StageState } from "./stage-state.js";
import { cachedLayerStep, commitResult, type BuildServices, type Step, type StepOutcome } from "./step.js";

export async function dispatchWorkdir(services: BuildServices, state: StageState, step: Step, path: string): Promise<StepOutcome> {
  containerConfig(state).WorkingDir = path;
  return cachedLayerStep(services, state, step, { kind: "workdir", fields: { path } }, async () => {
    const active = await services.store.snapshots.prepare(state.chainId);
    try {
      await ensureDirInRoot(active.root, path);
    } catch (err) {
      await active.abort();
      throw err;
    }
    return commitResult(await active.commit(commitOptions(services)));
  });
}
