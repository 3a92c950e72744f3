/**
 * Dockerfile text → BuildPlan: typed instructions grouped into stages, the stage graph (FROM <stage>,
 * COPY --from, RUN --mount=from=), pruned to --target, with the ARGs resolved. This is the contract
 * between the front end and the solver; see BuildPlan and Stage.
 */
import { BuildImageError, type SourceLocation } from "../errors.js";
import { DockerfileError, parseDockerfile, type Directives, type DockerfileNode } from "../parser/index.js";
import { hostPlatform, isBuiltinArg, parsePlatform, platformArgs, PROXY_ARGS } from "./args.js";
import { errorAt, locate } from "./errors.js";
import { ShellWordError, processWord, toDockerfileError } from "./lex.js";
import { nodeLocation, parseInstruction, type ParseContext } from "./parse.js";
import { applyCheckDirective, lintStages } from "./rules.js";
import { resolveStageScopes } from "./scope.js";
import { closest, didYouMean } from "./suggest.js";
import type { ArgInstruction, FromInstruction, Instruction, Platform, ResolvedArg, SourceRef } from "./types.js";

export interface BuildPlanOptions {
  /** `--build-arg K=V`: override ARG defaults (undeclared ones are warned about, except proxy args). */
  buildArgs?: Record<string, string>;
  /** `--target`: the stage to build (by name); default the last stage. */
  target?: string;
  /** `--platform`: the target platform (`os/arch[/variant]`); default the host's. */
  platform?: string;
  /** The build platform; default the host's (tests set it). */
  buildPlatform?: string;
  /** The Dockerfile's name in error locations; default "Dockerfile". */
  file?: string;
}

/** Something worth telling the user that does not stop the build. */
export interface PlanWarning {
  /** Stable, upper snake case, e.g. UNUSED_BUILD_ARG, UNDEFINED_ARG_IN_FROM, JSON_ARGS_RECOMMENDED. */
  code: string;
  message: string;
  location: SourceLocation | undefined;
  hint?: string;
}

export type StageBase = { kind: "scratch" } | { kind: "image"; ref: string } | { kind: "stage"; index: number };

export interface Stage {
  /** Position among all stages of the Dockerfile (what `COPY --from=<n>` counts). */
  index: number;
  /** `AS name`, lower-cased. */
  name: string | undefined;
  /** FROM, expanded with the meta ARGs: scratch, an image reference, or an earlier stage. */
  base: StageBase;
  /** `--platform` expanded, else the target platform. */
  platform: Platform;
  /** True when FROM had --platform. */
  platformFromFlag: boolean;
  /** Indexes of the stages this one needs (its base, COPY --from and RUN --mount=from stages), ascending. */
  dependsOn: number[];
  /** The FROM instruction itself. */
  from: FromInstruction;
  /**
   * Everything after FROM, typed and validated, words as written, each with `argsInScope`; ARG
   * instructions carry their `resolved` values. The solver expands each one at dispatch time with
   * `expandInstruction(instr, envForStep(configEnv, instr))`, configEnv being the image config's
   * Env at that point (base image ENV, then this stage's ENV); RUN runs with that same env.
   */
  instructions: Instruction[];
  location: SourceLocation;
}

export interface BuildPlan {
  /** The stages the target needs, in Dockerfile order. */
  stages: Stage[];
  /** Stage index → stage, for the stages in `stages`. */
  byIndex: ReadonlyMap<number, Stage>;
  /** Index of the stage to build. */
  target: number;
  /** The needed stage indexes in an order where every stage comes after the stages it depends on. */
  order: number[];
  warnings: PlanWarning[];
  /** The ARGs declared before the first FROM, resolved (only usable in FROM lines unless re-declared). */
  metaArgs: ResolvedArg[];
  platform: Platform;
  buildPlatform: Platform;
  /** Proxy args given with --build-arg (HTTP_PROXY…): RUN gets them, the image and cache keys never do. */
  proxyArgs: Record<string, string>;
  buildArgs: Record<string, string>;
  directives: Directives;
  /** How many stages the Dockerfile has in all. */
  stageCount: number;
  /** Every stage's name by index (undefined for unnamed ones), pruned stages included. */
  stageNames: (string | undefined)[];
  file: string;
}

