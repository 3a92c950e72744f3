import { z } from "zod";
import { BuildImageError } from "../errors.js";
import type { EventSink } from "./events.js";

const secretSchema = z.union([
  z.object({ id: z.string().min(1), src: z.string().min(1) }),
  z.object({ id: z.string().min(1), env: z.string().min(1) }),
]);

const outputSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("docker"), dest: z.string().min(1) }),
  z.object({ type: z.literal("oci"), dest: z.string().min(1) }),
  z.object({ type: z.literal("local"), dest: z.string().min(1) }),
]);

export const buildOptionsSchema = z
  .object({
    /** The build context: a directory. */
    context: z.string().min(1),
    /** Path of the Dockerfile, relative to the context unless absolute. Default: `<context>/Dockerfile`. */
    dockerfile: z.string().min(1).optional(),
    /** The Dockerfile text itself (as `-f -` reads it from stdin); wins over `dockerfile`. */
    dockerfileText: z.string().optional(),
    tags: z.array(z.string().min(1)).default([]),
    buildArgs: z.record(z.string(), z.string()).default({}),
    target: z.string().min(1).optional(),
    /** Only the host's platform for now (e.g. "linux/amd64"); another is a clear error. */
    platform: z.string().min(1).optional(),
    labels: z.record(z.string(), z.string()).default({}),
    noCache: z.boolean().default(false),
    noCacheFilter: z.array(z.string()).default([]),
    /** `--network` default for RUN steps. "default" runs on the host's network (there is no daemon bridge). */
    network: z.enum(["default", "none", "host"]).default("default"),
    secrets: z.array(secretSchema).default([]),
    /** `--ssh id=SOCKET`: ssh-agent sockets for `RUN --mount=type=ssh` (`default` is the usual id). */
    ssh: z.array(z.object({ id: z.string().min(1), socket: z.string().min(1) })).default([]),
    outputs: z.array(outputSchema).default([]),
    push: z.boolean().default(false),
    /** Store root; default: BUILD_IMAGE_ROOT, else /var/lib/build-image (root) or $XDG_DATA_HOME/build-image. */
    root: z.string().min(1).optional(),
    runtime: z.enum(["auto", "runc", "crun", "unshare"]).default("auto"),
    snapshotter: z.enum(["auto", "overlay", "copy"]).default("auto"),
    /** How many stages may run at once. */
    jobs: z.number().int().min(1).default(2),
    /** `SOURCE_DATE_EPOCH`: file times clamped to it, `created` set to it. */
    sourceDateEpoch: z.number().int().min(0).optional(),
    cacheFrom: z.array(z.string()).default([]),
    cacheTo: z.array(z.string()).default([]),
    pull: z.boolean().default(false),
    insecureRegistries: z.array(z.string()).default([]),
    /** Extra CA certificates (PEM) to trust for registries (`--ca-file`); `SSL_CERT_FILE` works too. */
    caFile: z.string().min(1).optional(),
    onEvent: z.custom<EventSink>((v) => typeof v === "function").optional(),
    signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal).optional(),
    /** The environment for `--build-arg NAME` and `--secret env=`; default process.env (any object of strings). */
    env: z.custom<Record<string, string | undefined>>((v) => typeof v === "object" && v !== null, "expected an object of strings").optional(),
  })
  .strict();

export type BuildOptions = z.input<typeof buildOptionsSchema>;
export type ResolvedBuildOptions = z.output<typeof buildOptionsSchema>;

/** Validates `build()` options: a wrong option is a clear error naming it. */
export function resolveBuildOptions(options: BuildOptions): ResolvedBuildOptions {
  const parsed = buildOptionsSchema.safeParse(options);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const where = issue.path.length ? `option '${issue.path.join(".")}'` : "options";
  throw new BuildImageError("BUILD_INVALID_OPTION", `${where}: ${issue.message}`, {
    hint: "see the build() options in the README",
  });
}
