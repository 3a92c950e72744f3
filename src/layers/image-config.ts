/**
 * The image config (OCI image spec "config.md"), with Docker's extra fields (Healthcheck, OnBuild, Shell,
 * ArgsEscaped) kept where Docker puts them. Unknown fields survive a parse, so a pulled Docker config
 * (container_config, docker_version, …) is not trimmed.
 */
import { z } from "zod";
import { ImageError } from "./image-errors.js";

/** Docker writes `null` for empty lists and maps; treat it as absent. */
function withoutNulls(value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null));
}

const emptyObjectSet = z.record(z.string(), z.object({}).loose());

export const HealthcheckSchema = z
  .object({
    /** `["NONE"]`, `["CMD", …]` or `["CMD-SHELL", "…"]`. */
    Test: z.array(z.string()).optional(),
    /** Durations in nanoseconds, as Docker stores them. */
    Interval: z.number().optional(),
    Timeout: z.number().optional(),
    StartPeriod: z.number().optional(),
    StartInterval: z.number().optional(),
    Retries: z.number().optional(),
  })
  .loose();

export const ContainerConfigSchema = z.preprocess(
  withoutNulls,
  z
    .object({
      User: z.string().optional(),
      ExposedPorts: emptyObjectSet.optional(),
      Env: z.array(z.string()).optional(),
      Entrypoint: z.array(z.string()).optional(),
      Cmd: z.array(z.string()).optional(),
      Volumes: emptyObjectSet.optional(),
      WorkingDir: z.string().optional(),
      Labels: z.record(z.string(), z.string()).optional(),
      StopSignal: z.string().optional(),
      ArgsEscaped: z.boolean().optional(),
      Healthcheck: HealthcheckSchema.optional(),
      OnBuild: z.array(z.string()).optional(),
      Shell: z.array(z.string()).optional(),
    })
    .loose(),
);

export const HistorySchema = z.preprocess(
  withoutNulls,
  z
    .object({
      created: z.string().optional(),
      created_by: z.string().optional(),
      author: z.string().optional(),
      comment: z.string().optional(),
      empty_layer: z.boolean().optional(),
    })
    .loose(),
);

export const ImageConfigSchema = z.preprocess(
  withoutNulls,
  z
    .object({
      created: z.string().optional(),
      author: z.string().optional(),
      architecture: z.string(),
      os: z.string(),
      "os.version": z.string().optional(),
      "os.features": z.array(z.string()).optional(),
      variant: z.string().optional(),
      config: ContainerConfigSchema.optional(),
      rootfs: z.object({ type: z.literal("layers"), diff_ids: z.array(z.string().regex(/^sha256:[0-9a-f]{64}$/)) }),
      history: z.array(HistorySchema).optional(),
    })
    .loose(),
);

export type Healthcheck = z.infer<typeof HealthcheckSchema>;
export type ContainerConfig = z.infer<typeof ContainerConfigSchema>;
export type HistoryEntry = z.infer<typeof HistorySchema>;
export type ImageConfig = z.infer<typeof ImageConfigSchema>;

/** Parses config JSON (bytes, text or an already-parsed value); throws IMAGE_FORMAT_INVALID. */
export function parseImageConfig(input: Uint8Array | string | unknown, what = "image config"): ImageConfig {
  const value = typeof input === "string" || input instanceof Uint8Array ? parseJson(input, what) : input;
  const result = ImageConfigSchema.safeParse(value);
  if (!result.success) {
    throw new ImageError("IMAGE_FORMAT_INVALID", `${what} is not a valid image config: ${z.prettifyError(result.error)}`, {
      hint: "the image may be corrupt or of an unsupported kind; pull or build it again",
    });
  }
  return result.data;
}

/** JSON.parse with an IMAGE_FORMAT_INVALID error naming what was being read. */
export function parseJson(input: Uint8Array | string, what: string): unknown {
  try {
    return JSON.parse(typeof input === "string" ? input : Buffer.from(input).toString("utf8"));
  } catch (err) {
    throw new ImageError("IMAGE_FORMAT_INVALID", `${what} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}