/** Everything the front end learns from a Dockerfile; createBuildPlan prunes it, lint reports it. */
export interface Analysis {
  stages: Stage[];
  metaArgs: ResolvedArg[];
  metaDeclarations: ArgInstruction[];
  directives: Directives;
  platform: Platform;
  buildPlatform: Platform;
  warnings: PlanWarning[];
  /** With `collect`, every error found (the rest of the file is still checked); else empty. */
  errors: DockerfileError[];
  file: string;
  options: BuildPlanOptions;
}

const STAGE_LIKE = /^[a-z][a-z0-9-_.]*$/;

/** Names the FROM lines give, by stage index, before anything is parsed (to spot forward references). */
function stageNames(nodes: DockerfileNode[]): (string | undefined)[] {
  return nodes
    .filter((n) => n.keyword.toUpperCase() === "FROM")
    .map((n) => {
      const words = n.args.flatMap((a) => a.split(/\s+/).filter(Boolean));
      return words.length === 3 && words[1]?.toLowerCase() === "as" ? words[2]?.toLowerCase() : undefined;
    });
}

/**
 * Parses and checks the whole Dockerfile. With `collect`, a DockerfileError in one instruction is
 * recorded and checking goes on; otherwise the first one is thrown.
 */
export function analyzeDockerfile(text: string, options: BuildPlanOptions = {}, collect = false): Analysis {
  const file = options.file ?? "Dockerfile";
  const errors: DockerfileError[] = [];
  const attempt = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      if (collect && err instanceof DockerfileError) {
        errors.push(err);
        return undefined;
      }
      throw err;
    }
  };
  const lines = text.replace(/^\uFEFF/, "").split("\n");
  const ast = parseDockerfile(text);
  const escape = ast.directives.escape;
  const warnings: PlanWarning[] = ast.warnings.map((w) => ({
    code: w.code,
    message: w.message,
    location: { file, line: w.line, column: w.column, ...(lines[w.line - 1] !== undefined ? { lineText: (lines[w.line - 1] as string).replace(/\r$/, "") } : {}) },
  }));
  const platform = options.platform ? parsePlatform(options.platform) : hostPlatform();
  const buildPlatform = options.buildPlatform ? parsePlatform(options.buildPlatform) : hostPlatform();
  const builtins = platformArgs(platform, buildPlatform);
  const buildArgs = options.buildArgs ?? {};
  const names = stageNames(ast.instructions);

  const metaDeclarations: ArgInstruction[] = [];
  const metaArgs: ResolvedArg[] = [];
  const metaEnv: Record<string, string> = { ...builtins };
  const stages: Stage[] = [];

  if (ast.instructions.length === 0) {
    throw new DockerfileError("DOCKERFILE_EMPTY", `the Dockerfile (${file}) cannot be empty`, { file, line: 1, column: 1, hint: "add a FROM instruction" });
  }

  for (const node of ast.instructions) {
    const keyword = node.keyword.toUpperCase();
    const current = stages[stages.length - 1];
    const ctx: ParseContext = { file, lines, escape, resolveFrom: (name, at) => resolveStageRef(name, at, stages.length - 1, names) };
    if (keyword === "FROM") {
      const stage = attempt(() => startStage(node, ctx, stages.length, metaEnv, metaArgs, names, stages, platform, warnings));
      stages.push(stage ?? placeholderStage(node, ctx, stages.length, platform));
      continue;
    }
    const instr = attempt(() => parseInstruction(node, ctx));
    if (instr === undefined) continue;
    if (current === undefined) {
      if (instr.kind !== "arg") {
        attempt(() => {
          throw errorAt(instr.location, "DOCKERFILE_NO_STAGE", `${keyword} before the first FROM: no build stage in current context`, "only ARG may come before the first FROM");
        });
        continue;
      }
      metaDeclarations.push(instr);
      attempt(() => resolveMetaArgs(instr, metaEnv, buildArgs, builtins, metaArgs));
      continue;
    }
    current.instructions.push(instr);
  }
  if (stages.length === 0) {
    const last = ast.instructions[ast.instructions.length - 1] as DockerfileNode;
    attempt(() => {
      throw errorAt(nodeLocation(last, { file, lines }), "DOCKERFILE_NO_STAGE", "the Dockerfile has no FROM instruction", "start a stage with FROM <image>");
    });
  }
  for (const stage of stages) stage.dependsOn = dependencies(stage);
  return { stages, metaArgs, metaDeclarations, directives: ast.directives, platform, buildPlatform, warnings, errors, file, options };
}

