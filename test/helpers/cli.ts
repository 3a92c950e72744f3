// Runs the CLI in this process, as a user would from a shell, with its streams captured.
import { PassThrough, Readable } from "node:stream";
import { main } from "../../src/cli/index.js";

export interface CliResult {
  code: number;
  /** stdout as bytes (`save` writes a tar) and as text. */
  stdoutBytes: Buffer;
  stdout: string;
  stderr: string;
}

export async function runCli(argv: string[], options: { env?: NodeJS.ProcessEnv; stdin?: string | Buffer } = {}): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks: Buffer[] = [];
  let err = "";
  stdout.on("data", (c: Buffer) => chunks.push(c));
  stderr.on("data", (c) => (err += c));
  const code = await main(argv, { stdout, stderr, stdin: Readable.from([options.stdin ?? ""]), env: options.env ?? {} });
  const stdoutBytes = Buffer.concat(chunks);
  return { code, stdoutBytes, stdout: stdoutBytes.toString("utf8"), stderr: err };
}
