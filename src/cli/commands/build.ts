import { writeFile } from "node:fs/promises";
import { build, type BuildOptions } from "../../build/index.js";
import { parseCommandLine, UsageError } from "../args.js";
import { EXIT_OK, type Command, type CommandIO } from "../command.js";
import { createProgressRenderer, type ProgressMode } from "../progress.js";

const usage = `Usage: build-image build [OPTIONS] CONTEXT
       build-image [OPTIONS] CONTEXT

Build an image from a Dockerfile, as 'docker build' does, without a daemon.

Options:
  -f, --file PATH            Dockerfile (default CONTEXT/Dockerfile; '-' reads stdin)
  -t, --tag NAME             Tag the image (repeatable)
      --build-arg K=V        Set a build argument; 'K' alone takes it from the environment (repeatable)
      --target STAGE         Build up to this stage
      --label K=V            Add a label to the image (repeatable)
      --no-cache             Do not use the build cache
      --no-cache-filter STAGE  Do not use the cache for these stages (repeatable)
      --network MODE         RUN network: default | none | host
      --secret id=ID,src=PATH | id=ID,env=VAR   Expose a secret to RUN --mount=type=secret (repeatable)
      --ssh ID[=SOCKET]      An ssh-agent socket for RUN --mount=type=ssh (default: $SSH_AUTH_SOCK) (repeatable)
      --platform PLATFORM    Target platform (only the host's for now)
  -o, --output SPEC          type=docker,dest=FILE | type=oci,dest=DIR|FILE | type=local,dest=DIR (repeatable)
      --push                 Push the image to every -t after building
      --pull                 Always check the registry for a newer base image
      --cache-from SPEC      type=registry,ref=REF (repeatable)
      --cache-to SPEC        type=registry,ref=REF[,mode=min|max] | type=inline
      --insecure-registry HOST  Allow plain http for this registry (repeatable)
      --ca-file FILE         Extra CA certificates (PEM) to trust for registries
      --iidfile FILE         Write the image ID (config digest) to FILE
      --metadata-file FILE   Write build result metadata (JSON) to FILE
      --progress MODE        auto | tty | plain | json | quiet (default auto)
      --runtime NAME         auto | runc | crun | unshare (default auto)
      --jobs N               How many stages may run at once (default 2)
      --root DIR             Store root (env BUILD_IMAGE_ROOT)
  -q, --quiet                Print only the image ID
`;

/** `K=V,K2=V2` → record; used by --secret, --output, --cache-*. */
export function parseCsvSpec(spec: string, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of spec.split(",")) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw new UsageError(`--${flag} '${spec}': expected key=value pairs separated by commas`);
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

