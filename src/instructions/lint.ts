/**
 * Lint: every error createBuildPlan would raise, collected instead of stopping at the first, plus
 * the warnings of rules.ts. `# check=skip=…;error=true` is honoured.
 */
import { isBuildImageError, type BuildImageError } from "../errors.js";
import type { DockerfileError } from "../parser/index.js";
import { analyzeDockerfile, findTarget, reachable, unusedBuildArgs, type Analysis, type BuildPlanOptions, type PlanWarning } from "./plan.js";
import { applyCheckDirective, lintStages, parseCheckDirective } from "./rules.js";
import { resolveStageScopes } from "./scope.js";

export interface LintResult {
  /** Errors: anything that would stop a build (Dockerfile errors carry a location). */
  errors: BuildImageError[];
  warnings: PlanWarning[];
  /** True when `# check=error=true` makes warnings fail the lint. */
  warningsAreErrors: boolean;
}

function byPosition(a: { location?: { line: number; column: number } | undefined }, b: { location?: { line: number; column: number } | undefined }): number {
  return (a.location?.line ?? 0) - (b.location?.line ?? 0) || (a.location?.column ?? 0) - (b.location?.column ?? 0);
}

/**
 * Every error and warning in a Dockerfile, without building. With `target`, only the stages it
 * needs are checked for variables and build args (as a build would); all stages get the rules.
 */
export function lintDockerfile(text: string, options: BuildPlanOptions = {}): LintResult {
  let analysis: Analysis;
  try {
    analysis = analyzeDockerfile(text, options, true);
  } catch (err) {
    if (isBuildImageError(err)) return { errors: [err], warnings: [], warningsAreErrors: false };
    throw err;
  }
  const errors: BuildImageError[] = [...analysis.errors];
  const warnings: PlanWarning[] = [...analysis.warnings];
  let needed: Set<number> | undefined;
  if (options.target !== undefined && analysis.stages.length > 0) {
    try {
      needed = new Set(reachable(analysis.stages, findTarget(analysis.stages, options.target)));
    } catch (err) {
      if (!isBuildImageError(err)) throw err;
      errors.push(err);
    }
  }
  const stages = resolveStageScopes(analysis, needed, warnings, (err: DockerfileError) => errors.push(err));
  warnings.push(...lintStages(analysis.stages), ...unusedBuildArgs(analysis, stages));
  const { error } = parseCheckDirective(analysis.directives.check);
  return { errors: errors.sort(byPosition), warnings: applyCheckDirective(warnings, analysis.directives.check).sort(byPosition), warningsAreErrors: error };
}
