/**
 * ARG scoping: walks each stage's instructions in order with the variables the Dockerfile itself
 * defines (ENV inherited from a parent stage, this stage's ENV and ARGs), resolves every ARG
 * (--build-arg, else its default, else the meta ARG of that name, else the platform arg) and gives
 * each instruction the ARGs in scope. Words are expanded only as a check here (unknown variables
 * kept as written): the base image's ENV is not known before the solver pulls it.
 */
import { DockerfileError } from "../parser/index.js";
import { PLATFORM_ARGS, platformArgs } from "./args.js";
import { applyToEnv, expandInstructionWithMatches } from "./expand.js";
import { processWord } from "./lex.js";
import type { Analysis, PlanWarning, Stage } from "./plan.js";
import type { Instruction, ResolvedArg } from "./types.js";

interface StageEnv {
  env: Record<string, string>;
  /** True when the stage's whole ENV is known: its chain of bases starts at scratch. */
  known: boolean;
}

function resolveArg(name: string, defaultValue: string | undefined, analysis: Analysis, builtins: Record<string, string>): ResolvedArg {
  const buildArgs = analysis.options.buildArgs ?? {};
  if (Object.prototype.hasOwnProperty.call(buildArgs, name)) return { name, value: buildArgs[name], source: "build-arg" };
  if (defaultValue !== undefined) return { name, value: defaultValue, source: "default" };
  const meta = analysis.metaArgs.find((a) => a.name === name);
  if (meta?.value !== undefined) return { name, value: meta.value, source: "meta" };
  if (PLATFORM_ARGS.includes(name)) return { name, value: builtins[name], source: "platform" };
  return { name, value: undefined, source: "none" };
}

/**
 * The stages in `only` (all when undefined) with resolved ARG scopes. Warnings found on the way
 * (variables no one defines, in stages whose ENV is fully known) go to `warnings`.
 */
export function resolveStageScopes(analysis: Analysis, only?: ReadonlySet<number>, warnings: PlanWarning[] = [], onError?: (err: DockerfileError) => void): Stage[] {
  const builtins = platformArgs(analysis.platform, analysis.buildPlatform);
  const finalEnv = new Map<number, StageEnv>();
  const result: Stage[] = [];
  for (const stage of analysis.stages) {
    if (only && !only.has(stage.index)) continue;
    const parent = stage.base.kind === "stage" ? finalEnv.get(stage.base.index) : undefined;
    let config: Record<string, string> = { ...(parent?.env ?? {}) };
    const known = stage.base.kind === "scratch" || (parent?.known ?? false);
    let env: Record<string, string> = { ...config };
    let scope: ResolvedArg[] = [];
    const instructions: Instruction[] = [];
    for (const raw of stage.instructions) {
      let checked: ReturnType<typeof expandInstructionWithMatches>;
      try {
        // Where the whole env is known this is the expansion dispatch will make (errors included).
        checked = expandInstructionWithMatches(raw, env, { keepUnset: !known });
      } catch (err) {
        // Lint goes on after an error in one instruction; a plan stops at it.
        if (!onError || !(err instanceof DockerfileError)) throw err;
        onError(err);
        instructions.push({ ...raw, argsInScope: scope });
        continue;
      }
      const { instruction: preview, unmatched } = checked;
      if (known) {
        for (const name of unmatched) {
          if (scope.some((a) => a.name === name)) continue; // declared without a value: empty on purpose
          warnings.push({
            code: "UNDEFINED_VAR",
            message: `usage of undefined variable '$${name}'`,
            location: raw.location,
            hint: `define it with ARG ${name} or ENV ${name}=…, or write \\$${name} for a literal $`,
          });
        }
      }
      let instr: Instruction = { ...raw, argsInScope: scope };
      if (raw.kind === "arg" && preview.kind === "arg") {
        const resolved = preview.args.map((decl, i) => {
          const arg = resolveArg(decl.name, decl.default, analysis, builtins);
          const rawDefault = raw.args[i]?.default;
          // A default that uses a variable only the base image may define is final only at dispatch.
          if (!known && arg.source === "default" && rawDefault !== undefined && processWord(rawDefault, env, { escape: raw.escape, keepUnset: true }).unmatched.size > 0) {
            return { ...arg, dynamic: true };
          }
          return arg;
        });
        instr = { ...raw, argsInScope: scope, resolved };
        scope = [...scope.filter((a) => !resolved.some((r) => r.name === a.name)), ...resolved];
        env = applyToEnv(env, { ...preview, resolved });
      } else if (preview.kind === "env") {
        config = applyToEnv(config, preview);
        env = applyToEnv(env, preview);
        const keys = new Set(preview.env.map((p) => p.key));
        scope = scope.map((a) => (keys.has(a.name) ? { ...a, shadowed: true } : a));
      }
      instructions.push(instr);
    }
    finalEnv.set(stage.index, { env: config, known });
    result.push({ ...stage, instructions });
  }
  return result;
}
