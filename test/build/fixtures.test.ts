// Every project in fixtures/projects built end to end, with both sandbox backends, each image checked
// through the store: files, modes, owners, config fields, history; and its CMD run through the sandbox.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build, runImage, type BuildEvent, type BuildOptions } from "../../src/build/index.js";
import { inspectImage, storeWithBusybox } from "../helpers/images.js";

const fixtures = join(process.cwd(), "fixtures/projects");

for (const runtime of ["unshare", "runc"] as const) {
  const test = suite(`fixtures (${runtime})`);
  let root = "";
  let dispose = async () => {};

  async function buildFixture(name: string, options: Partial<BuildOptions> = {}) {
    const events: BuildEvent[] = [];
    const result = await build({ context: join(fixtures, name), root, runtime, tags: [`${name}:latest`], onEvent: (e) => events.push(e), ...options });
    return { result, events };
  }

  async function runOutput(image: string, command: string[] = []): Promise<{ code: number; out: string }> {
    let out = "";
    const code = await runImage({ image, command, root, runtime, onStdout: (c) => (out += c.toString()), onStderr: (c) => (out += c.toString()) });
    return { code, out };
  }

  test.before(async () => {
    ({ root, dispose } = await storeWithBusybox());
  });
  test.after(async () => dispose());

  test("multi-stage: the runtime stage keeps only the builder's output, and its CMD runs", async () => {
    const { result } = await buildFixture("multi-stage");
    const source = await readFile(join(fixtures, "multi-stage/src/greet.sh"));
    await inspectImage(root, "multi-stage:latest", async (stat, image) => {
      const greet = await stat("/usr/local/bin/greet");
      assert.is(greet?.mode, 0o755);
      assert.ok(greet?.content?.startsWith("#!/bin/sh\n"));
      assert.is((await stat("/usr/local/SOURCE_SHA256"))?.content, `${createHash("sha256").update(source).digest("hex")}\n`);
      assert.is((await stat("/usr/local/BUILD_INFO"))?.content, "built on Linux\n");
      assert.is(await stat("/src"), undefined, "the builder's WORKDIR is not in the runtime image");
      assert.is(image.config.config?.User, "app");
      assert.is(image.config.config?.WorkingDir, "/home/app");
      assert.equal(image.config.config?.Cmd, ["/usr/local/bin/greet", "world"]);
      assert.ok(image.config.config?.Env?.includes("GREETING=hello"));
      assert.is(image.config.config?.Labels?.["org.opencontainers.image.title"], "greet");
      assert.is(image.configDigest, result.imageId);
      const history = image.config.history ?? [];
      assert.is(history.filter((h) => !h.empty_layer).length, image.config.rootfs.diff_ids.length);
      assert.ok(history.some((h) => h.created_by?.startsWith("COPY --from=builder /out/ /usr/local/")));
    });
    const run = await runOutput("multi-stage:latest");
    assert.is(run.code, 0);
    assert.is(run.out, "hello, world! (user app)\n");
  });

  test("shell-app: USER, --chown with names from the image, --chmod", async () => {
    await buildFixture("shell-app");
    await inspectImage(root, "shell-app:latest", async (stat, image) => {
      const index = await stat("/srv/app/index.txt");
      assert.equal([index?.uid, index?.gid], [2000, 2000]);
      assert.is((await stat("/srv/run.sh"))?.mode, 0o750);
      assert.match((await stat("/srv/app/whoami"))?.content ?? "", /^uid=2000\(web\) gid=2000\(web\)/);
      const made = await stat("/srv/app/made-by-web");
      assert.equal([made?.uid, made?.gid], [2000, 2000]);
      assert.is(image.config.config?.User, "web");
    });
    const run = await runOutput("shell-app:latest");
    assert.is(run.out, "serving shell-app index as web\n");
  });

  test("heredocs: RUN scripts, quoted bodies, COPY heredoc files, heredocs handed to the shell", async () => {
    await buildFixture("heredocs");
    await inspectImage(root, "heredocs:latest", async (stat) => {
      assert.is((await stat("/a.txt"))?.content, "first line\nname is heredoc\n");
      assert.is((await stat("/b.txt"))?.content, "literal ${NAME}\n");
      assert.is((await stat("/etc/app.conf"))?.content, "name=heredoc\n");
      assert.is((await stat("/files/ONE"))?.content, "one\n");
      assert.is((await stat("/files/TWO"))?.content, "two\n");
      assert.is((await stat("/c.txt"))?.content, "from-a\nfrom-b\n");
    });
  });

  test("cache-mount: the cache dir persists between builds and stays out of the layer", async () => {
    await buildFixture("cache-mount", { buildArgs: { RUN_ID: "1" } });
    await buildFixture("cache-mount", { buildArgs: { RUN_ID: "2" } });
    await inspectImage(root, "cache-mount:latest", async (stat) => {
      assert.is((await stat("/runs-seen"))?.content?.trim(), "2");
      assert.is((await stat("/cache-listing"))?.content, "runs\n");
      assert.is(await stat("/var/cache/counter/runs"), undefined);
    });
  });

  test("add-tarball: ADD extracts local archives (gzip, xz), COPY does not", async () => {
    await buildFixture("add-tarball");
    await inspectImage(root, "add-tarball:latest", async (stat) => {
      assert.is((await stat("/opt/pkg/README"))?.content, "packaged tool\n");
      assert.is((await stat("/opt/pkg/bin/tool"))?.mode, 0o755);
      assert.is((await stat("/opt/xz/pkg/README"))?.content, "packaged tool\n");
      assert.is((await stat("/archives/pkg.tar.gz"))?.kind, "file");
      assert.is((await stat("/tool-output"))?.content, "tool v1\n");
    });
  });

  test("dockerignore: ignored files never reach the image; ! re-includes", async () => {
    await buildFixture("dockerignore");
    await inspectImage(root, "dockerignore:latest", async (stat) => {
      const listing = ((await stat("/listing"))?.content ?? "").trim().split("\n");
      assert.equal(listing, ["/ctx/.dockerignore", "/ctx/keep.log", "/ctx/src/main.c"]);
    });
  });

  test("parallel-stages: independent stages overlap; an unused stage never runs", async () => {
    const { events } = await buildFixture("parallel-stages", { jobs: 2 });
    await inspectImage(root, "parallel-stages:latest", async (stat) => {
      assert.is((await stat("/out/both.txt"))?.content, "left\nright\n");
    });
    const stages = new Set(events.flatMap((e) => (e.type === "step-start" ? [e.stage] : [])));
    assert.ok(!stages.has("unused"));
    const span = (stage: string) => {
      const ids = new Set(events.flatMap((e) => (e.type === "step-start" && e.stage === stage ? [e.id] : [])));
      const times = events.filter((e) => (e.type === "step-start" || e.type === "step-end") && ids.has(e.id)).map((e) => e.time);
      return [Math.min(...times), Math.max(...times)] as const;
    };
    const [leftStart, leftEnd] = span("left");
    const [rightStart, rightEnd] = span("right");
    assert.ok(leftStart < rightEnd && rightStart < leftEnd, "left and right ran at the same time");
  });

  test("target: --target builds only what the stage needs", async () => {
    const { events } = await buildFixture("target", { target: "test" });
    assert.ok(!events.some((e) => e.type === "step-start" && e.stage === "release"));
    await inspectImage(root, "target:latest", async (stat) => {
      assert.is((await stat("/test.txt"))?.content, "test\n");
      assert.is((await stat("/base.txt"))?.content, "base\n");
    });
  });

  test("build-args: --build-arg overrides a default; args reach RUN but not the config's Env", async () => {
    await buildFixture("build-args", { buildArgs: { VERSION: "2.5" } });
    await inspectImage(root, "build-args:latest", async (stat, image) => {
      assert.is((await stat("/build.txt"))?.content, "version=2.5 flavor=plain\n");
      const env = image.config.config?.Env ?? [];
      assert.ok(env.includes("APP_VERSION=2.5"));
      assert.ok(!env.some((e) => e.startsWith("FLAVOR=") || e.startsWith("VERSION=")));
      assert.equal(image.config.config?.Labels, { version: "2.5", flavor: "plain" });
      const history = (image.config.history ?? []).map((h) => h.created_by);
      assert.ok(history.includes("ENV APP_VERSION=2.5"), "history shows ENV expanded, as BuildKit");
      assert.ok(history.includes("LABEL version=2.5 flavor=plain"));
      assert.ok(history.some((h) => h?.startsWith("RUN |2 VERSION=2.5 FLAVOR=plain /bin/sh -c echo")), "RUN history names the build args it saw");
    });
  });

  test("metadata: every config field Docker sets", async () => {
    await buildFixture("metadata");
    await inspectImage(root, "metadata:latest", async (stat, image) => {
      const c = image.config.config!;
      assert.is(image.config.author, "someone@example.com");
      assert.ok(c.Env?.includes("A=1") && c.Env?.includes("B=two words") && c.Env?.includes("LEGACY=legacy value"));
      assert.equal(c.Labels, { "com.example.a": "x", "com.example.b": "y" });
      assert.equal(Object.keys(c.ExposedPorts ?? {}).sort(), ["443/tcp", "53/udp", "80/tcp", "8000/tcp", "8001/tcp", "8002/tcp"]);
      assert.equal(Object.keys(c.Volumes ?? {}).sort(), ["/data", "/logs"]);
      assert.is(c.WorkingDir, "/app/sub");
      assert.is(c.StopSignal, "SIGTERM");
      assert.equal(c.Healthcheck, { Test: ["CMD-SHELL", "wget -q -O- http://localhost/ || exit 1"], Interval: 30e9, Timeout: 5e9, Retries: 2 });
      assert.equal(c.Shell, ["/bin/sh", "-ec"]);
      assert.equal(c.Entrypoint, ["/bin/echo"]);
      assert.equal(c.Cmd, ["hello", "metadata"]);
      assert.equal(c.OnBuild, ["RUN echo triggered"]);
      assert.is((await stat("/pwd.txt"))?.content, "/app/sub\n");
    });
    const run = await runOutput("metadata:latest");
    assert.is(run.out, "hello metadata\n");
  });

  test("secrets: a secret reaches RUN but no layer, log or config", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bi-secret-"));
    try {
      await writeFile(join(dir, "token"), "s3cr3t-value");
      const logs: string[] = [];
      const { result } = await buildFixture("secrets", {
        secrets: [{ id: "token", src: join(dir, "token") }, { id: "api", env: "API_KEY_FOR_TEST" }],
        env: { ...process.env, API_KEY_FOR_TEST: "abcdef" },
        onEvent: (e) => logs.push(JSON.stringify(e)),
      });
      await inspectImage(root, "secrets:latest", async (stat) => {
        assert.is((await stat("/token-length"))?.content?.trim(), "12");
        assert.is((await stat("/api-length"))?.content?.trim(), "6");
        assert.is(await stat("/run/secrets/token"), undefined);
      });
      assert.ok(!logs.join("\n").includes("s3cr3t-value"));
      assert.ok(!JSON.stringify(result.config).includes("s3cr3t-value"));
      const { gunzipSync } = await import("node:zlib");
      for (const layer of result.manifest.layers.slice(1)) {
        const tar = gunzipSync(await readFile(join(root, "blobs/sha256", layer.digest.slice(7))));
        assert.ok(!tar.includes("s3cr3t-value") && !tar.includes("abcdef"), "no secret in a layer");
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("bind-mount: context binds, tmpfs, --network=none", async () => {
    await buildFixture("bind-mount");
    await inspectImage(root, "bind-mount:latest", async (stat) => {
      assert.is((await stat("/copied.txt"))?.content, "bound data\n");
      assert.is((await stat("/tmpfs-listing"))?.content, "x\n");
      assert.is((await stat("/links"))?.content, "lo\n");
      assert.is(await stat("/scratch/x"), undefined);
      assert.is(await stat("/src/data.txt"), undefined);
    });
  });

  test("scratch-static: FROM scratch with COPY --from an image", async () => {
    await buildFixture("scratch-static");
    await inspectImage(root, "scratch-static:latest", async (stat, image) => {
      assert.is((await stat("/bin/busybox"))?.mode, 0o755);
      assert.is(image.config.rootfs.diff_ids.length, 2);
    });
    const run = await runOutput("scratch-static:latest");
    assert.is(run.out, "hello from scratch\n");
  });

  test("onbuild: the base's triggers run in the child build, and the child does not carry them", async () => {
    await buildFixture("onbuild-base");
    await buildFixture("onbuild-child");
    await inspectImage(root, "onbuild-child:latest", async (stat, image) => {
      assert.is((await stat("/both.txt"))?.content, "child message\nonbuild ran\n");
      assert.is(image.config.config?.OnBuild, undefined);
    });
  });

  test.run();
}
