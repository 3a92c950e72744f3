import { runImage } from "../../build/index.js";
import { parseCommandLine, UsageError } from "../args.js";
import type { Command, CommandIO } from "../command.js";

const usage = `Usage: build-image run [OPTIONS] IMAGE [COMMAND [ARG…]]

Run an image's command in the build sandbox, on a throwaway copy of its filesystem (like 'docker run --rm').

Options:
      --entrypoint CMD     Override the image's ENTRYPOINT
  -e, --env K=V            Set an environment variable (repeatable)
  -u, --user USER          Run as USER (name or uid[:gid])
  -w, --workdir DIR        Working directory inside the image
      --network MODE       host (default) | none
      --runtime NAME       auto | runc | crun | unshare
      --root DIR           Store root (env BUILD_IMAGE_ROOT)
`;

async function run(argv: string[], io: CommandIO): Promise<number> {
  // Everything after the image name belongs to the command, as with docker run.
  const imageAt = firstPositional(argv);
  const own = imageAt < 0 ? argv : argv.slice(0, imageAt + 1);
  const command = imageAt < 0 ? [] : argv.slice(imageAt + 1);
  const { values, positionals } = parseCommandLine(
    own,
    {
      entrypoint: { type: "string" },
      env: { type: "string", short: "e", multiple: true },
      user: { type: "string", short: "u" },
      workdir: { type: "string", short: "w" },
      network: { type: "string" },
      runtime: { type: "string" },
      root: { type: "string" },
    },
    "run",
  );
  const image = positionals[0];
  if (!image) throw new UsageError("an image is required", "e.g. 'build-image run app:latest'");
  const network = values.network ?? "host";
  if (network !== "host" && network !== "none") throw new UsageError(`--network '${network}' is not one of host, none`);
  const runtime = values.runtime ?? "auto";
  if (!["auto", "runc", "crun", "unshare"].includes(runtime)) throw new UsageError(`--runtime '${runtime}' is not one of auto, runc, crun, unshare`);
  const env: Record<string, string> = {};
  for (const e of values.env ?? []) {
    const eq = e.indexOf("=");
    if (eq > 0) env[e.slice(0, eq)] = e.slice(eq + 1);
    else if (io.env[e] !== undefined) env[e] = io.env[e]!;
  }
  return runImage({
    image,
    command,
    ...(values.entrypoint !== undefined ? { entrypoint: values.entrypoint === "" ? [] : [values.entrypoint] } : {}),
    env,
    ...(values.user !== undefined ? { user: values.user } : {}),
    ...(values.workdir !== undefined ? { workdir: values.workdir } : {}),
    network,
    runtime: runtime as "auto" | "runc" | "crun" | "unshare",
    ...(values.root !== undefined ? { root: values.root } : {}),
    onStdout: (chunk) => io.stdout.write(chunk),
    onStderr: (chunk) => io.stderr.write(chunk),
  });
}

/** Index of the image name: the first word that is neither an option nor an option's value. */
function firstPositional(argv: string[]): number {
  const withValue = new Set(["--entrypoint", "-e", "--env", "-u", "--user", "-w", "--workdir", "--network", "--runtime", "--root"]);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (withValue.has(a)) i++;
    else if (!a.startsWith("-")) return i;
  }
  return -1;
}

export const runCommand: Command = { name: "run", summary: "Run an image's command in the build sandbox (--rm)", usage, run };
