import type { Command } from "../command.js";
import { buildCommand } from "./build.js";
import { runCommand } from "./run.js";
import { loginCommand, logoutCommand, pullCommand, pushCommand } from "./registry.js";
import { imagesCommand } from "./images.js";
import { importCommand } from "./import.js";
import { lintCommand } from "./lint.js";
import { loadCommand } from "./load.js";
import { rmiCommand } from "./rmi.js";
import { saveCommand } from "./save.js";
import { tagCommand } from "./tag.js";
import { pruneCommand } from "./prune.js";
import { duCommand } from "./du.js";

/** Every subcommand, in the order `build-image --help` lists them. Add a command: one file, one line. */
export const commands: Command[] = [buildCommand, lintCommand, runCommand, pushCommand, pullCommand, loginCommand, logoutCommand, imagesCommand, tagCommand, rmiCommand, saveCommand, loadCommand, importCommand, pruneCommand, duCommand];
