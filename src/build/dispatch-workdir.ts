/** WORKDIR: sets the working directory and creates it when missing (a layer only when it was missing). */
import { ensureDirInRoot } from "../context/index.js";
import { runInSnapshot } from "../layers/index.js";
import { commitOptions } from "./dispatch-run.js";
import { containerConfig, type StageState } from "./stage-state.js";
import { cachedLayerStep, commitResult, type BuildServices, type Step, type StepOutcome } from "./step.js";

export async function dispatchWorkdir(services: BuildServices, state: StageState, step: Step, path: string): Promise<StepOutcome> {
  containerConfig(state).WorkingDir = path;
  return cachedLayerStep(services, state, step, { kind: "workdir", fields: { path } }, async () => {
    const { layer } = await runInSnapshot(services.store.snapshots, state.chainId, (root) => ensureDirInRoot(root, path), commitOptions(services));
    return commitResult(layer);
  });
}
