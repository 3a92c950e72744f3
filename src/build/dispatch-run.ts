/**
 * RUN: the command through the SHELL (or exec form), heredocs as Docker runs them, the env (image ENV
 * plus the build args in scope, which are never persisted), USER, WORKDIR, network and mounts; executed
 * by the sandbox on a writable snapshot whose upper dir becomes the layer.
 */
import { chmod, cp, mkdir, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { acquireCacheMount, type CacheInputs } from "../cache/index.js";
import { resolveInRoot, resolveUserSpec } from "../context/index.js";
import { envForStep, PROXY_ARGS, type Mount, type RunInstruction, type SourceRef } from "../instructions/index.js";
import { ownedName, runInSnapshot } from "../layers/index.js";
import { runInSandbox, type SandboxMount } from "../sandbox/index.js";
import { BuildError } from "./errors.js";
import { DEFAULT_SHELL, envRecord, type StageState } from "./stage-state.js";
import { cachedLayerStep, commitResult, type BuildServices, type Step, type StepOutcome } from "./step.js";

const OUTPUT_TAIL_LINES = 20;
/** Where a RUN heredoc script with a shebang is mounted (a stub the sandbox removes afterwards). */
const HEREDOC_DIR = "/run/heredoc";

/** argv for a RUN, as BuildKit builds it: a lone heredoc is the script; other heredocs go to the shell. */
export function runArgv(state: StageState, instr: RunInstruction): { argv: string[]; script?: { name: string; content: string } } {
  const shell = state.config.config?.Shell ?? DEFAULT_SHELL;
  if (!instr.shell) return { argv: [...instr.command] };
  const line = instr.command[0] ?? "";
  const files = instr.files;
  if (files.length === 0) return { argv: [...shell, line] };
  const content = (f: { content: string }) => (f.content.endsWith("\n") ? f.content : `${f.content}\n`);
  const lone = /^<<-?\s*(["']?)([^"'\s]+)\1\s*$/.exec(line.trim());
  if (files.length === 1 && lone && lone[2] === files[0]!.name) {
    const body = content(files[0]!);
    // A script with a shebang runs as an executable file, as BuildKit does (it uses /dev/pipes/, which our
    // sandbox keeps for its own devices); otherwise the shell runs it.
    if (body.startsWith("#!")) return { argv: [`${HEREDOC_DIR}/${files[0]!.name}`], script: { name: files[0]!.name, content: body } };
    return { argv: [...shell, body] };
  }
  // The shell understands heredocs itself: hand it the command line followed by the bodies.
  const script = [line, ...files.map((f) => `${content(f)}${f.name}`)].join("\n");
  return { argv: [...shell, script] };
}

/**
 * RUN's environment: the image's ENV with the build args in scope on top, the later definition
 * winning (BuildKit's rule). `args` are the build args alone: keyed and shown in history, never persisted.
 * Proxy args reach the process but neither the key nor the history.
 */
export function runEnv(state: StageState, instr: RunInstruction): { env: Record<string, string>; args: Record<string, string> } {
  const image = envRecord(state.config);
  const env = envForStep(image, instr);
  const args: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (image[name] !== value && !PROXY_ARGS.includes(name)) args[name] = value;
  return { env, args };
}

function describeMount(m: Mount): string {
  switch (m.type) {
    case "bind":
      return `bind,target=${m.target},source=${m.source ?? "/"},from=${describeRef(m.from)},rw=${!m.readonly}`;
    case "cache":
      return `cache,target=${m.target},id=${m.id ?? m.target},sharing=${m.sharing},from=${describeRef(m.from)}`;
    case "tmpfs":
      return `tmpfs,target=${m.target},size=${m.size ?? ""}`;
    case "secret":
      return `secret,id=${m.id ?? ""},target=${m.target ?? ""},env=${m.env ?? ""},required=${m.required}`;
    case "ssh":
      return `ssh,id=${m.id ?? "default"}`;
  }
}

function describeRef(ref: SourceRef | undefined): string {
  if (!ref) return "context";
  return ref.kind === "stage" ? `stage:${ref.name}` : `image:${ref.ref}`;
}

export async function dispatchRun(services: BuildServices, state: StageState, step: Step, instr: RunInstruction): Promise<StepOutcome> {
  const { argv, script } = runArgv(state, instr);
  const { env, args } = runEnv(state, instr);
  const user = state.config.config?.User ?? "";
  const workdir = state.config.config?.WorkingDir || "/";
  const network = instr.network === "default" ? services.options.network : instr.network;
  const inputs: CacheInputs = {
    kind: "run",
    fields: {
      command: argv,
      env: envRecord(state.config),
      args,
      user,
      workdir,
      network,
      security: instr.security,
      mounts: instr.mounts.map(describeMount),
    },
  };
  return cachedLayerStep(services, state, step, inputs, async () => {
    const cleanups: (() => Promise<void>)[] = [];
    const tail: string[] = [];
    let partial = "";
    const onOutput = (stream: "stdout" | "stderr") => (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      services.emit({ type: "log", id: step.id, stream, text });
      const lines = (partial + text).split("\n");
      partial = lines.pop() ?? "";
      tail.push(...lines);
      if (tail.length > OUTPUT_TAIL_LINES) tail.splice(0, tail.length - OUTPUT_TAIL_LINES);
    };
    const { layer } = await runInSnapshot(
      services.store.snapshots,
      state.chainId,
      async (root, active) => {
        try {
          const resolved = await sandboxUser(root, user);
          const mounts: SandboxMount[] = [];
          const extraEnv: Record<string, string> = {};
          for (const mount of instr.mounts) await prepareMount(services, mount, mounts, extraEnv, cleanups);
          if (script) {
            const dir = await scratchDir(services, cleanups);
            const file = join(dir, script.name);
            await writeFile(file, script.content, { mode: 0o755 });
            mounts.push({ type: "bind", source: file, target: `${HEREDOC_DIR}/${script.name}`, readonly: true });
          }
          const result = await runInSandbox(
            {
              rootfs: root,
              ...(active.upperDir ? { upperdir: active.upperDir } : {}),
              args: argv,
              env: Object.entries({ ...env, ...extraEnv }).map(([k, v]) => `${k}=${v}`),
              cwd: workdir,
              user: resolved,
              network: network === "none" ? "none" : "host",
              mounts,
              onStdout: onOutput("stdout"),
              onStderr: onOutput("stderr"),
              ...(services.options.signal ? { signal: services.options.signal } : {}),
            },
            { runtime: services.options.runtime, stateDir: services.sandboxDir },
          );
          if (partial) tail.push(partial);
          if (result.exitCode !== 0) {
            const shown = argv.join(" ").replace(/\s+/g, " ").slice(0, 200);
            throw new BuildError("BUILD_RUN_FAILED", `process "${shown}" did not complete successfully: exit code: ${result.exitCode}${tail.length ? `\n${tail.map((l) => `  > ${l}`).join("\n")}` : ""}`, {
              location: instr.location,
              exitCode: result.exitCode,
              outputTail: tail,
              hint: "fix the command (its output is above); the store is unchanged",
            });
          }
        } finally {
          await runAll(cleanups);
        }
      },
      commitOptions(services),
    );
    return commitResult(layer);
  });
}

/** No USER means root, without needing an /etc/passwd (a `FROM scratch` image has none). */
export async function sandboxUser(rootfs: string, user: string): Promise<{ uid: number; gid: number; additionalGids: number[] }> {
  return user === "" ? { uid: 0, gid: 0, additionalGids: [] } : resolveUserSpec(rootfs, user);
}

async function runAll(cleanups: (() => Promise<void>)[]): Promise<void> {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  cleanups.length = 0;
}

function withSignal(services: BuildServices): { signal?: AbortSignal } {
  return services.options.signal ? { signal: services.options.signal } : {};
}

export function commitOptions(services: BuildServices): { sourceDateEpoch?: number; signal?: AbortSignal } {
  return { ...withSignal(services), ...(services.options.sourceDateEpoch !== undefined ? { sourceDateEpoch: services.options.sourceDateEpoch } : {}) };
}

/** A private temp dir under the store's tmp/, removed after the step. */
async function scratchDir(services: BuildServices, cleanups: (() => Promise<void>)[]): Promise<string> {
  // An owned name: if this process dies, the next openStore knows the dir is garbage.
  const dir = join(services.store.root, "tmp", ownedName(".run"));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function prepareMount(
  services: BuildServices,
  mount: Mount,
  mounts: SandboxMount[],
  extraEnv: Record<string, string>,
  cleanups: (() => Promise<void>)[],
): Promise<void> {
  switch (mount.type) {
    case "tmpfs":
      mounts.push({ type: "tmpfs", target: mount.target, ...(mount.size !== undefined ? { size: mount.size } : {}) });
      return;
    case "cache": {
      const acquired = await acquireCacheMount(services.store.root, {
        id: mount.id ?? mount.target,
        sharing: mount.sharing,
        ...(mount.uid !== undefined ? { uid: mount.uid } : {}),
        ...(mount.gid !== undefined ? { gid: mount.gid } : {}),
        ...(mount.mode !== undefined ? { mode: mount.mode } : {}),
        ...withSignal(services),
      });
      cleanups.push(() => acquired.release());
      mounts.push({ type: "bind", source: acquired.dir, target: mount.target, readonly: mount.readonly });
      return;
    }
    case "bind": {
      const source = await bindSource(services, mount.from, mount.source ?? "/", cleanups);
      if (mount.readonly) {
        mounts.push({ type: "bind", source, target: mount.target, readonly: true });
        return;
      }
      // rw: the step may write, but its writes are thrown away (as BuildKit does): give it a copy.
      const copy = join(await scratchDir(services, cleanups), "rw");
      await cp(source, copy, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
      mounts.push({ type: "bind", source: copy, target: mount.target, readonly: false });
      return;
    }
    case "secret": {
      const id = mount.id ?? (mount.target ? mount.target.split("/").pop()! : undefined);
      const secret = id === undefined ? undefined : services.secrets.get(id);
      if (!secret) {
        if (mount.required || id === undefined) {
          throw new BuildError("BUILD_SECRET_MISSING", `secret '${id ?? "?"}' was not given to the build`, {
            hint: `pass it with --secret id=${id ?? "ID"},src=FILE (or env=VAR)`,
          });
        }
        return;
      }
      if (mount.env) {
        extraEnv[mount.env] = secret.value.toString("utf8");
        if (!mount.target) return;
      }
      const dir = await scratchDir(services, cleanups);
      const file = join(dir, "secret");
      await writeFile(file, secret.value, { mode: mount.mode ?? 0o400 });
      await chmod(file, mount.mode ?? 0o400);
      mounts.push({ type: "bind", source: file, target: mount.target ?? `/run/secrets/${id}`, readonly: true });
      return;
    }
    case "ssh": {
      // The agent's socket itself is bound in (BuildKit proxies it); SSH_AUTH_SOCK points at it.
      const id = mount.id ?? "default";
      const agent = services.options.ssh.find((s) => s.id === id);
      if (!agent) {
        if (!mount.required) return;
        throw new BuildError("BUILD_SSH_MISSING", `RUN --mount=type=ssh,id=${id}: no ssh agent was given to the build`, {
          hint: `pass one with --ssh ${id}=$SSH_AUTH_SOCK (or --ssh ${id} to use SSH_AUTH_SOCK)`,
        });
      }
      const info = await stat(agent.socket).catch(() => undefined);
      if (!info?.isSocket()) {
        throw new BuildError("BUILD_SSH_MISSING", `--ssh ${id}=${agent.socket} is not an ssh-agent socket`, {
          hint: "give the agent's socket (SSH_AUTH_SOCK); key files need an ssh-agent: ssh-add them to one",
        });
      }
      const target = mount.target ?? `/run/buildkit/ssh_agent.${mounts.filter((m) => m.target.startsWith("/run/buildkit/ssh_agent.")).length}`;
      mounts.push({ type: "bind", source: agent.socket, target, readonly: false });
      extraEnv.SSH_AUTH_SOCK = target;
      return;
    }
  }
}

/** The host directory a bind mount's `from` and `source` name, resolved inside its root. */
async function bindSource(services: BuildServices, from: SourceRef | undefined, source: string, cleanups: (() => Promise<void>)[]): Promise<string> {
  if (!from) return (await resolveInRoot(services.context.dir, source)).abs;
  const chainId = from.kind === "stage" ? (await services.stageResult(from.index)).chainId : (await services.imageChain(from.ref)).chainId;
  if (chainId === null) return scratchDir(services, cleanups);
  const view = await services.store.snapshots.view(chainId, withSignal(services));
  cleanups.push(() => view.release());
  return (await resolveInRoot(view.root, source)).abs;
}
