/**
 * ONBUILD triggers of a base image (its config's `OnBuild` list) as typed instructions of the stage
 * built on it: the solver runs them right after FROM, before the stage's own instructions.
 */
import { DockerfileError, parseDockerfile } from "../parser/index.js";
import { errorAt } from "./errors.js";
import { parseInstruction } from "./parse.js";
import type { BuildPlan } from "./plan.js";
import type { Instruction, SourceRef } from "./types.js";

/**
 * `triggers` parsed for stage `stageIndex` of `plan`. Every error points at that stage's FROM line,
 * since the text came from the base image. A trigger's `--from` may name a stage of this build
 * defined before the stage (it must be one the plan builds); anything else is an image.
 */
export function parseOnbuildTriggers(plan: BuildPlan, stageIndex: number, triggers: readonly string[]): Instruction[] {
  const stage = plan.byIndex.get(stageIndex);
  if (stage === undefined) throw new RangeError(`stage ${stageIndex} is not in the plan`);
  const at = stage.location;
  const resolveFrom = (name: string): SourceRef => {
    const index = /^\d+$/.test(name) ? Number(name) : plan.stageNames.indexOf(name.toLowerCase());
    if (index < 0 || index >= stageIndex) return { kind: "image", ref: name };
    if (!plan.byIndex.has(index)) {
      throw errorAt(at, "DOCKERFILE_ONBUILD_TRIGGER", `ONBUILD trigger of the base image uses stage '${name}', which this build does not include`, "build a target that needs that stage");
    }
    return { kind: "stage", index, name: plan.stageNames[index] ?? String(index) };
  };
  const wrap = <T>(trigger: string, fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof DockerfileError)) throw err;
      throw errorAt(at, err.code, `ONBUILD trigger '${trigger}' of the base image: ${err.message}`, err.hint, err);
    }
  };
  return triggers.map((trigger) => {
    const nodes = wrap(trigger, () => parseDockerfile(trigger).instructions);
    const node = nodes[0];
    if (node === undefined || nodes.length !== 1) throw errorAt(at, "DOCKERFILE_ONBUILD_TRIGGER", `ONBUILD trigger '${trigger}' of the base image is not one instruction`);
    const keyword = node.keyword.toUpperCase();
    if (keyword === "ONBUILD" || keyword === "FROM" || keyword === "MAINTAINER") {
      throw errorAt(at, "DOCKERFILE_ONBUILD_TRIGGER", `${keyword} isn't allowed as an ONBUILD trigger (from the base image)`);
    }
    return { ...wrap(trigger, () => parseInstruction(node, { file: plan.file, resolveFrom })), location: at };
  });
}
