// Runs every test file (test/**/*.test.ts) in its own process, so one file's crash or leaked
// mount cannot hide another's result, and prints one closing line: "N passed, N failed".
// Usage: node test/run.js [substring …]  — only files whose path contains one of the substrings.
import { spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const filters = process.argv.slice(2);
const perFileTimeoutMs = 10 * 60 * 1000;

function findTests(dir) {
  return readdirSync(dir).sort().flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return findTests(path);
    return name.endsWith(".test.ts") ? [path] : [];
  });
}

function runFile(file) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", file], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    });
    let output = "";
    const collect = (chunk) => {
      output += chunk;
      process.stdout.write(chunk);
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    const timer = setTimeout(() => child.kill("SIGKILL"), perFileTimeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const clean = output.replace(/\x1b\[[0-9;]*m/g, "");
      const count = (label) =>
        [...clean.matchAll(new RegExp(`^\\s*${label}:\\s+(\\d+)`, "gm"))].reduce((n, m) => n + Number(m[1]), 0);
      const total = count("Total");
      const passed = count("Passed");
      const skipped = count("Skipped");
      let failed = total - passed - skipped;
      if ((code !== 0 || signal) && failed === 0) failed = 1; // a crash before or after the suites ran
      resolve({ passed, failed, skipped, ok: code === 0 && !signal });
    });
  });
}

const files = findTests(join(root, "test")).filter((f) => filters.length === 0 || filters.some((s) => relative(root, f).includes(s)));
let passed = 0;
let failed = 0;
let skipped = 0;
const failedFiles = [];
for (const file of files) {
  const rel = relative(root, file);
  process.stdout.write(`\n# ${rel}\n`);
  const result = await runFile(file);
  passed += result.passed;
  failed += result.failed;
  skipped += result.skipped;
  if (!result.ok) failedFiles.push(rel);
}
if (failedFiles.length) process.stdout.write(`\nFailed files:\n${failedFiles.map((f) => `  ${f}`).join("\n")}\n`);
if (files.length === 0) {
  process.stdout.write("no test files found\n");
  process.exitCode = 1;
}
process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}\n`);
if (failed > 0 || failedFiles.length) process.exitCode = 1;
