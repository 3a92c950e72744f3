/**
 * `build(options)`: Dockerfile → image in the local store (tagged), and optionally exported. The order of
 * things: validate options → plan → open store, cache and context → solve → write the image → tag →
 * outputs.
 */
import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { exportCache, importCache, inlineCacheValue, INLINE_CACHE_FIELD, openCache, parseCacheFromSpec, parseCacheToSpec } from "../cache/index.js";
import { openContext } from "../context/index.js";
import { createBuildPlan, hostPlatform } from "../instructions/index.js";
import { defaultRoot, formatPlatform, openStore, tagImage, writeImage, type ImageConfig, type OciManifest } from "../layers/index.js";
import type { RegistryClient } from "../registry/index.js";
import { cleanupStaleSandboxes } from "../sandbox/index.js";
import { BuildError } from "./errors.js";
import { emitter } from "./events.js";
import { resolveBuildOptions, type BuildOptions, type ResolvedBuildOptions } from "./options.js";
import { writeOutputs } from "./outputs.js";
import { pullIntoStore, pushFromStore, registryClient } from "./distribution.js";
import { solve } from "./solver.js";
import { imagePlatform } from "./stage-state.js";
import type { Secret } from "./step.js";

export interface BuildResult {
  /** The manifest digest. */
  digest: string;
  /** The config digest (Docker's image ID). */
  imageId: string;
  /** The full names the image was tagged with. */
  tags: string[];
  manifest: OciManifest;
  config: ImageConfig;
  /** Every step that ran or came from the cache. */
  steps: { id: string; cached: boolean }[];
  durationMs: number;
}

export async function build(options: BuildOptions): Promise<BuildResult> {
  const started = Date.now();
  const opts = resolveBuildOptions(options);
  const emit = emitter(opts.onEvent);
  const env = (opts.env ?? process.env) as NodeJS.ProcessEnv;
  // One failing stage stops the others: their steps see this signal.
  const abort = new AbortController();
  const onOuterAbort = () => abort.abort(opts.signal?.reason);
  if (opts.signal?.aborted) onOuterAbort();
  opts.signal?.addEventListener("abort", onOuterAbort, { once: true });
  try {
    const result = await buildWith({ ...opts, signal: abort.signal }, env, emit, started, (reason) => abort.abort(reason));
    emit({ type: "build-end", durationMs: Date.now() - started, digest: result.digest, imageId: result.imageId });
    return result;
  } catch (err) {
    abort.abort(err);
    emit({ type: "build-end", durationMs: Date.now() - started, error: (err as Error).message.split("\n")[0]! });
    throw err;
  } finally {
    opts.signal?.removeEventListener("abort", onOuterAbort);
  }
}

