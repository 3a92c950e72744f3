// Per-run overhead of each sandbox backend: median ms of runInSandbox(`true`) over N runs on a fresh
// busybox overlay each time (the mount itself is not timed), beside the floor of a bare
// `unshare --mount --pid --fork … /bin/true` spawned from Node.
// Run: node --import tsx bench/sandbox.ts [runs=20]
import { execFileSync, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { runInSandbox, type Runtime } from "../src/sandbox/index.js";
import { makeBusyboxRoot } from "../test/helpers/busybox.js";

const runs = Number(process.argv[2] ?? 20);
const dir = await mkdtemp(join(tmpdir(), "bi-bench-sandbox-"));
const lower = join(dir, "lower");
await makeBusyboxRoot(lower);

function stats(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!.toFixed(1);
  return `median ${at(0.5)} ms  p90 ${at(0.9)} ms  min ${s[0]!.toFixed(1)} ms  (${s.length} runs)`;
}

async function timeBackend(runtime: Runtime): Promise<number[]> {
  const times: number[] = [];
  for (let i = -2; i < runs; i++) {
    const base = join(dir, `${runtime}${i}`);
    const [upper, work, rootfs] = ["u", "w", "m"].map((s) => join(base, s)) as [string, string, string];
    for (const d of [upper, work, rootfs]) await mkdir(d, { recursive: true });
    execFileSync("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=${lower},upperdir=${upper},workdir=${work}`, rootfs]);
    try {
      const t = performance.now();
      const r = await runInSandbox({ rootfs, upperdir: upper, args: ["true"], env: [], cwd: "/", user: { uid: 0, gid: 0 }, network: "none" }, { runtime, stateDir: join(dir, "state") });
      if (r.exitCode !== 0) throw new Error(`${runtime}: exit ${r.exitCode}`);
      if (i >= 0) times.push(performance.now() - t);
    } finally {
      execFileSync("umount", [rootfs]);
    }
  }
  return times;
}

async function timeBareUnshare(): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await new Promise((r) => spawn("unshare", ["--mount", "--pid", "--fork", "--ipc", "--uts", "--net", "--kill-child", "/bin/true"], { stdio: "ignore" }).once("close", r));
    times.push(performance.now() - t);
  }
  return times;
}

try {
  console.log(`bare unshare  ${stats(await timeBareUnshare())}`);
  for (const runtime of ["unshare", "runc"] as const) console.log(`${runtime.padEnd(12)}  ${stats(await timeBackend(runtime))}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
