/**
 * `build-image run IMAGE [CMD…]`: runs an image's command in the same sandbox RUN uses, on a throwaway
 * snapshot (`--rm` semantics: nothing it writes is kept).
 */
import { join, resolve } from "node:path";
import { defaultRoot, hostPlatform, openStore } from "../layers/index.js";
import { cleanupStaleSandboxes, runInSandbox } from "../sandbox/index.js";
import { localImageState } from "./base.js";
import { sandboxUser } from "./dispatch-run.js";
import { BuildError } from "./errors.js";

export interface RunImageOptions {
  image: string;
  /** Replaces the image's CMD (and, with `entrypoint`, its ENTRYPOINT). */
  command?: string[];
  entrypoint?: string[];
  env?: Record<string, string>;
  user?: string;
  workdir?: string;
  network?: "none" | "host";
  root?: string;
  runtime?: "auto" | "runc" | "crun" | "unshare";
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
  signal?: AbortSignal;
}

/** Returns the process's exit code. */
export async function runImage(options: RunImageOptions): Promise<number> {
  const root = resolve(options.root ?? defaultRoot(process.env));
  const store = await openStore(root);
  try {
    const sandboxDir = join(root, "sandbox");
    await cleanupStaleSandboxes(sandboxDir);
    const image = await localImageState(store, options.image, options.image, hostPlatform(), options.signal);
    if (!image) {
      throw new BuildError("BUILD_BASE_NOT_FOUND", `image '${options.image}' is not in the local store`, { hint: "build it first, or 'build-image pull' / 'build-image load' it" });
    }
    const config = image.state.config.config ?? {};
    const entrypoint = options.entrypoint ?? config.Entrypoint ?? [];
    const cmd = options.command && options.command.length > 0 ? options.command : options.entrypoint ? [] : (config.Cmd ?? []);
    const argv = [...entrypoint, ...cmd];
    if (argv.length === 0) throw new BuildError("BUILD_NO_COMMAND", `image '${options.image}' has no CMD or ENTRYPOINT`, { hint: "give the command to run after the image name" });
    const env = [...(config.Env ?? []), ...Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`)];
    const active = await store.snapshots.prepare(image.state.chainId);
    try {
      const user = await sandboxUser(active.root, options.user ?? config.User ?? "");
      const result = await runInSandbox(
        {
          rootfs: active.root,
          args: argv,
          env,
          cwd: options.workdir ?? (config.WorkingDir || "/"),
          user,
          network: options.network ?? "host",
          ...(options.onStdout ? { onStdout: options.onStdout } : {}),
          ...(options.onStderr ? { onStderr: options.onStderr } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
        },
        { runtime: options.runtime ?? "auto", stateDir: sandboxDir },
      );
      return result.exitCode;
    } finally {
      await active.abort();
    }
  } finally {
    await store.close();
  }
}
