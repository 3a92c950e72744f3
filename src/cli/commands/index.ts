import type { Command } from "../command.js";

/** Every subcommand, in the order `build-image --help` lists them. Add a command: one file, one line. */
export const commands: Command[] = [];