function resolveMetaArgs(instr: ArgInstruction, metaEnv: Record<string, string>, buildArgs: Record<string, string>, builtins: Record<string, string>, out: ResolvedArg[]): void {
  for (const decl of instr.args) {
    let resolved: ResolvedArg;
    if (Object.prototype.hasOwnProperty.call(buildArgs, decl.name)) resolved = { name: decl.name, value: buildArgs[decl.name], source: "build-arg" };
    else if (decl.default !== undefined) resolved = { name: decl.name, value: expandAt(decl.default, metaEnv, instr.escape, instr.location).result, source: "default" };
    else if (decl.name in builtins) resolved = { name: decl.name, value: builtins[decl.name], source: "platform" };
    else resolved = { name: decl.name, value: undefined, source: "none" };
    if (resolved.value !== undefined) metaEnv[decl.name] = resolved.value;
    const previous = out.findIndex((a) => a.name === decl.name);
    if (previous >= 0) out.splice(previous, 1);
    out.push(resolved);
  }
  instr.resolved = out.filter((a) => instr.args.some((d) => d.name === a.name));
}

function expandAt(word: string, env: Record<string, string>, escape: string, location: SourceLocation) {
  try {
    return processWord(word, env, { escape });
  } catch (err) {
    if (err instanceof ShellWordError) throw toDockerfileError(err, locate(location, word));
    throw err;
  }
}

function startStage(
  node: DockerfileNode,
  ctx: ParseContext,
  index: number,
  metaEnv: Record<string, string>,
  metaArgs: ResolvedArg[],
  names: (string | undefined)[],
  earlier: Stage[],
  targetPlatform: Platform,
  warnings: PlanWarning[],
): Stage {
  const from = parseInstruction(node, ctx) as FromInstruction;
  const location = from.location;
  const duplicate = from.name === undefined ? undefined : earlier.find((s) => s.name === from.name);
  if (duplicate) {
    throw errorAt(
      locate(location, from.name as string),
      "DOCKERFILE_DUPLICATE_STAGE",
      `duplicate stage name '${from.name}' (first defined at line ${duplicate.location.line})`,
      "give each stage its own name",
    );
  }
  const undefinedInFrom = (unmatched: Set<string>) => {
    for (const name of unmatched) {
      if (metaArgs.some((a) => a.name === name)) {
        warnings.push({
          code: "INVALID_DEFAULT_ARG_IN_FROM",
          message: `Default value for ARG ${name} results in empty or invalid base image name`,
          location,
          hint: `give it a default (ARG ${name}=…) or always pass --build-arg ${name}=…`,
        });
        continue;
      }
      const similar = didYouMean(name, Object.keys(metaEnv));
      warnings.push({
        code: "UNDEFINED_ARG_IN_FROM",
        message: `FROM argument '${name}' is not declared`,
        location,
        hint: similar ?? `declare it before the first FROM: ARG ${name}=…`,
      });
    }
  };
  const image = expandAt(from.image, metaEnv, from.escape, location);
  undefinedInFrom(image.unmatched);
  if (image.result === "") {
    throw errorAt(location, "DOCKERFILE_EMPTY_BASE", `base name (${from.image}) should not be blank`, "give the ARG a default or pass --build-arg");
  }
  let platform = targetPlatform;
  if (from.platform !== undefined) {
    const expanded = expandAt(from.platform, metaEnv, from.escape, location);
    undefinedInFrom(expanded.unmatched);
    platform = parsePlatform(expanded.result, locate(location, "--platform"));
  }
  const ref = image.result;
  let base: Stage["base"];
  const lower = ref.toLowerCase();
  const parent = earlier.find((s) => s.name === lower);
  if (lower === "scratch") base = { kind: "scratch" };
  else if (parent) base = { kind: "stage", index: parent.index };
  else if (names.indexOf(lower) > index) throw forwardReference(`FROM ${ref}`, lower, names.indexOf(lower), locate(location, from.image));
  else base = { kind: "image", ref };
  return { index, name: from.name, base, platform, platformFromFlag: from.platform !== undefined, dependsOn: [], from, instructions: [], location };
}

