import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { text as readAll } from "node:stream/consumers";
import { BuildImageError, type SourceLocation } from "../../errors.js";
import { lintDockerfile, type LintResult, type PlanWarning } from "../../instructions/index.js";
import { parseCommandLine, UsageError } from "../args.js";
import { EXIT_FAILED, EXIT_OK, type Command, type CommandIO } from "../command.js";

const usage = `Usage: build-image lint [OPTIONS] [CONTEXT]

Check a Dockerfile without building: print its errors and warnings. Exits 1 when there are errors
(or warnings, with '# check=error=true' in the Dockerfile).

Options:
  -f, --file PATH        Dockerfile (default CONTEXT/Dockerfile; '-' reads stdin)
      --format FORMAT    text | json (default text)
      --build-arg K=V    Set a build argument; 'K' alone takes it from the environment (repeatable)
      --target STAGE     Check as a build of this stage would
      --platform PLATFORM  Target platform (default the host's)
`;

interface LintValues {
  file?: string;
  format?: string;
  "build-arg"?: string[];
  target?: string;
  platform?: string;
}

function buildArgs(values: string[] | undefined, env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const eq = v.indexOf("=");
    if (eq === 0) throw new UsageError(`--build-arg '${v}': the name is empty`);
    if (eq > 0) out[v.slice(0, eq)] = v.slice(eq + 1);
    else if (env[v] !== undefined) out[v] = env[v] as string; // as docker: `--build-arg NAME` reads the environment
  }
  return out;
}

async function readDockerfile(path: string, io: CommandIO): Promise<string> {
  if (path === "-") return readAll(io.stdin);
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw new BuildImageError("DOCKERFILE_NOT_FOUND", `cannot read the Dockerfile ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      hint: "give its path with -f",
      cause: err,
    });
  }
}

/** One problem the way the CLI prints errors: place, message, code, the line with a caret, the hint. */
function renderProblem(kind: "error" | "warning", code: string, message: string, location: SourceLocation | undefined, hint: string | undefined): string {
  const where = location ? `${location.file}:${location.line}:${location.column}: ` : "";
  let out = `${kind}: ${where}${message} [${code}]\n`;
  if (location?.lineText !== undefined) {
    const gutter = `${location.line} | `;
    out += ` ${gutter}${location.lineText}\n ${" ".repeat(gutter.length + Math.max(0, location.column - 1))}^\n`;
  }
  if (hint) out += `hint: ${hint}\n`;
  return out;
}

function asJson(file: string, result: LintResult): string {
  const problem = (p: { code: string; message: string; location: SourceLocation | undefined; hint?: string | undefined }) => ({
    code: p.code,
    message: p.message,
    ...(p.location ? { location: p.location } : {}),
    ...(p.hint ? { hint: p.hint } : {}),
  });
  return `${JSON.stringify({ file, errors: result.errors.map(problem), warnings: result.warnings.map((w: PlanWarning) => problem(w)) }, null, 2)}\n`;
}

function summary(result: LintResult): string {
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;
  return `${count(result.errors.length, "error")}, ${count(result.warnings.length, "warning")}\n`;
}

export const lintCommand: Command = {
  name: "lint",
  summary: "Check a Dockerfile without building it",
  usage,
  async run(argv, io) {
    const { values, positionals } = parseCommandLine(
      argv,
      {
        file: { type: "string", short: "f" },
        format: { type: "string" },
        "build-arg": { type: "string", multiple: true },
        target: { type: "string" },
        platform: { type: "string" },
      },
      "lint",
    ) as { values: LintValues; positionals: string[] };
    if (positionals.length > 1) throw new UsageError("'build-image lint' takes at most one CONTEXT", "see 'build-image lint --help'");
    const format = values.format ?? "text";
    if (format !== "text" && format !== "json") throw new UsageError(`--format '${format}': expected text or json`);
    const path = values.file ?? join(positionals[0] ?? ".", "Dockerfile");
    const text = await readDockerfile(path, io);
    const file = path === "-" ? "Dockerfile" : path;
    const result = lintDockerfile(text, {
      file,
      buildArgs: buildArgs(values["build-arg"], io.env),
      ...(values.target !== undefined ? { target: values.target } : {}),
      ...(values.platform !== undefined ? { platform: values.platform } : {}),
    });
    if (format === "json") io.stdout.write(asJson(file, result));
    else {
      for (const e of result.errors) io.stdout.write(renderProblem("error", e.code, e.message, e.location, e.hint));
      for (const w of result.warnings) io.stdout.write(renderProblem("warning", w.code, w.message, w.location, w.hint));
      io.stdout.write(summary(result));
    }
    const failed = result.errors.length > 0 || (result.warningsAreErrors && result.warnings.length > 0);
    return failed ? EXIT_FAILED : EXIT_OK;
  },
};
