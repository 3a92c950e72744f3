import { suite } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { cleanupStaleSandboxes, runInSandbox, type Runtime } from "../../src/sandbox/index.js";
import { eventually, makeFixture, processesWith, tree, type Overlay } from "./fixture.js";

const child = join(import.meta.dirname, "stale-child.ts");

/** Starts a child process running a sandbox with `sleep marker`, waits for it to run, SIGKILLs the child. */
async function killMidRun(runtime: Runtime, ov: Overlay, stateDir: string, marker: string): Promise<void> {
  const proc = spawn(process.execPath, ["--import", "tsx", child, runtime, ov.rootfs, ov.upper, stateDir, marker], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    proc.stdout.on("data", (c) => String(c).includes("started") && resolve());
    proc.once("exit", () => reject(new Error("child exited before the sandbox ran")));
  });
  proc.kill("SIGKILL");
  await new Promise((r) => proc.once("exit", r));
}

for (const runtime of ["unshare", "runc"] as const) {
  const test = suite<{ fx: Awaited<ReturnType<typeof makeFixture>> }>(`stale sandboxes ${runtime}`);
  test.before(async (ctx) => {
    ctx.fx = await makeFixture();
  });
  test.after(async (ctx) => {
    await ctx.fx.dispose();
  });

  test("after build-image is SIGKILLed mid-run, cleanup leaves no process, state or stub", async (ctx) => {
    const ov = await ctx.fx.overlay();
    const marker = `${Math.floor(Math.random() * 1e6) + 1000}.75`;
    try {
      await killMidRun(runtime, ov, ctx.fx.stateDir, marker);
      assert.equal((await tree(join(ctx.fx.stateDir, "sandboxes"))).length, 1, "the run left its record");
      assert.ok((await tree(ov.upper)).includes("proc"), "the stubs are still there before cleanup");
      // unshare dies with its parent (pdeathsig) and takes the namespace with it; runc's container needs the cleanup.
      if (runtime === "unshare") assert.ok(await eventually(async () => (await processesWith(`sleep ${marker}`)).length === 0), "pdeathsig did not fire");
      await cleanupStaleSandboxes(ctx.fx.stateDir);
      assert.ok(await eventually(async () => (await processesWith(`sleep ${marker}`)).length === 0), "the sandboxed sleep survived");
      assert.equal(await tree(join(ctx.fx.stateDir, "sandboxes")), []);
      assert.equal(await tree(join(ctx.fx.stateDir, "bundles")), []);
      assert.equal(await tree(ov.upper), []);
      if (runtime !== "unshare") assert.is(execFileSync(runtime, ["--root", join(ctx.fx.stateDir, runtime), "list", "-q"], { encoding: "utf8" }), "");
    } finally {
      await ov.dispose();
    }
  });

  test("cleanup also works after the overlay was unmounted (stubs undone in the upper dir)", async (ctx) => {
    const ov = await ctx.fx.overlay();
    const marker = `${Math.floor(Math.random() * 1e6) + 1000}.125`;
    await killMidRun(runtime, ov, ctx.fx.stateDir, marker);
    if (runtime !== "unshare") execFileSync(runtime, ["--root", join(ctx.fx.stateDir, runtime), "kill", (await tree(join(ctx.fx.stateDir, "sandboxes")))[0]!.replace(/\.json$/, ""), "KILL"]);
    assert.ok(await eventually(async () => (await processesWith(`sleep ${marker}`)).length === 0));
    await ov.dispose();
    await cleanupStaleSandboxes(ctx.fx.stateDir);
    assert.equal(await tree(ov.upper), []);
    assert.equal(await tree(join(ctx.fx.stateDir, "sandboxes")), []);
  });

  test("cleanup leaves the runs of live processes alone", async (ctx) => {
    const ov = await ctx.fx.overlay();
    try {
      let out = "";
      const running = runInSandbox(
        { rootfs: ov.rootfs, upperdir: ov.upper, args: ["sh", "-c", "sleep 0.5; echo done"], env: [], cwd: "/", user: { uid: 0, gid: 0 }, network: "none", onStdout: (c) => (out += c) },
        { runtime, stateDir: ctx.fx.stateDir },
      );
      await new Promise((r) => setTimeout(r, 200));
      await cleanupStaleSandboxes(ctx.fx.stateDir);
      assert.is((await running).exitCode, 0);
      assert.is(out, "done\n");
      assert.equal(await tree(ov.upper), []);
    } finally {
      await ov.dispose();
    }
  });

  test.run();
}