/** A stage standing in for a FROM that failed to parse, so lint can go on checking what follows. */
function placeholderStage(node: DockerfileNode, ctx: ParseContext, index: number, platform: Platform): Stage {
  const location = nodeLocation(node, ctx);
  const from: FromInstruction = { kind: "from", location, node, escape: ctx.escape ?? "\\", expanded: false, argsInScope: [], image: "scratch", name: undefined, platform: undefined };
  return { index, name: undefined, base: { kind: "scratch" }, platform, platformFromFlag: false, dependsOn: [], from, instructions: [], location };
}

function forwardReference(what: string, name: string, index: number, location: SourceLocation): DockerfileError {
  return errorAt(
    location,
    "DOCKERFILE_FORWARD_REFERENCE",
    `${what}: stage '${name}' (stage ${index}) is defined later in the Dockerfile`,
    "a stage can only use stages defined above it; move that stage up",
  );
}

/** `--from` / `from=` as a stage (by name or index) or an image, for an instruction of stage `current`. */
function resolveStageRef(name: string, location: SourceLocation, current: number, names: (string | undefined)[]): SourceRef {
  const lower = name.toLowerCase();
  if (/^\d+$/.test(name)) {
    const index = Number(name);
    if (index < current) return { kind: "stage", index, name: names[index] ?? String(index) };
    if (index === current) throw selfReference(name, location);
    if (index < names.length) throw forwardReference(`--from=${name}`, names[index] ?? name, index, location);
    throw errorAt(location, "DOCKERFILE_UNKNOWN_STAGE", `--from=${name}: there is no stage ${index} (the Dockerfile has ${names.length})`, "stages are counted from 0");
  }
  const index = names.indexOf(lower);
  if (index >= 0 && index < current) return { kind: "stage", index, name: lower };
  if (index === current) throw selfReference(name, location);
  if (index > current) throw forwardReference(`--from=${name}`, lower, index, location);
  const known = names.filter((n): n is string => n !== undefined);
  const near = STAGE_LIKE.test(lower) && !/[/:@.]/.test(lower) ? closest(lower, known) : undefined;
  if (near !== undefined) {
    throw errorAt(
      location,
      "DOCKERFILE_UNKNOWN_STAGE",
      `--from=${name}: no stage named '${name}'`,
      `did you mean '${near}'? (to use an image of that name, write its full reference, e.g. docker.io/library/${lower})`,
    );
  }
  return { kind: "image", ref: name };
}

function selfReference(name: string, location: SourceLocation): DockerfileError {
  return errorAt(location, "DOCKERFILE_STAGE_CYCLE", `--from=${name} refers to the stage it is in`, "a stage cannot copy from itself; split it into two stages");
}

function refsOf(instr: Instruction): SourceRef[] {
  if (instr.kind === "copy") return instr.from ? [instr.from] : [];
  if (instr.kind === "run") return instr.mounts.flatMap((m) => ("from" in m && m.from ? [m.from] : []));
  return [];
}

function dependencies(stage: Stage): number[] {
  const deps = new Set<number>();
  if (stage.base.kind === "stage") deps.add(stage.base.index);
  for (const instr of stage.instructions) for (const ref of refsOf(instr)) if (ref.kind === "stage") deps.add(ref.index);
  return [...deps].sort((a, b) => a - b);
}

