import { parseArgs } from "node:util";
import { BuildImageError } from "../errors.js";

type ParseArgsOptions = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>["options"]>;
export type OptionSpec = ParseArgsOptions;

/** A command-line mistake: the CLI prints it with the command's usage and exits 2. */
export class UsageError extends BuildImageError {
  constructor(message: string, hint?: string) {
    super("USAGE", message, hint === undefined ? {} : { hint });
    this.name = "UsageError";
  }
}

type HelpOption = { help: { type: "boolean"; short: "h" } };
type CommandLineConfig<O extends OptionSpec> = { args: string[]; options: O & HelpOption; allowPositionals: true; strict: true };
export type CommandLine<O extends OptionSpec> = ReturnType<typeof parseArgs<CommandLineConfig<O>>>;

/** `util.parseArgs` with strict checking and positionals, turning its errors into UsageError. */
export function parseCommandLine<O extends OptionSpec>(argv: string[], options: O, command: string): CommandLine<O> {
  try {
    const config: CommandLineConfig<O> = { args: argv, options: { ...options, help: { type: "boolean", short: "h" } }, allowPositionals: true, strict: true };
    return parseArgs(config);
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ""), `see 'build-image ${command} --help'`);
  }
}