async function buildWith(opts: ResolvedBuildOptions, env: NodeJS.ProcessEnv, emit: ReturnType<typeof emitter>, started: number, abort: (reason: unknown) => void): Promise<BuildResult> {
  const contextDir = resolve(opts.context);
  const contextInfo = await stat(contextDir).catch(() => undefined);
  if (!contextInfo?.isDirectory()) {
    throw new BuildError("BUILD_CONTEXT_NOT_FOUND", `build context '${opts.context}' is not a directory`, { hint: "give the directory that holds your Dockerfile and files, e.g. '.'" });
  }
  const dockerfilePath = resolve(contextDir, opts.dockerfile ?? "Dockerfile");
  const text = opts.dockerfileText ?? (await readDockerfile(dockerfilePath, opts.dockerfile));
  const shortPath = relative(process.cwd(), dockerfilePath);
  const fileLabel = opts.dockerfileText !== undefined ? "Dockerfile" : shortPath.startsWith("..") ? dockerfilePath : shortPath;
  const host = imagePlatform(hostPlatform());
  if (opts.platform !== undefined && opts.platform !== formatPlatform(host) && opts.platform !== `${host.os}/${host.architecture}`) {
    throw new BuildError("BUILD_PLATFORM_UNSUPPORTED", `--platform ${opts.platform}: only this host's platform (${formatPlatform(host)}) can be built`, {
      hint: `drop --platform, or pass --platform ${formatPlatform(host)}`,
    });
  }
  const plan = createBuildPlan(text, {
    buildArgs: opts.buildArgs,
    ...(opts.target !== undefined ? { target: opts.target } : {}),
    ...(opts.platform !== undefined ? { platform: opts.platform } : {}),
    file: fileLabel,
  });
  for (const w of plan.warnings) emit({ type: "warning", code: w.code, message: w.message, ...(w.location ? { line: w.location.line } : {}) });
  emit({ type: "build-start", stages: plan.stages.length, steps: plan.stages.reduce((n, s) => n + s.instructions.length + 1, 0) });

  const cacheFrom = opts.cacheFrom.map(parseCacheFromSpec);
  const cacheTo = opts.cacheTo.map(parseCacheToSpec);
  const root = resolve(opts.root ?? defaultRoot(env));
  const store = await openStore(root, { snapshotter: opts.snapshotter });
  try {
    const sandboxDir = join(root, "sandbox");
    await cleanupStaleSandboxes(sandboxDir);
    const cache = await openCache(root);
    const context = await openContext(contextDir, {
      ...(opts.dockerfileText === undefined ? { dockerfile: dockerfilePath } : {}),
      memoPath: join(root, "cache", "context-memo", `${createHash("sha256").update(contextDir).digest("hex").slice(0, 16)}.json`),
      signal: opts.signal!,
    });
    const created = new Date(opts.sourceDateEpoch !== undefined ? opts.sourceDateEpoch * 1000 : started).toISOString();
    const secrets = await readSecrets(opts, env);
    const slug = `${contextDir}|${dockerfilePath}`;
    let client: RegistryClient | undefined;
    const registry = () =>
      (client ??= registryClient({ insecureRegistries: opts.insecureRegistries, ...(opts.caFile ? { caFile: opts.caFile } : {}), env, signal: opts.signal! }, emit));
    const closeRegistry = async () => {
      const open = client;
      client = undefined;
      await open?.close();
    };
    const pull = async (ref: string) => {
      await pullIntoStore(store, registry(), ref, imagePlatform(plan.platform), opts.signal);
    };
    for (const from of cacheFrom) {
      // A cache that is not there yet (the first CI run) is a warning, as in BuildKit, not a failure.
      await importCache(store, cache, from.ref, { client: registry(), ...(opts.signal ? { signal: opts.signal } : {}) }).catch((err: Error) => {
        if (opts.signal?.aborted) throw err;
        emit({ type: "warning", code: "CACHE_IMPORT_FAILED", message: `--cache-from ${from.ref}: ${err.message}` });
      });
    }
    const keepClient = opts.push || cacheTo.some((t) => t.type === "registry");
    const { state, steps, keys } = await solve(plan, { store, cache, context, options: opts, emit, sandboxDir, secrets, created, pull }, slug, abort).finally(async () => {
      if (!keepClient) await closeRegistry();
    });

    const config: ImageConfig = structuredClone(state.config);
    config.created = created;
    if (Object.keys(opts.labels).length) config.config = { ...config.config, Labels: { ...config.config?.Labels, ...opts.labels } };
    if (cacheTo.some((t) => t.type === "inline")) {
      (config as Record<string, unknown>)[INLINE_CACHE_FIELD] = await inlineCacheValue(store, cache, { records: keys, finalDiffIds: config.rootfs.diff_ids });
    }
    const written = await writeImage(store, { config, layers: state.layers.map((l) => ({ digest: l.digest, size: l.size, mediaType: l.mediaType })) });
    const tags: string[] = [];
    for (const tag of opts.tags) tags.push(await tagImage(store, tag, written.manifestDigest));
    await writeOutputs(store, opts.outputs, { manifestDigest: written.manifestDigest, chainId: state.chainId, tags });
    try {
      if (opts.push) {
        if (tags.length === 0) throw new BuildError("BUILD_PUSH_NO_TAG", "--push needs a name to push to", { hint: "add -t REGISTRY/REPOSITORY:TAG" });
        for (const tag of tags) await pushFromStore(store, registry(), tag, tag, opts.signal);
      }
      for (const to of cacheTo) {
        if (to.type !== "registry") continue;
        await exportCache(store, cache, { client: registry(), ref: to.ref, mode: to.mode, records: keys, finalDiffIds: config.rootfs.diff_ids, ...(opts.signal ? { signal: opts.signal } : {}) });
      }
    } finally {
      await closeRegistry();
    }
    return { digest: written.manifestDigest, imageId: written.configDigest, tags, manifest: written.manifest, config, steps, durationMs: Date.now() - started };
  } finally {
    await store.close();
  }
}

async function readDockerfile(path: string, asGiven: string | undefined): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw new BuildError("BUILD_DOCKERFILE_NOT_FOUND", `cannot read Dockerfile '${asGiven ?? path}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      hint: "pass its path with -f, or put a Dockerfile in the context directory",
    });
  }
}

/** `--secret id=…,src=FILE|env=VAR`: read once; values never reach logs, events, layers or cache keys. */
async function readSecrets(opts: ResolvedBuildOptions, env: NodeJS.ProcessEnv): Promise<Map<string, Secret>> {
  const out = new Map<string, Secret>();
  for (const spec of opts.secrets) {
    if ("src" in spec) {
      const value = await readFile(spec.src).catch((err: NodeJS.ErrnoException) => {
        throw new BuildError("BUILD_SECRET_MISSING", `secret '${spec.id}': cannot read ${spec.src} (${err.code ?? err.message})`, { hint: "check the src= path of --secret" });
      });
      out.set(spec.id, { id: spec.id, value });
    } else {
      const value = env[spec.env];
      if (value === undefined) throw new BuildError("BUILD_SECRET_MISSING", `secret '${spec.id}': environment variable ${spec.env} is not set`, { hint: `export ${spec.env} before the build` });
      out.set(spec.id, { id: spec.id, value: Buffer.from(value) });
    }
  }
  return out;
}
