// One suite for every backend: the same cases run for runc, unshare (and crun where it works).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { lstat, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runInSandbox, type RunSpec, type Runtime } from "../../src/sandbox/index.js";
import { eventually, makeFixture, processesWith, tree, type Overlay } from "./fixture.js";

type Fixture = Awaited<ReturnType<typeof makeFixture>>;

export function sandboxSuite(runtime: Runtime) {
  const test = suite<{ fx: Fixture }>(`sandbox ${runtime}`);
  test.before(async (ctx) => {
    ctx.fx = await makeFixture();
  });
  test.after(async (ctx) => {
    await ctx.fx.dispose();
  });

  /** Runs in a fresh overlay, collecting output; `check` sees the result and the overlay before unmount. */
  async function run(ctx: { fx: Fixture }, spec: Partial<RunSpec>, check: (r: Awaited<ReturnType<typeof runInSandbox>> & { out: string; err: string }, ov: Overlay) => Promise<void> | void) {
    const ov = await ctx.fx.overlay();
    try {
      let out = "";
      let err = "";
      const result = await runInSandbox(
        {
          rootfs: ov.rootfs,
          upperdir: ov.upper,
          args: ["/bin/true"],
          env: [],
          cwd: "/",
          user: { uid: 0, gid: 0 },
          network: "none",
          onStdout: (c) => (out += c),
          onStderr: (c) => (err += c),
          ...spec,
        },
        { runtime, stateDir: ctx.fx.stateDir },
      );
      await check({ ...result, out, err }, ov);
    } finally {
      await ov.dispose();
    }
  }

  test("RUN true leaves an empty upper dir and no state", async (ctx) => {
    await run(ctx, { args: ["true"] }, async (r, ov) => {
      assert.is(r.exitCode, 0);
      assert.equal(await tree(ov.upper), []);
      assert.equal(await tree(join(ctx.fx.stateDir, "sandboxes")), []);
    });
  });

  test("the lower dir is untouched and the merged root has no stub left", async (ctx) => {
    await run(ctx, { args: ["true"] }, async (_r, ov) => {
      for (const p of ["proc", "dev", "sys", "etc/resolv.conf", "etc/hosts"]) {
        assert.is(await lstat(join(ov.rootfs, p)).catch(() => undefined), undefined, p);
        assert.is(await lstat(join(ctx.fx.lower, p)).catch(() => undefined), undefined, p);
      }
    });
  });

  test("stdout and stderr stream while the process runs", async (ctx) => {
    const seen: { text: string; at: number }[] = [];
    const start = Date.now();
    await run(ctx, { args: ["sh", "-c", "echo one; echo oops >&2; sleep 0.5; echo two"], onStdout: (c) => seen.push({ text: String(c), at: Date.now() - start }) }, (r) => {
      assert.is(r.exitCode, 0);
      assert.is(seen.map((s) => s.text).join(""), "one\ntwo\n");
      assert.ok(seen[0]!.at < r.durationMs - 300, `first chunk at ${seen[0]!.at} ms of ${r.durationMs} ms`);
      assert.is(r.err, "oops\n");
    });
  });

  test("exit codes come back; a missing command is 127, a non-executable one 126", async (ctx) => {
    await run(ctx, { args: ["sh", "-c", "exit 3"] }, (r) => assert.is(r.exitCode, 3));
    await run(ctx, { args: ["false"] }, (r) => assert.is(r.exitCode, 1));
    await run(ctx, { args: ["no-such-command"] }, (r) => {
      assert.is(r.exitCode, 127);
      assert.match(r.err, /no-such-command/);
    });
    await run(ctx, { args: ["/etc/passwd"] }, (r) => {
      assert.is(r.exitCode, 126);
      assert.match(r.err, /passwd/);
    });
  });

  test("env is exactly the spec's, plus Docker's PATH and HOME", async (ctx) => {
    await run(ctx, { args: ["env"], env: ["FOO=bar baz", "EMPTY="] }, (r) => {
      const env = r.out.trim().split("\n").filter((l) => !/^(SHLVL|PWD|_)=/.test(l)).sort();
      assert.equal(env, ["EMPTY=", "FOO=bar baz", "HOME=/root", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]);
    });
    await run(ctx, { args: ["sh", "-c", 'echo "$PATH $HOME"'], env: ["PATH=/bin", "HOME=/tmp"] }, (r) => assert.is(r.out, "/bin /tmp\n"));
  });

  test("cwd is created (root, 0755) and used", async (ctx) => {
    await run(ctx, { args: ["pwd"], cwd: "/work/a/b" }, async (r, ov) => {
      assert.is(r.out, "/work/a/b\n");
      assert.equal(await tree(ov.upper), ["work", "work/a", "work/a/b"]);
      const st = await lstat(join(ov.upper, "work/a/b"));
      assert.is(st.mode & 0o7777, 0o755);
      assert.is(st.uid, 0);
    });
  });

  test("user: uid, gid and exactly the supplementary groups", async (ctx) => {
    const script = "id -u; id -g; grep Groups /proc/self/status; touch /tmp/mine";
    await run(ctx, { args: ["sh", "-c", script], user: { uid: 1000, gid: 1000, additionalGids: [50, 7] } }, async (r, ov) => {
      assert.is(r.out, "1000\n1000\nGroups:\t7 50 \n");
      const st = await lstat(join(ov.upper, "tmp/mine"));
      assert.equal([st.uid, st.gid], [1000, 1000]);
    });
    await run(ctx, { args: ["sh", "-c", "grep -E '^(Groups|CapEff)' /proc/self/status"], user: { uid: 1000, gid: 1000 } }, (r) => {
      assert.is(r.out, "Groups:\t \nCapEff:\t0000000000000000\n");
    });
  });

  test("root gets Docker's default capabilities, nothing more", async (ctx) => {
    await run(ctx, { args: ["sh", "-c", "grep -E '^Cap(Eff|Bnd)' /proc/self/status"] }, (r) => {
      assert.is(r.out, "CapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\n");
    });
  });

  test("network none has only lo (up); host sees the host's interfaces", async (ctx) => {
    const ifaces = (text: string) => text.split("\n").slice(2).map((l) => l.split(":")[0]!.trim()).filter(Boolean).sort();
    const hostIfaces = ifaces(await readFile("/proc/net/dev", "utf8"));
    await run(ctx, { args: ["cat", "/proc/net/dev"], network: "none" }, (r) => assert.equal(ifaces(r.out), ["lo"]));
    await run(ctx, { args: ["ping", "-c", "1", "-W", "1", "127.0.0.1"], network: "none" }, (r) => assert.is(r.exitCode, 0, r.out + r.err));
    await run(ctx, { args: ["cat", "/proc/net/dev"], network: "host" }, (r) => assert.equal(ifaces(r.out), hostIfaces));
  });

  test("hostname, pid 1, /proc and /dev/null work", async (ctx) => {
    const script = "hostname; echo $$; cat /proc/1/cmdline | tr '\\0' ' '; echo; echo gone > /dev/null; head -c 3 /dev/zero | wc -c; ls /dev/pts/ptmx";
    await run(ctx, { args: ["sh", "-c", script], hostname: "builder7" }, (r) => {
      assert.is(r.out, "builder7\n1\nsh -c " + script + " \n3\n/dev/pts/ptmx\n");
    });
  });

  test("/etc/resolv.conf and /etc/hosts are the host's, read-only", async (ctx) => {
    const hosts = await readFile("/etc/hosts", "utf8");
    await run(ctx, { args: ["sh", "-c", "cat /etc/hosts; echo x >> /etc/hosts || echo refused"] }, async (r, ov) => {
      assert.is(r.out, `${hosts}refused\n`);
      assert.equal(await tree(ov.upper), []);
    });
  });

  test("a file written by the process lands in the upper dir", async (ctx) => {
    await run(ctx, { args: ["sh", "-c", "echo hi > /etc/new; mkdir -p /opt/x"] }, async (_r, ov) => {
      assert.equal(await tree(ov.upper), ["etc", "etc/new", "opt", "opt/x"]);
      assert.is(await readFile(join(ov.upper, "etc/new"), "utf8"), "hi\n");
    });
  });

  test("an image's own /etc/hosts is covered, not changed", async (ctx) => {
    const ov = await ctx.fx.overlay();
    try {
      await writeFile(join(ov.rootfs, "etc/hosts"), "10.0.0.1 image-host\n");
      const before = await tree(ov.upper);
      let out = "";
      await runInSandbox(
        { rootfs: ov.rootfs, upperdir: ov.upper, args: ["cat", "/etc/hosts"], env: [], cwd: "/", user: { uid: 0, gid: 0 }, network: "none", onStdout: (c) => (out += c) },
        { runtime, stateDir: ctx.fx.stateDir },
      );
      assert.is(out, await readFile("/etc/hosts", "utf8"));
      assert.equal(await tree(ov.upper), before);
      assert.is(await readFile(join(ov.rootfs, "etc/hosts"), "utf8"), "10.0.0.1 image-host\n");
    } finally {
      await ov.dispose();
    }
  });

  test("changes the process makes to a stub's parent directory are kept", async (ctx) => {
    await run(ctx, { args: ["chmod", "700", "/etc"] }, async (_r, ov) => {
      assert.equal(await tree(ov.upper), ["etc"]);
      assert.is((await lstat(join(ov.upper, "etc"))).mode & 0o7777, 0o700);
    });
    await run(ctx, { args: ["sh", "-c", "touch /etc/tmpfile && rm /etc/tmpfile"] }, async (_r, ov) => {
      assert.equal(await tree(ov.upper), ["etc"], "the directory changed (mtime), as Docker would record it");
    });
    const mounts = [{ type: "tmpfs" as const, target: "/root/.cache/tool" }];
    await run(ctx, { args: ["sh", "-c", "echo x > /etc/added"], mounts }, async (_r, ov) => {
      assert.equal(await tree(ov.upper), ["etc", "etc/added"], "/root, copied up only for the stub, is still pruned");
    });
  });

  test("device nodes can be made (for the layer); a disk's cannot be opened", async (ctx) => {
    // runc's devices cgroup allows Docker's list (null, zero, …) and refuses the rest; the unshare
    // backend has no cgroup and refuses every node the process makes (nodev mounts).
    const script = "mknod /tmp/nul c 1 3 && mknod /tmp/disk b 7 0 && echo made; (echo x > /tmp/nul) 2>/dev/null && echo null-ok; (: < /tmp/disk) 2>/dev/null || echo disk-refused";
    await run(ctx, { args: ["sh", "-c", script] }, async (r, ov) => {
      assert.is(r.out, runtime === "unshare" ? "made\ndisk-refused\n" : "made\nnull-ok\ndisk-refused\n");
      assert.ok((await lstat(join(ov.upper, "tmp/nul"))).isCharacterDevice());
      assert.ok((await lstat(join(ov.upper, "tmp/disk"))).isBlockDevice());
    });
  });

  test("stdin is empty (a read gets end of file at once); only fds 0-2 are inherited", async (ctx) => {
    // fd 3 is ls's own handle on the directory it lists.
    await run(ctx, { args: ["sh", "-c", "cat; echo ok; exec ls /proc/self/fd"], timeoutMs: 5000 }, (r) => assert.is(r.out, "ok\n0\n1\n2\n3\n"));
  });

  test("bind mounts: read-only refuses writes, rw writes through; no stub left", async (ctx) => {
    const src = await mkdtemp(join(tmpdir(), "bi-bind-"));
    try {
      await writeFile(join(src, "in.txt"), "from host\n");
      await writeFile(join(src, "secret"), "s3cret\n");
      const mounts = [
        { type: "bind" as const, source: src, target: "/mnt/ro", readonly: true },
        { type: "bind" as const, source: src, target: "/srv/rw", readonly: false },
        { type: "bind" as const, source: join(src, "secret"), target: "/run/secrets/token", readonly: true },
      ];
      const script = "cat /mnt/ro/in.txt; touch /mnt/ro/x 2>/dev/null || echo ro-refused; echo out > /srv/rw/out.txt; cat /run/secrets/token";
      await run(ctx, { args: ["sh", "-c", script], mounts }, async (r, ov) => {
        assert.is(r.out, "from host\nro-refused\ns3cret\n");
        assert.is(await readFile(join(src, "out.txt"), "utf8"), "out\n");
        assert.equal(await tree(ov.upper), []);
      });
    } finally {
      await rm(src, { recursive: true, force: true });
    }
  });

  test("tmpfs mount (and a mount nested in it) stays out of the layer", async (ctx) => {
    const mounts = [
      { type: "tmpfs" as const, target: "/scratch", size: 1 << 20, mode: 0o700 },
      { type: "tmpfs" as const, target: "/scratch/inner" },
    ];
    await run(ctx, { args: ["sh", "-c", "echo data > /scratch/f; stat -c %a /scratch; grep -c ' /scratch' /proc/mounts"], mounts }, async (r, ov) => {
      assert.is(r.out, "700\n2\n");
      assert.equal(await tree(ov.upper), []);
    });
  });

  test("mount targets through symlinks stay inside the rootfs", async (ctx) => {
    const outside = await mkdtemp(join(tmpdir(), "bi-outside-"));
    const ov = await ctx.fx.overlay();
    try {
      await symlink(outside, join(ov.rootfs, "escape"));
      await symlink("../../../../..", join(ov.rootfs, "up"));
      let out = "";
      await runInSandbox(
        {
          rootfs: ov.rootfs,
          upperdir: ov.upper,
          args: ["sh", "-c", `pwd; grep -c " ${outside}/sub tmpfs" /proc/mounts`],
          env: [],
          cwd: "/up/escape-cwd",
          user: { uid: 0, gid: 0 },
          network: "none",
          mounts: [{ type: "tmpfs", target: "/escape/sub" }],
          onStdout: (c) => (out += c),
        },
        { runtime, stateDir: ctx.fx.stateDir },
      );
      assert.is(out, "/escape-cwd\n1\n");
      assert.equal(await tree(outside), []);
      assert.equal(await tree(ov.upper), ["escape", "escape-cwd", "up"], "only the links made by the test and the cwd; the stub chain is gone");
    } finally {
      await ov.dispose();
      await rm(outside, { recursive: true, force: true });
    }
  });

  test("abort kills the whole tree and rejects", async (ctx) => {
    const marker = `${Math.floor(Math.random() * 1e6) + 1000}.5`;
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 400);
    const started = Date.now();
    const err = await run(ctx, { args: ["sh", "-c", `sleep ${marker} & sleep ${marker}; echo never`], signal: controller.signal }, () => {}).then(
      () => undefined,
      (e: Error) => e,
    );
    assert.is(err?.name, "AbortError");
    assert.ok(Date.now() - started < 5000);
    assert.ok(await eventually(async () => (await processesWith(`sleep ${marker}`)).length === 0), "sleep survived");
    assert.equal(await tree(join(ctx.fx.stateDir, "sandboxes")), []);
  });

  test("timeout kills the whole tree and rejects with SANDBOX_TIMEOUT", async (ctx) => {
    const marker = `${Math.floor(Math.random() * 1e6) + 1000}.25`;
    const err = await run(ctx, { args: ["sh", "-c", `sleep ${marker} & sleep ${marker}`], timeoutMs: 300 }, () => {}).then(
      () => undefined,
      (e: Error & { code?: string }) => e,
    );
    assert.is((err as { code?: string } | undefined)?.code, "SANDBOX_TIMEOUT");
    assert.ok(await eventually(async () => (await processesWith(`sleep ${marker}`)).length === 0), "sleep survived");
  });

  test("the host's mounts are not visible inside", async (ctx) => {
    await run(ctx, { args: ["cat", "/proc/self/mountinfo"] }, (r) => {
      const points = r.out.trim().split("\n").map((l) => l.split(" ")[4]);
      assert.ok(points.every((p) => p === "/" || /^\/(proc|dev|sys|etc)(\/|$)/.test(p!)), points.join(" "));
    });
  });

  test("an already aborted signal rejects before anything is made", async (ctx) => {
    const ov = await ctx.fx.overlay();
    try {
      const err = await runInSandbox(
        { rootfs: ov.rootfs, upperdir: ov.upper, args: ["true"], env: [], cwd: "/new", user: { uid: 0, gid: 0 }, network: "none", signal: AbortSignal.abort() },
        { runtime, stateDir: ctx.fx.stateDir },
      ).then(() => undefined, (e: Error) => e);
      assert.is(err?.name, "AbortError");
      assert.equal(await tree(ov.upper), []);
    } finally {
      await ov.dispose();
    }
  });

  test("a bad spec is a SANDBOX_BAD_SPEC error and leaves nothing", async (ctx) => {
    const ov = await ctx.fx.overlay();
    try {
      for (const spec of [{ cwd: "relative" }, { mounts: [{ type: "tmpfs" as const, target: "/proc/x" }] }, { args: [] }]) {
        const err = await runInSandbox({ rootfs: ov.rootfs, args: ["true"], env: [], cwd: "/", user: { uid: 0, gid: 0 }, network: "none", ...spec }, { runtime, stateDir: ctx.fx.stateDir }).catch((e) => e);
        assert.is(err.code, "SANDBOX_BAD_SPEC", JSON.stringify(spec));
      }
      assert.equal(await tree(ov.upper), []);
    } finally {
      await ov.dispose();
    }
  });

  return test;
}

