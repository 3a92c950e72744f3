/** The `build-image` command: argument parsing, progress rendering and exit codes. Nothing else. */
import { commands } from "./commands/index.js";
import { EXIT_OK, EXIT_USAGE, type CommandIO } from "./command.js";
import { renderError } from "./render-error.js";

function usage(): string {
  const width = Math.max(8, ...commands.map((c) => c.name.length)) + 2;
  return `Usage: build-image [OPTIONS] CONTEXT      (same as 'build-image build')
       build-image COMMAND [ARGS]

A daemonless Dockerfile build engine.

Commands:
${commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join("\n")}

Run 'build-image COMMAND --help' for more on a command.
`;
}

export async function main(argv: string[], io: CommandIO = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env }): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    io.stderr.write(usage());
    return EXIT_USAGE;
  }
  if (first === "--help" || first === "-h" || first === "help") {
    io.stdout.write(usage());
    return EXIT_OK;
  }
  const named = commands.find((c) => c.name === first);
  // Like `docker build`, a bare context (or build flags) means `build`.
  const command = named ?? commands.find((c) => c.name === "build");
  const args = named ? rest : argv;
  if (!command) {
    io.stderr.write(`build-image: unknown command '${first}'\n\n${usage()}`);
    return EXIT_USAGE;
  }
  if (args.includes("--help") || args.includes("-h")) {
    io.stdout.write(command.usage);
    return EXIT_OK;
  }
  try {
    return await command.run(args, io);
  } catch (err) {
    return renderError(err, io.stderr);
  }
}
