/**
 * The lint rules BuildKit runs on a Dockerfile; its rule names, in upper snake case, are our warning
 * codes (JSONArgsRecommended → JSON_ARGS_RECOMMENDED), so `# check=skip=JSONArgsRecommended` works.
 */
import { locate } from "./errors.js";
import type { PlanWarning, Stage } from "./plan.js";
import type { Instruction } from "./types.js";

function warn(code: string, message: string, instr: Instruction | Stage, hint?: string, needle?: string): PlanWarning {
  return { code, message, location: needle ? locate(instr.location, needle) : instr.location, ...(hint ? { hint } : {}) };
}

const SECRET_WORDS = /(?:^|_)(?:API_?KEY|AUTH|CREDENTIALS?|KEY|PASSWORD|PASSWD|PWORD|SECRET|TOKEN)(?:$|_)/i;
const SECRET_ALLOWED = /(?:^|_)PUBLIC(?:$|_)/i;
const RESERVED_STAGE_NAMES = ["scratch", "context"];

function keywordText(instr: Instruction): string {
  return /^\s*(\S+)/.exec(instr.node.original)?.[1] ?? instr.node.keyword;
}

/** The rules that look at one stage. */
function stageRules(stage: Stage): PlanWarning[] {
  const out: PlanWarning[] = [];
  const from = stage.from;
  const fromWords = from.node.original.trim().split(/\s+/);
  const asWord = fromWords.find((w, i) => i > 0 && w.toLowerCase() === "as" && fromWords[i + 1] !== undefined && i === fromWords.length - 2);
  const fromKeyword = keywordText(from);
  if (asWord && (fromKeyword === fromKeyword.toUpperCase()) !== (asWord === asWord.toUpperCase())) {
    out.push(warn("FROM_AS_CASING", `'${asWord}' and '${fromKeyword}' keywords' casing do not match`, from, "write FROM … AS … in the same case", asWord));
  }
  const nameAsWritten = fromWords[fromWords.length - 1] as string;
  if (stage.name !== undefined && nameAsWritten !== stage.name) {
    out.push(warn("STAGE_NAME_CASING", `Stage name '${nameAsWritten}' should be lowercase`, from, `write AS ${stage.name}`, nameAsWritten));
  }
  if (stage.name !== undefined && RESERVED_STAGE_NAMES.includes(stage.name)) {
    out.push(warn("RESERVED_STAGE_NAME", `Stage name should not use the same name as reserved stage '${stage.name}'`, from, "pick another stage name", nameAsWritten));
  }
  if (from.platform !== undefined) {
    if (from.platform === "$TARGETPLATFORM" || from.platform === "${TARGETPLATFORM}") {
      out.push(warn("REDUNDANT_TARGET_PLATFORM", `Setting platform to predefined ${from.platform} in FROM is redundant as this is the default behavior`, from, "drop --platform", "--platform"));
    } else if (!from.platform.includes("$")) {
      out.push(
        warn("FROM_PLATFORM_FLAG_CONST_DISALLOWED", `FROM --platform flag should not use constant value "${from.platform}"`, from, "use $BUILDPLATFORM or $TARGETPLATFORM, or drop --platform", "--platform"),
      );
    }
  }
  const seen = new Map<string, Instruction[]>();
  let workdirSet = false;
  for (const instr of stage.instructions) {
    if (instr.kind === "cmd" || instr.kind === "entrypoint" || instr.kind === "healthcheck") seen.set(instr.kind, [...(seen.get(instr.kind) ?? []), instr]);
    if ((instr.kind === "cmd" || instr.kind === "entrypoint") && instr.shell && instr.command.length > 0) {
      const keyword = instr.kind.toUpperCase();
      const line = instr.command[0] ?? "";
      // Exec form runs no shell: with shell syntax in the line, suggest an explicit shell.
      const exec = /[$|&;<>*?`(){}~'"\\]/.test(line) ? ["/bin/sh", "-c", line] : line.split(/\s+/).filter(Boolean);
      out.push(
        warn("JSON_ARGS_RECOMMENDED", `JSON arguments recommended for ${keyword} to prevent unintended behavior related to OS signals`, instr, `write ${keyword} ${JSON.stringify(exec)}`),
      );
    }
    if (instr.kind === "maintainer") out.push(warn("MAINTAINER_DEPRECATED", "Maintainer instruction is deprecated in favor of using label", instr, `write LABEL org.opencontainers.image.authors="${instr.maintainer}"`));
    if (instr.kind === "workdir") {
      if (!workdirSet && !/^([/$]|[A-Za-z]:[\\/])/.test(instr.path)) {
        out.push(warn("WORKDIR_RELATIVE_PATH", `Relative workdir "${instr.path}" can have unexpected results if the base image changes`, instr, "use an absolute path"));
      }
      workdirSet = true;
    }
    const legacy = instr.kind === "env" || instr.kind === "label" ? instr.node.pairs?.find((p) => p.separator === " ") : undefined;
    if (legacy) {
      const keyword = instr.kind.toUpperCase();
      const value = /\s/.test(legacy.value) && !/^["'].*["']$/.test(legacy.value) ? JSON.stringify(legacy.value) : legacy.value;
      out.push(warn("LEGACY_KEY_VALUE_FORMAT", `"${keyword} key=value" should be used instead of legacy "${keyword} key value" format`, instr, `write ${keyword} ${legacy.key}=${value}`));
    }
    const names = instr.kind === "arg" ? instr.args.map((a) => a.name) : instr.kind === "env" ? instr.env.map((p) => p.key) : [];
    for (const name of names) {
      if (SECRET_WORDS.test(name) && !SECRET_ALLOWED.test(name)) {
        out.push(
          warn(
            "SECRETS_USED_IN_ARG_OR_ENV",
            `Do not use ARG or ENV instructions for sensitive data (${instr.kind.toUpperCase()} "${name}")`,
            instr,
            "pass it with --secret and RUN --mount=type=secret instead; ARG and ENV values end up in the image",
            name,
          ),
        );
      }
    }
  }
  for (const [kind, list] of seen) {
    for (const instr of list.slice(0, -1)) {
      out.push(warn("MULTIPLE_INSTRUCTIONS_DISALLOWED", `Multiple ${kind.toUpperCase()} instructions should not be used in the same stage because only the last one will be used`, instr, "keep only the last one"));
    }
  }
  return out;
}

/** ConsistentInstructionCasing: keywords should all be upper case or all lower case. */
function casingRule(stages: Stage[]): PlanWarning[] {
  const all = stages.flatMap((s) => [s.from as Instruction, ...s.instructions]);
  const upper = all.filter((i) => keywordText(i) === keywordText(i).toUpperCase()).length;
  const expectUpper = upper * 2 >= all.length;
  return all
    .filter((i) => {
      const k = keywordText(i);
      return expectUpper ? k !== k.toUpperCase() : k !== k.toLowerCase();
    })
    .map((i) => warn("CONSISTENT_INSTRUCTION_CASING", `Command '${keywordText(i)}' should match the case of the command majority (${expectUpper ? "uppercase" : "lowercase"})`, i));
}

/** The lint warnings for `stages` of an analysis (createBuildPlan reports them for the stages it builds). */
export function lintStages(stages: Stage[]): PlanWarning[] {
  return [...casingRule(stages), ...stages.flatMap(stageRules)];
}

function upperSnake(rule: string): string {
  return rule
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .toUpperCase();
}

/** `# check=skip=JSONArgsRecommended,StageNameCasing;error=true` → which codes to drop, and error mode. */
export function parseCheckDirective(value: string | undefined): { skip: Set<string> | "all"; error: boolean } {
  let skip: Set<string> | "all" = new Set();
  let error = false;
  for (const part of (value ?? "").split(";")) {
    const eq = part.indexOf("=");
    const key = part.slice(0, eq).trim().toLowerCase();
    const v = part.slice(eq + 1).trim();
    if (key === "skip") skip = v.toLowerCase() === "all" ? "all" : new Set(v.split(",").filter(Boolean).map(upperSnake));
    if (key === "error") error = v.toLowerCase() === "true";
  }
  return { skip, error };
}

/** Drops the warnings `# check=skip=…` asks to skip. */
export function applyCheckDirective(warnings: PlanWarning[], check: string | undefined): PlanWarning[] {
  const { skip } = parseCheckDirective(check);
  return skip === "all" ? [] : warnings.filter((w) => !skip.has(w.code));
}