/** The target's index: the named stage, or the last one. */
export function findTarget(stages: Stage[], target: string | undefined): number {
  if (target === undefined || target === "") return stages.length - 1;
  const lower = target.toLowerCase();
  const found = stages.find((s) => s.name === lower);
  if (found) return found.index;
  const named = stages.map((s) => s.name).filter((n): n is string => n !== undefined);
  throw new BuildImageError("DOCKERFILE_UNKNOWN_TARGET", `target stage '${target}' could not be found`, {
    hint: didYouMean(lower, named, (s) => `--target ${s}`) ?? (named.length ? `the named stages are: ${named.join(", ")}` : "the Dockerfile has no named stages (FROM image AS name)"),
  });
}

/**
 * The stages `target` needs, in an order where dependencies come first. References only point to
 * earlier stages, so a cycle means a bug upstream; it is still reported, with the stage's position.
 */
export function reachable(stages: Stage[], target: number): number[] {
  const state = new Map<number, "visiting" | "done">();
  const order: number[] = [];
  const visit = (index: number) => {
    const seen = state.get(index);
    if (seen === "done") return;
    const stage = stages[index] as Stage;
    if (seen === "visiting") throw errorAt(stage.location, "DOCKERFILE_STAGE_CYCLE", `circular dependency detected on stage ${stage.name ?? index}`);
    state.set(index, "visiting");
    for (const dep of stage.dependsOn) visit(dep);
    state.set(index, "done");
    order.push(index);
  };
  visit(target);
  return order;
}

/** Build args nobody declares (proxy and builtin args excepted). */
export function unusedBuildArgs(analysis: Analysis, stages: Stage[]): PlanWarning[] {
  const declared = new Set<string>(analysis.metaDeclarations.flatMap((a) => a.args.map((d) => d.name)));
  for (const stage of stages) for (const instr of stage.instructions) if (instr.kind === "arg") for (const d of instr.args) declared.add(d.name);
  return Object.keys(analysis.options.buildArgs ?? {})
    .filter((name) => !declared.has(name) && !isBuiltinArg(name))
    .map((name) => ({
      code: "UNUSED_BUILD_ARG",
      message: `build arg '${name}' was given but no ARG in the stages built declares it`,
      location: undefined,
      hint: didYouMean(name, declared) ?? `declare it with ARG ${name} in the stage that needs it`,
    }));
}

/**
 * The Dockerfile as a BuildPlan: parsed, checked, stages pruned to `target`, ARGs resolved with
 * `buildArgs`. Throws DockerfileError (with location) for any problem in the Dockerfile, and
 * BuildImageError DOCKERFILE_UNKNOWN_TARGET for a --target no stage has.
 *
 * What is expanded here: FROM (image and --platform, with the meta ARGs and platform args) and ARG
 * values (build args, meta ARG inheritance, platform args; defaults as far as the Dockerfile knows
 * them). Every other word is kept as written and expanded by the solver with expandInstruction at
 * dispatch time, when the base image's ENV is known. Expansion syntax is checked here already.
 */
export function createBuildPlan(text: string, options: BuildPlanOptions = {}): BuildPlan {
  const analysis = analyzeDockerfile(text, options);
  const target = findTarget(analysis.stages, options.target);
  const order = reachable(analysis.stages, target);
  const needed = new Set(order);
  const scopeWarnings: PlanWarning[] = [];
  const stages = resolveStageScopes(analysis, needed, scopeWarnings);
  const buildArgs = options.buildArgs ?? {};
  const proxyArgs = Object.fromEntries(Object.entries(buildArgs).filter(([k]) => PROXY_ARGS.includes(k)));
  return {
    stages,
    byIndex: new Map(stages.map((s) => [s.index, s])),
    target,
    order,
    warnings: applyCheckDirective([...analysis.warnings, ...scopeWarnings, ...lintStages(stages), ...unusedBuildArgs(analysis, stages)], analysis.directives.check),
    metaArgs: analysis.metaArgs,
    platform: analysis.platform,
    buildPlatform: analysis.buildPlatform,
    proxyArgs,
    buildArgs,
    directives: analysis.directives,
    stageCount: analysis.stages.length,
    stageNames: analysis.stages.map((s) => s.name),
    file: analysis.file,
  };
}

