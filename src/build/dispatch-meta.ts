/**
 * Instructions that change only the image config: ENV, LABEL, MAINTAINER, EXPOSE, CMD, ENTRYPOINT,
 * VOLUME, USER, STOPSIGNAL, HEALTHCHECK, SHELL, ONBUILD, ARG. They make no layer.
 */
import { posix } from "node:path";
import type { Instruction } from "../instructions/index.js";
import { containerConfig, DEFAULT_SHELL, setEnv, type StageState } from "./stage-state.js";

export type MetaInstruction = Exclude<Instruction, { kind: "run" | "copy" | "add" | "from" | "workdir" }>;

export function isMetaInstruction(instr: Instruction): instr is MetaInstruction {
  return !["run", "copy", "add", "from", "workdir"].includes(instr.kind);
}

/** The command as the image config stores it: shell form goes through the SHELL in force. */
function withShell(state: StageState, command: string[], shell: boolean): string[] {
  return shell ? [...(state.config.config?.Shell ?? DEFAULT_SHELL), ...command] : [...command];
}

/** Applies an expanded metadata instruction to the stage's config. */
export function applyMeta(state: StageState, instr: MetaInstruction): void {
  const config = containerConfig(state);
  switch (instr.kind) {
    case "env":
      for (const { key, value } of instr.env) setEnv(state, key, value);
      break;
    case "label":
      config.Labels = { ...config.Labels, ...Object.fromEntries(instr.labels.map((l) => [l.key, l.value])) };
      break;
    case "maintainer":
      state.config.author = instr.maintainer;
      break;
    case "expose": {
      const ports = { ...config.ExposedPorts };
      for (const port of instr.ports) for (const key of exposedPortKeys(port)) ports[key] = {};
      config.ExposedPorts = ports;
      break;
    }
    case "cmd":
      config.Cmd = withShell(state, instr.command, instr.shell);
      state.cmdSet = true;
      break;
    case "entrypoint":
      config.Entrypoint = withShell(state, instr.command, instr.shell);
      // Docker: a new ENTRYPOINT drops a CMD inherited from the base, but not one set in this stage.
      if (!state.cmdSet) delete config.Cmd;
      break;
    case "volume": {
      const volumes = { ...config.Volumes };
      for (const v of instr.volumes) volumes[v] = {};
      config.Volumes = volumes;
      break;
    }
    case "user":
      config.User = instr.user;
      break;
    case "stopsignal":
      config.StopSignal = instr.signal;
      break;
    case "healthcheck":
      if (instr.test[0] === "NONE") config.Healthcheck = { Test: ["NONE"] };
      else
        config.Healthcheck = {
          Test: instr.test,
          ...(instr.interval ? { Interval: instr.interval } : {}),
          ...(instr.timeout ? { Timeout: instr.timeout } : {}),
          ...(instr.startPeriod ? { StartPeriod: instr.startPeriod } : {}),
          ...(instr.startInterval ? { StartInterval: instr.startInterval } : {}),
          ...(instr.retries ? { Retries: instr.retries } : {}),
        };
      break;
    case "shell":
      config.Shell = instr.shell;
      break;
    case "onbuild":
      config.OnBuild = [...(config.OnBuild ?? []), instr.expression];
      break;
    case "arg":
      // Build args reach RUN's environment but are never written to the image config.
      break;
  }
}

/** `80`, `53/udp`, `8000-8002/tcp` → the config's keys, one per port (Docker expands ranges). */
function exposedPortKeys(spec: string): string[] {
  const [ports = "", proto = "tcp"] = spec.toLowerCase().split("/");
  const [first, last = first] = ports.split("-").map(Number) as [number, number?];
  if (!Number.isInteger(first) || !Number.isInteger(last) || last < first) return [`${ports}/${proto}`];
  return Array.from({ length: last - first + 1 }, (_, i) => `${first + i}/${proto}`);
}

/** WORKDIR: relative paths are joined to the current one, as Docker does. */
export function nextWorkdir(state: StageState, path: string): string {
  const current = state.config.config?.WorkingDir || "/";
  return posix.resolve(current, path);
}

/** How the history shows an instruction, BuildKit style: ENV, LABEL and USER with their values expanded. */
export function historyText(instr: Instruction): string {
  const quote = (v: string) => (/[\s"]/.test(v) ? JSON.stringify(v) : v);
  if (instr.expanded && instr.kind === "env") return `ENV ${instr.env.map((p) => `${p.key}=${quote(p.value)}`).join(" ")}`;
  if (instr.expanded && instr.kind === "label") return `LABEL ${instr.labels.map((p) => `${p.key}=${quote(p.value)}`).join(" ")}`;
  if (instr.expanded && instr.kind === "user") return `USER ${instr.user}`;
  const text = instr.node.original.replace(/\\\r?\n\s*/g, "").replace(/\s+/g, " ").trim();
  const keyword = instr.node.keyword;
  return `${keyword}${text.slice(keyword.length)}`;
}
