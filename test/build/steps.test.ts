// Step semantics a Docker user relies on, one build per rule, checked through the store.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import { createServer as createNetServer } from "node:net";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "./support.js";
import { inspectImage, storeWithBusybox } from "../helpers/images.js";
import type { BuildEvent } from "../../src/build/index.js";

let root = "";
let dispose = async () => {};
let context = "";
let server: Server;
let served = "first body\n";
let baseUrl = "";

test.before(async () => {
  ({ root, dispose } = await storeWithBusybox());
  context = await mkdtemp(join(tmpdir(), "bi-steps-"));
  server = createServer((req, res) => {
    if (req.url === "/file.txt") {
      res.writeHead(200, { "last-modified": "Wed, 01 Jan 2025 00:00:00 GMT" });
      res.end(served);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
test.after(async () => {
  server.close();
  await dispose();
  await rm(context, { recursive: true, force: true });
});

async function buildText(dockerfile: string, tag: string, extra: Record<string, unknown> = {}) {
  await writeFile(join(context, "Dockerfile"), dockerfile);
  const events: BuildEvent[] = [];
  const result = await build({ context, root, tags: [tag], onEvent: (e) => events.push(e), ...extra });
  return { result, events };
}

test("ADD <url>: downloaded, 0600, Last-Modified; --checksum checked; keyed on the content", async () => {
  const sum = (s: string) => `sha256:${createHash("sha256").update(s).digest("hex")}`;
  const dockerfile = `FROM busybox:latest\nADD --checksum=${sum(served)} ${baseUrl}/file.txt /dl/\nRUN stat -c '%a %Y' /dl/file.txt > /stat\n`;
  const first = await buildText(dockerfile, "add-url:1");
  await inspectImage(root, "add-url:1", async (stat) => {
    assert.is((await stat("/dl/file.txt"))?.content, "first body\n");
    assert.is((await stat("/stat"))?.content, "600 1735689600\n");
  });
  assert.ok(first.events.some((e) => e.type === "cache" && !e.hit));
  const again = await buildText(dockerfile, "add-url:1");
  assert.ok(again.events.filter((e) => e.type === "cache").every((e) => e.type === "cache" && e.hit), "same content: cached");
  served = "second body\n";
  const err = await buildText(dockerfile, "add-url:1").then(() => undefined, (e: { code?: string }) => e);
  assert.is(err?.code, "ADD_CHECKSUM_MISMATCH");
  const changed = await buildText(`FROM busybox:latest\nADD ${baseUrl}/file.txt /dl/\n`, "add-url:2");
  assert.ok(changed.result.digest.startsWith("sha256:"));
  await inspectImage(root, "add-url:2", async (stat) => assert.is((await stat("/dl/file.txt"))?.content, "second body\n"));
});

test("RUN --mount=type=bind from a stage; rw writes are thrown away", async () => {
  await buildText(
    "FROM busybox:latest AS data\nRUN mkdir /d && echo from-stage > /d/x\n\nFROM busybox:latest\nRUN --mount=type=bind,from=data,source=/d,target=/mnt cat /mnt/x > /got\nRUN --mount=type=bind,from=data,source=/d,target=/mnt,rw echo scribble > /mnt/x && cat /mnt/x > /scribbled\nRUN --mount=type=bind,from=data,source=/d,target=/mnt cat /mnt/x > /after\n",
    "bind-stage:1",
  );
  await inspectImage(root, "bind-stage:1", async (stat) => {
    assert.is((await stat("/got"))?.content, "from-stage\n");
    assert.is((await stat("/scribbled"))?.content, "scribble\n");
    assert.is((await stat("/after"))?.content, "from-stage\n");
    assert.is(await stat("/mnt/x"), undefined);
  });
});

test("USER name with supplementary groups; numeric USER without passwd entry; WORKDIR relative", async () => {
  await buildText(
    "FROM busybox:latest\nUSER app\nRUN id > /tmp/app-id\nUSER 4242:4343\nRUN id -u > /tmp/num-uid && id -g > /tmp/num-gid\nUSER root\nWORKDIR /w\nWORKDIR x/y\nRUN pwd > /pwd\n",
    "users:1",
  );
  await inspectImage(root, "users:1", async (stat) => {
    assert.match((await stat("/tmp/app-id"))?.content ?? "", /^uid=1000\(app\) gid=1000\(app\) groups=.*50\(staff\)/);
    assert.is((await stat("/tmp/num-uid"))?.content, "4242\n");
    assert.is((await stat("/tmp/num-gid"))?.content, "4343\n");
    assert.is((await stat("/pwd"))?.content, "/w/x/y\n");
  });
});

test("ENTRYPOINT drops an inherited CMD but keeps one set in the same stage; SHELL changes RUN; exec form", async () => {
  await buildText('FROM busybox:latest\nCMD ["base-cmd"]\n', "with-cmd:1");
  await buildText('FROM with-cmd:1\nENTRYPOINT ["/bin/echo"]\n', "ep-reset:1");
  await buildText('FROM with-cmd:1\nCMD ["mine"]\nENTRYPOINT ["/bin/echo"]\nSHELL ["/bin/sh", "-xc"]\nRUN echo shell-x 2> /dev/null > /shell-out\nRUN ["/bin/sh", "-c", "echo exec-form > /exec-out"]\n', "ep-keep:1");
  await inspectImage(root, "ep-reset:1", async (_stat, image) => assert.is(image.config.config?.Cmd, undefined));
  await inspectImage(root, "ep-keep:1", async (stat, image) => {
    assert.equal(image.config.config?.Cmd, ["mine"]);
    assert.is((await stat("/shell-out"))?.content, "shell-x\n");
    assert.is((await stat("/exec-out"))?.content, "exec-form\n");
    const run = image.config.history?.find((h) => h.created_by?.includes("shell-x"));
    assert.match(run?.created_by ?? "", /^RUN \/bin\/sh -xc echo shell-x/);
  });
});

test("a step that changes nothing makes no layer; a heredoc with a shebang runs as a script", async () => {
  const { result } = await buildText('FROM busybox:latest\nRUN true\nRUN <<EOF\n#!/bin/sh\necho "script $0" > /script-out\nEOF\n', "no-layer:1");
  await inspectImage(root, "no-layer:1", async (stat, image) => {
    assert.is(image.config.rootfs.diff_ids.length, 2, "busybox + the heredoc step");
    const runTrue = image.config.history?.find((h) => h.created_by?.includes("-c true"));
    assert.is(runTrue?.empty_layer, true);
    assert.is((await stat("/script-out"))?.content, "script /run/heredoc/EOF\n");
  });
  assert.is(result.manifest.layers.length, 2);
});

test("COPY --chmod symbolic changes each file's own mode; heredoc files start at 0644", async () => {
  await writeFile(join(context, "plain.txt"), "p\n");
  await writeFile(join(context, "tool.sh"), "#!/bin/sh\n", { mode: 0o750 });
  await buildText("FROM busybox:latest\nCOPY --chmod=u+x,g-w,o=r plain.txt tool.sh /files/\nCOPY --chmod=go-r <<EOF /files/heredoc\nh\nEOF\n", "chmod:1");
  await inspectImage(root, "chmod:1", async (stat) => {
    assert.is((await stat("/files/plain.txt"))?.mode, 0o744);
    assert.is((await stat("/files/tool.sh"))?.mode, 0o754);
    assert.is((await stat("/files/heredoc"))?.mode, 0o600);
  });
});

test("RUN --mount=type=ssh binds the agent's socket and sets SSH_AUTH_SOCK; a required one that is missing is an error", async () => {
  const dir = await mkdtemp(join(tmpdir(), "bi-ssh-"));
  const agent = createNetServer((socket) => socket.end());
  const socketPath = join(dir, "agent.sock");
  await new Promise<void>((r) => agent.listen(socketPath, r));
  try {
    await buildText('FROM busybox:latest\nRUN --mount=type=ssh test -S "$SSH_AUTH_SOCK" && echo "$SSH_AUTH_SOCK" > /sock-path\n', "ssh:1", { ssh: [{ id: "default", socket: socketPath }] });
    await inspectImage(root, "ssh:1", async (stat) => {
      assert.is((await stat("/sock-path"))?.content, "/run/buildkit/ssh_agent.0\n");
      assert.is(await stat("/run/buildkit"), undefined, "the mountpoint is not in the layer");
    });
    const err = await buildText("FROM busybox:latest\nRUN --mount=type=ssh,id=github,required=true true\n", "ssh:2").then(() => undefined, (e: { code?: string }) => e);
    assert.is(err?.code, "BUILD_SSH_MISSING");
  } finally {
    agent.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test("SOURCE_DATE_EPOCH: the same build on two fresh roots gives the same digest", async () => {
  const dockerfile = "FROM busybox:latest\nCOPY Dockerfile /copied\nRUN echo stable > /f && touch /g\n";
  const a = await buildText(dockerfile, "repro:1", { sourceDateEpoch: 1700000000 });
  const other = await storeWithBusybox("bi-repro-");
  try {
    await writeFile(join(context, "Dockerfile"), dockerfile);
    const b = await build({ context, root: other.root, tags: ["repro:1"], sourceDateEpoch: 1700000000 });
    assert.is(b.digest, a.result.digest);
    assert.is(b.config.created, "2023-11-14T22:13:20.000Z");
  } finally {
    await other.dispose();
  }
});

test.run();
