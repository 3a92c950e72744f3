/** What every `build-image` subcommand provides. One file per command under `commands/`. */
export interface CommandIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
}

export interface Command {
  name: string;
  /** One line for the command list in `build-image --help`. */
  summary: string;
  /** The full help text printed by `build-image NAME --help`. */
  usage: string;
  /** Returns the exit code: 0 ok, 1 the work failed, 2 bad usage. Throw BuildImageError for user errors. */
  run(argv: string[], io: CommandIO): Promise<number>;
}

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
