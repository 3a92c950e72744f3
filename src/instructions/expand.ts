/**
 * Which words each instruction expands, exactly as Docker: ENV, LABEL and ARG (names and values),
 * ADD/COPY (sources, destination, --chown, --chmod, --checksum, --exclude and unquoted heredoc
 * bodies), EXPOSE (split into words), VOLUME, USER, WORKDIR, STOPSIGNAL and RUN --mount values.
 * Never expanded: RUN/CMD/ENTRYPOINT/SHELL/HEALTHCHECK commands (the shell does it), MAINTAINER,
 * ONBUILD triggers (they run in a child build), COPY --from and mount `from` (stage references).
 * FROM is expanded by createBuildPlan with the meta ARGs only.
 */
import { errorAt, locate } from "./errors.js";
import { flagSchemas, flagValue } from "./flags.js";
import { processWord, ShellWordError, toDockerfileError, type Env, type LexOptions } from "./lex.js";
import { parseMount } from "./mounts.js";
import { checkPort, checkSignal } from "./parse.js";
import type { Instruction, KeyValuePair, SourceRef } from "./types.js";

export interface InstructionExpandOptions {
  /**
   * Leave references to variables missing from `env` as written instead of expanding them to "";
   * values that still hold one are not validated. createBuildPlan uses this to check a Dockerfile
   * before the base images' ENV is known.
   */
  keepUnset?: boolean;
}

export interface ExpandResult {
  instruction: Instruction;
  /** Variables the instruction's words used that were set in `env`. */
  matched: Set<string>;
  /** Variables they referenced that were not set. */
  unmatched: Set<string>;
}

/**
 * `instr` with every word Docker expands replaced by its expansion with `env` (for a planned
 * instruction: `envForStep(configEnv, instr)`). Values are validated after expansion
 * (`--chown`, `--chmod`, ports, signals, mounts). Throws DockerfileError at the instruction.
 */
export function expandInstruction(instr: Instruction, env: Env, options: InstructionExpandOptions = {}): Instruction {
  return expandInstructionWithMatches(instr, env, options).instruction;
}

