// Run by stale.test.ts as a separate build-image-like process, then SIGKILLed mid-run.
import { runInSandbox, type Runtime } from "../../src/sandbox/index.js";

const [runtime, rootfs, upperdir, stateDir, marker] = process.argv.slice(2) as [Runtime, string, string, string, string];
await runInSandbox(
  {
    rootfs,
    upperdir,
    args: ["sh", "-c", `echo started; sleep ${marker}`],
    env: [],
    cwd: "/",
    user: { uid: 0, gid: 0 },
    network: "none",
    mounts: [{ type: "tmpfs", target: "/cache/dir" }],
    onStdout: (c) => process.stdout.write(c),
  },
  { runtime, stateDir },
);
