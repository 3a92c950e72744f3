// crun runs the shared suite where it works. On hosts with a mixed cgroup v1/v2 setup (this CI's kind)
// crun refuses to start any container; then this file checks that the refusal is a clear setup error.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runInSandbox } from "../../src/sandbox/index.js";
import { makeFixture, tree } from "./fixture.js";
import { sandboxSuite } from "./suite.js";

const fx = await makeFixture();
const ov = await fx.overlay();
const probe = await runInSandbox({ rootfs: ov.rootfs, upperdir: ov.upper, args: ["true"], env: [], cwd: "/", user: { uid: 0, gid: 0 }, network: "none" }, { runtime: "crun", stateDir: fx.stateDir }).catch((e: Error) => e);
const upperAfterProbe = await tree(ov.upper);
await ov.dispose();
await fx.dispose();

if (probe instanceof Error) {
  test("crun's refusal on this host is SANDBOX_SETUP_FAILED with crun's reason, and leaves nothing", () => {
    process.stdout.write(`  note: crun does not work on this host: ${probe.message}\n`);
    assert.is((probe as Error & { code?: string }).code, "SANDBOX_SETUP_FAILED");
    assert.match(probe.message, /^crun could not run the container: .+/);
    assert.equal(upperAfterProbe, []);
  });
  test.run();
} else {
  sandboxSuite("crun").run();
}