export function expandInstructionWithMatches(instr: Instruction, env: Env, options: InstructionExpandOptions = {}): ExpandResult {
  const matched = new Set<string>();
  const unmatched = new Set<string>();
  const keepUnset = options.keepUnset ?? false;
  const lex: LexOptions = { escape: instr.escape, keepUnset };
  let partial = false;
  const run = (word: string, extra: LexOptions = {}) => {
    try {
      const r = processWord(word, env, { ...lex, ...extra });
      for (const name of r.matched) matched.add(name);
      for (const name of r.unmatched) unmatched.add(name);
      partial = keepUnset && r.unmatched.size > 0;
      return r;
    } catch (err) {
      if (err instanceof ShellWordError) throw toDockerfileError(err, locate(instr.location, word));
      throw err;
    }
  };
  const word = (w: string) => run(w).result;
  const optional = (w: string | undefined) => (w === undefined ? undefined : word(w));
  const checked = (w: string | undefined, check: (value: string) => void) => {
    if (w === undefined) return undefined;
    const value = word(w);
    if (!partial) check(value);
    return value;
  };
  const kv = (list: KeyValuePair[]) => list.map((p) => ({ key: word(p.key), value: word(p.value) }));
  const done = { expanded: !keepUnset };
  const keyword = instr.kind.toUpperCase();

  let instruction: Instruction;
  switch (instr.kind) {
    case "env":
      instruction = { ...instr, ...done, env: kv(instr.env) };
      for (const p of instruction.env) if (p.key === "" && !partial) throw errorAt(instr.location, "DOCKERFILE_ARGUMENTS", "ENV names can not be blank");
      break;
    case "label":
      instruction = { ...instr, ...done, labels: kv(instr.labels) };
      break;
    case "arg": {
      const args = instr.args.map((a) => ({ name: word(a.name), default: optional(a.default) }));
      const resolved = instr.resolved.map((r, i) => {
        if (r.source !== "default") return r;
        const { dynamic, ...rest } = { ...r, value: args[i]?.default };
        return keepUnset && dynamic ? { ...rest, dynamic } : rest;
      });
      instruction = { ...instr, ...done, args, resolved };
      break;
    }
    case "expose": {
      const ports: string[] = [];
      for (const p of instr.ports) {
        const r = run(p);
        for (const port of r.words) {
          if (!partial) checkPort(port, instr.location);
          ports.push(port);
        }
      }
      instruction = { ...instr, ...done, ports };
      break;
    }
    case "copy":
    case "add": {
      const at = instr.location;
      const common = {
        sources: instr.sources.map(word),
        dest: word(instr.dest),
        chown: checked(instr.chown, (v) => flagValue(flagSchemas.chown, v, "chown", keyword, at)),
        chmod: checked(instr.chmod, (v) => flagValue(flagSchemas.chmod, v, "chmod", keyword, at)),
        exclude: instr.exclude.map(word),
        // Heredoc bodies: only `$` and escapes are special, with `\` whatever the escape directive.
        files: instr.files.map((f) => (f.expand ? { ...f, content: run(f.content, { skipQuotes: true, escape: "\\" }).result } : f)),
      };
      if (common.dest === "" && !partial) throw errorAt(at, "DOCKERFILE_ARGUMENTS", `${keyword}: the destination expands to an empty string`);
      instruction =
        instr.kind === "add"
          ? { ...instr, ...done, ...common, checksum: checked(instr.checksum, (v) => flagValue(flagSchemas.checksum, v, "checksum", keyword, at)) }
          : { ...instr, ...done, ...common };
      break;
    }
    case "volume":
      instruction = { ...instr, ...done, volumes: instr.volumes.map(word) };
      break;
    case "user":
      instruction = { ...instr, ...done, user: word(instr.user) };
      if (instruction.user === "" && !partial) throw errorAt(instr.location, "DOCKERFILE_ARGUMENTS", "USER expands to an empty string");
      break;
    case "workdir":
      instruction = { ...instr, ...done, path: word(instr.path) };
      if (instruction.path === "" && !partial) throw errorAt(instr.location, "DOCKERFILE_ARGUMENTS", "WORKDIR expands to an empty string");
      break;
    case "stopsignal":
      instruction = { ...instr, ...done, signal: checked(instr.signal, (v) => checkSignal(v, instr.location)) as string };
      break;
    case "run": {
      // Each mount is parsed again with its values expanded; `from` keeps the reference resolved before.
      const froms = instr.mounts.map((m) => ("from" in m ? m.from : undefined));
      const mounts = instr.mountSpecs.map((spec, i) =>
        parseMount(spec, instr.location, (): SourceRef => froms[i] as SourceRef, {
          expand: (value) => ({ value: run(value).result, complete: !partial }),
        }),
      );
      instruction = { ...instr, ...done, mounts };
      break;
    }
    default:
      instruction = { ...instr, ...done };
  }
  return { instruction, matched, unmatched };
}

/**
 * The env an instruction of a plan is expanded with, and RUN runs with: the image config's Env
 * (base image ENV plus this stage's ENV so far) overlaid with the ARGs in scope, except those a
 * later ENV shadowed. This is BuildKit's rule: the later definition wins, so an ARG beats an ENV
 * inherited from the base image (docker/cli#3344).
 */
export function envForStep(config: Readonly<Record<string, string>>, instr: Instruction): Record<string, string> {
  const env: Record<string, string> = { ...config };
  for (const arg of instr.argsInScope) {
    if (arg.value === undefined || arg.shadowed) continue;
    // A dynamic default still holds references to the image's ENV: expand it now.
    env[arg.name] = arg.dynamic ? processWord(arg.value, env, { escape: instr.escape }).result : arg.value;
  }
  return env;
}

/**
 * The expansion env after an expanded ENV or ARG: later definitions win, as BuildKit adds both to
 * the build state's env in order. Other instructions leave it as it is.
 */
export function applyToEnv(env: Readonly<Record<string, string>>, instr: Instruction): Record<string, string> {
  if (instr.kind === "env") return { ...env, ...Object.fromEntries(instr.env.map((p) => [p.key, p.value])) };
  if (instr.kind === "arg") {
    const next = { ...env };
    for (const r of instr.resolved) if (r.value !== undefined) next[r.name] = r.value;
    return next;
  }
  return { ...env };
}
