export { expandWord, expandWordWithMatches, processWord, splitWords, ShellWordError, type Env, type ExpandOptions, type LexOptions, type WordResult } from "./lex.js";
export { parseInstruction, type ParseContext } from "./parse.js";
export { applyToEnv, expandInstruction, expandInstructionWithMatches, type ExpandResult, type InstructionExpandOptions } from "./expand.js";
export { parseMount } from "./mounts.js";
export { FLAG_SPECS, parseDuration } from "./flags.js";
export { PLATFORM_ARGS, PROXY_ARGS, formatPlatform, hostPlatform, parsePlatform, platformArgs } from "./args.js";
export { analyzeDockerfile, createBuildPlan, type Analysis, type BuildPlan, type BuildPlanOptions, type PlanWarning, type Stage, type StageBase } from "./plan.js";
export type * from "./types.js";