function parseKeyValues(values: string[] | undefined, flag: string, env?: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const eq = v.indexOf("=");
    if (eq === 0) throw new UsageError(`--${flag} '${v}': the name is empty`);
    if (eq < 0) {
      // `--build-arg NAME` takes the value from the environment, and is dropped when unset (as docker).
      if (env === undefined) throw new UsageError(`--${flag} '${v}': expected KEY=VALUE`);
      const fromEnv = env[v];
      if (fromEnv !== undefined) out[v] = fromEnv;
      continue;
    }
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

function parseSecret(spec: string): { id: string; src: string } | { id: string; env: string } {
  const kv = parseCsvSpec(spec, "secret");
  const id = kv.id;
  if (!id) throw new UsageError(`--secret '${spec}': id=… is required`);
  const src = kv.src ?? kv.source;
  if (src) return { id, src };
  if (kv.env) return { id, env: kv.env };
  // `--secret id=FOO` alone reads the env var FOO, as buildx does.
  return { id, env: id };
}

function parseOutput(spec: string): { type: "docker" | "oci" | "local"; dest: string } {
  if (!spec.includes("=")) return { type: "local", dest: spec };
  const kv = parseCsvSpec(spec, "output");
  const type = kv.type ?? "local";
  if (type !== "docker" && type !== "oci" && type !== "local") {
    throw new UsageError(`--output type '${type}' is not supported`, "use type=docker, type=oci or type=local");
  }
  if (!kv.dest) throw new UsageError(`--output '${spec}': dest=… is required`);
  return { type, dest: kv.dest };
}

/** `--ssh default`, `--ssh default=$SSH_AUTH_SOCK`, `--ssh github=/run/agent.sock`. */
function parseSsh(spec: string, env: NodeJS.ProcessEnv): { id: string; socket: string } {
  const eq = spec.indexOf("=");
  const id = eq < 0 ? spec : spec.slice(0, eq);
  const socket = eq < 0 ? env.SSH_AUTH_SOCK : spec.slice(eq + 1);
  if (!id) throw new UsageError(`--ssh '${spec}': the id is empty`, "e.g. --ssh default");
  if (!socket) throw new UsageError(`--ssh ${id}: SSH_AUTH_SOCK is not set`, `give the socket: --ssh ${id}=/path/to/agent.sock`);
  if (socket.includes(",")) throw new UsageError(`--ssh ${id}: only one agent socket is supported`, "key files need an ssh-agent: ssh-add them to one");
  return { id, socket };
}

const PROGRESS_MODES = ["auto", "tty", "plain", "json", "quiet"];

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

async function run(argv: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseCommandLine(
    argv,
    {
      file: { type: "string", short: "f" },
      tag: { type: "string", short: "t", multiple: true },
      "build-arg": { type: "string", multiple: true },
      target: { type: "string" },
      label: { type: "string", multiple: true },
      "no-cache": { type: "boolean" },
      "no-cache-filter": { type: "string", multiple: true },
      network: { type: "string" },
      secret: { type: "string", multiple: true },
      ssh: { type: "string", multiple: true },
      platform: { type: "string" },
      output: { type: "string", short: "o", multiple: true },
      push: { type: "boolean" },
      pull: { type: "boolean" },
      "cache-from": { type: "string", multiple: true },
      "cache-to": { type: "string", multiple: true },
      "insecure-registry": { type: "string", multiple: true },
      "ca-file": { type: "string" },
      iidfile: { type: "string" },
      "metadata-file": { type: "string" },
      progress: { type: "string" },
      runtime: { type: "string" },
      jobs: { type: "string" },
      root: { type: "string" },
      quiet: { type: "boolean", short: "q" },
    },
    "build",
  );
  if (positionals.length !== 1) {
    throw new UsageError(positionals.length === 0 ? "a build context is required" : `expected one build context, got ${positionals.length}`, "e.g. 'build-image -t app .'");
  }
  const progress = (values.quiet ? "quiet" : (values.progress ?? "auto")) as ProgressMode;
  if (!PROGRESS_MODES.includes(progress)) throw new UsageError(`--progress '${progress}' is not one of ${PROGRESS_MODES.join(", ")}`);
  const network = values.network ?? "default";
  if (!["default", "none", "host"].includes(network)) throw new UsageError(`--network '${network}' is not one of default, none, host`);
  const runtime = values.runtime ?? "auto";
  if (!["auto", "runc", "crun", "unshare"].includes(runtime)) throw new UsageError(`--runtime '${runtime}' is not one of auto, runc, crun, unshare`);
  const jobs = values.jobs === undefined ? undefined : Number(values.jobs);
  if (jobs !== undefined && (!Number.isInteger(jobs) || jobs < 1)) throw new UsageError(`--jobs '${values.jobs}' must be a whole number ≥ 1`);

  const options: BuildOptions = {
    context: positionals[0]!,
    tags: values.tag ?? [],
    buildArgs: parseKeyValues(values["build-arg"], "build-arg", io.env),
    labels: parseKeyValues(values.label, "label"),
    noCache: values["no-cache"] ?? false,
    noCacheFilter: values["no-cache-filter"] ?? [],
    network: network as "default" | "none" | "host",
    secrets: (values.secret ?? []).map(parseSecret),
    ssh: (values.ssh ?? []).map((spec) => parseSsh(spec, io.env)),
    outputs: (values.output ?? []).map(parseOutput),
    push: values.push ?? false,
    pull: values.pull ?? false,
    cacheFrom: values["cache-from"] ?? [],
    cacheTo: values["cache-to"] ?? [],
    insecureRegistries: values["insecure-registry"] ?? [],
    runtime: runtime as "auto" | "runc" | "crun" | "unshare",
    env: io.env,
  };
  if (values.file === "-") options.dockerfileText = await readAll(io.stdin);
  else if (values.file !== undefined) options.dockerfile = values.file;
  if (values.target !== undefined) options.target = values.target;
  if (values.platform !== undefined) options.platform = values.platform;
  if (values.root !== undefined) options.root = values.root;
  if (values["ca-file"] !== undefined) options.caFile = values["ca-file"];
  if (jobs !== undefined) options.jobs = jobs;
  if (io.env.SOURCE_DATE_EPOCH !== undefined && /^\d+$/.test(io.env.SOURCE_DATE_EPOCH)) options.sourceDateEpoch = Number(io.env.SOURCE_DATE_EPOCH);

  const renderer = createProgressRenderer(progress, io.stderr, io.env);
  const abort = new AbortController();
  const onSignal = () => abort.abort(new Error("interrupted"));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const result = await build({ ...options, onEvent: (e) => renderer.onEvent(e), signal: abort.signal });
    renderer.close();
    if (values.quiet) io.stdout.write(`${result.imageId}\n`);
    if (values.iidfile) await writeFile(values.iidfile, result.imageId);
    if (values["metadata-file"]) {
      const metadata = {
        "containerimage.digest": result.digest,
        "containerimage.config.digest": result.imageId,
        ...(result.tags.length ? { "image.name": result.tags.join(",") } : {}),
      };
      await writeFile(values["metadata-file"], `${JSON.stringify(metadata, null, 2)}\n`);
    }
    return EXIT_OK;
  } catch (err) {
    renderer.close();
    throw err;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

export const buildCommand: Command = { name: "build", summary: "Build an image from a Dockerfile (the default)", usage, run };

