// A base root filesystem made from Debian's busybox-static: no internet, no registry needed.
import { chmod, mkdir, copyFile, symlink, writeFile } from "node:fs/promises";
import { execFileSync } from "node:child_process";
import { join } from "node:path";

export const BUSYBOX = "/bin/busybox";

/** Fills `dir` with /bin/busybox, one symlink per applet, /etc/passwd, /etc/group and a 1777 /tmp. */
export async function makeBusyboxRoot(dir: string): Promise<void> {
  await mkdir(join(dir, "bin"), { recursive: true });
  await copyFile(BUSYBOX, join(dir, "bin/busybox"));
  await chmod(join(dir, "bin/busybox"), 0o755);
  const applets = execFileSync(BUSYBOX, ["--list-full"], { encoding: "utf8" }).split("\n").filter(Boolean);
  for (const applet of applets) {
    if (applet === "bin/busybox") continue;
    const target = join(dir, applet);
    await mkdir(join(target, ".."), { recursive: true });
    const depth = applet.split("/").length - 1;
    await symlink(`${"../".repeat(depth)}bin/busybox`, target).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "EEXIST") throw err;
    });
  }
  await mkdir(join(dir, "etc"), { recursive: true });
  await writeFile(
    join(dir, "etc/passwd"),
    "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1000:app:/home/app:/bin/sh\n",
  );
  await writeFile(join(dir, "etc/group"), "root:x:0:\nnogroup:x:65534:\napp:x:1000:\nstaff:x:50:app\n");
  await mkdir(join(dir, "tmp"), { recursive: true });
  await chmod(join(dir, "tmp"), 0o1777);
  await mkdir(join(dir, "root"), { recursive: true });
  await chmod(join(dir, "root"), 0o700);
}
