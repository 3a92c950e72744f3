import { parseArgs, type ParseArgsConfig } from "node:util";
import { BuildImageError } from "../errors.js";

export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

/** A command-line mistake: the CLI prints it with the command's usage and exits 2. */
export class UsageError extends BuildImageError {
  constructor(message: string, hint?: string) {
    super("USAGE", message, hint === undefined ? {} : { hint });
    this.name = "UsageError";
  }
}

/** `util.parseArgs` with strict checking, turning its errors into UsageError. */
export function parseCommandLine(argv: string[], options: OptionSpec, command: string) {
  try {
    return parseArgs({ args: argv, options: { help: { type: "boolean", short: "h" }, ...options }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ""), `see 'build-image ${command} --help'`);
  }
}
