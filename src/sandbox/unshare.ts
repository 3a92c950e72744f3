import { spawn } from "node:child_process";
import type { Readable } from "node:stream";
import { SandboxSetupError } from "./errors.js";
import { findTool } from "./tools.js";
import { DEV_DEVICES, DEV_SYMLINKS, DOCKER_CAPS, MASKED_PATHS, READONLY_PATHS } from "./defaults.js";
import type { Prepared } from "./prepare.js";
import type { Exit } from "./supervise.js";
import { supervise } from "./supervise.js";
import type { RunSpec } from "./types.js";

/**
 * The built-in backend, with nothing to install beyond perl-base (Essential on Debian): one small Perl
 * program, spawned by build-image, sets PR_SET_PDEATHSIG, calls unshare(2) for new mount, pid, ipc, uts
 * (and network) namespaces and forks — as util-linux `unshare --fork --kill-child` does, minus two
 * execs. The child, PID 1 of the new pid namespace and also tied to its parent by PR_SET_PDEATHSIG,
 * applies the mount plan with mount(2), pivots into the rootfs with pivot_root(2) and detaches the host
 * root (so, unlike a chroot, nothing can climb out), sets the hostname, brings `lo` up, drops the
 * capability bounding set to Docker's, sets groups and ids, and execs the target. The parent waits and
 * passes the exit status on. If build-image dies, the parent gets SIGKILL, then PID 1, then the whole
 * namespace. Not done here (the OCI backend does them): cgroups (instead, every writable mount is
 * nodev, so device nodes the process makes cannot be opened), seccomp, AppArmor.
 */

// mount(2) flags.
const RDONLY = 1, NOSUID = 2, NODEV = 4, NOEXEC = 8, REMOUNT = 32, BIND = 4096, REC = 16384, STRICTATIME = 1 << 24;

/** unshare, mount, umount2, pivot_root, prctl, setgroups, setresuid, setresgid, close_range. */
const SYSCALLS: Record<string, number[]> = {
  x64: [272, 165, 166, 155, 157, 116, 117, 119, 436],
  arm64: [97, 40, 39, 41, 167, 159, 147, 149, 436],
};
// CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID, and CLONE_NEWNET.
const NAMESPACES = 0x20000 | 0x4000000 | 0x8000000 | 0x20000000;
const NEWNET = 0x40000000;

/** One step of the plan: [op, a, b, c, flags, data]; see SETUP below. */
type Op = [string, string, string, string, number, string];

// Ops: m = mount(a, b, c, flags, data); r = remount b with flags; d = mkdir b (mode flags);
// f = create empty file b; l = symlink a at b; k = mask b (tmpfs on a dir, /dev/null on a file; skip if
// missing); o = make b read-only (skip if missing). Errors go to fd 3 and exit 125; "R" on fd 3 = ready.
// The target inherits only fds 0-2: everything else is closed (close_range) before the setup.
const SETUP = String.raw`
my ($n_unshare,$n_mount,$n_umount,$n_pivot,$n_prctl,$n_groups,$n_uid,$n_gid,$n_close,$parent,$ns,$root,$cwd,$uid,$gid,$groups,$caps,$host,$lo,$nops)=splice(@ARGV,0,20);
open(my $st,'>&=',3) or exit 125;
sub fail { print $st "$_[0]: $!"; close $st; exit 125 }
sub mnt { my ($s,$t,$y,$f,$d)=@_; syscall($n_mount+0,$s,$t,$y,$f+0,$d)==0 or fail("mount $y on $t") }
syscall($n_prctl+0,1,9,0,0,0)==0 or fail('PR_SET_PDEATHSIG');
getppid()==$parent or exit 125;
syscall($n_unshare+0,$ns+0)==0 or fail('unshare');
my $pid=fork(); defined $pid or fail('fork');
if ($pid) {
  close $st; waitpid($pid,0); my $s=$?;
  if ($s & 127) { kill($s & 127, $$); exit(128 + ($s & 127)) }
  exit($s >> 8);
}
syscall($n_prctl+0,1,9,0,0,0)==0 or fail('PR_SET_PDEATHSIG');
syscall($n_close+0,4,4294967295,0)==0 or fail('close inherited files');
mnt('none','/','',16384|262144,'');
umask 022;
for (1..$nops) {
  my ($k,$a,$b,$c,$f,$d)=splice(@ARGV,0,6);
  if ($k eq 'm') { mnt($a,$b,$c,$f,$d) }
  elsif ($k eq 'r') { mnt('',$b,'',$f,'') }
  elsif ($k eq 'd') { -d $b or (mkdir($b) and chmod($f+0,$b)) or fail("mkdir $b") }
  elsif ($k eq 'f') { open(my $h,'>',$b) or fail("create $b"); close $h }
  elsif ($k eq 'l') { symlink($a,$b) or fail("symlink $b") }
  elsif ($k eq 'k') { if (-d $b) { mnt('tmpfs',$b,'tmpfs',$f,'') } elsif (-e $b) { mnt('/dev/null',$b,'',4096,'') } }
  elsif ($k eq 'o') { if (-e $b) { mnt($b,$b,'',4096|16384,''); mnt('',$b,'',$f,'') } }
}
if ($host ne '') { open(my $h,'>','/proc/sys/kernel/hostname') or fail('sethostname'); print $h $host; close $h or fail('sethostname') }
if ($lo) { socket(my $s,2,2,0) or fail('socket'); my $r=pack('a16 s x22','lo',9); ioctl($s,0x8914,$r) or fail('lo up'); close $s }
open(my $cl,'<','/proc/sys/kernel/cap_last_cap') or fail('cap_last_cap'); my $last=<$cl>; close $cl;
chdir($root) or fail("chdir $root");
my ($d1,$d2)=('.','.');
syscall($n_pivot+0,$d1,$d2)==0 or fail('pivot_root');
syscall($n_umount+0,$d1,2)==0 or fail('detach host root');
chdir('/'); chdir($cwd) or fail("chdir $cwd");
my %keep=map { $_ => 1 } split(/,/,$caps);
for my $c (0..$last) { $keep{$c} or syscall($n_prctl+0,24,$c+0,0,0,0)==0 or fail("drop capability $c") }
my @g=split(/,/,$groups); my $gl=pack('L*',@g);
syscall($n_groups+0,scalar(@g)+0,@g ? $gl : 0)==0 or fail('setgroups');
syscall($n_gid+0,$gid+0,$gid+0,$gid+0)==0 or fail('setresgid');
syscall($n_uid+0,$uid+0,$uid+0,$uid+0)==0 or fail('setresuid');
my $ne=shift @ARGV; %ENV=();
for (1..$ne) { my $kv=shift @ARGV; my $i=index($kv,'='); $ENV{substr($kv,0,$i)}=substr($kv,$i+1) }
print $st 'R'; close $st;
exec { $ARGV[0] } @ARGV;
print STDERR "exec $ARGV[0]: $!\n"; exit($!==13 ? 126 : 127);
`;

export function unsharePlan(p: Prepared): Op[] {
  // Without a devices cgroup, nodev on every writable mount keeps device nodes the process makes
  // (CAP_MKNOD is Docker's default) from being opened: they can be created for the layer, not used.
  const ops: Op[] = [
    ["m", p.rootfs, p.rootfs, "", BIND | REC, ""],
    ["r", "", p.rootfs, "", BIND | REMOUNT | NODEV, ""],
  ];
  const mount = (source: string, target: string, type: string, flags: number, data = "") => ops.push(["m", source, target, type, flags, data]);
  const mkdir = (path: string, mode = 0o755) => ops.push(["d", "", path, "", mode, ""]);
  const readonly = (path: string, flags = 0) => ops.push(["r", "", path, "", BIND | REMOUNT | RDONLY | flags, ""]);
  mount("proc", p.proc, "proc", NOSUID | NODEV | NOEXEC);
  mount("tmpfs", p.dev, "tmpfs", NOSUID | NODEV | STRICTATIME, "mode=755,size=65536k");
  for (const name of DEV_DEVICES) {
    ops.push(["f", "", `${p.dev}/${name}`, "", 0, ""]);
    mount(`/dev/${name}`, `${p.dev}/${name}`, "", BIND);
  }
  for (const [name, target] of DEV_SYMLINKS) ops.push(["l", target, `${p.dev}/${name}`, "", 0, ""]);
  mkdir(`${p.dev}/pts`);
  mount("devpts", `${p.dev}/pts`, "devpts", NOSUID | NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5");
  mkdir(`${p.dev}/shm`, 0o1777);
  mount("shm", `${p.dev}/shm`, "tmpfs", NOSUID | NODEV | NOEXEC, "mode=1777,size=65536k");
  mkdir(`${p.dev}/mqueue`);
  mount("mqueue", `${p.dev}/mqueue`, "mqueue", NOSUID | NODEV | NOEXEC);
  mount("sysfs", p.sys, "sysfs", NOSUID | NODEV | NOEXEC | RDONLY);
  const inRoot = (path: string) => `${path.startsWith("/proc/") ? p.proc : p.sys}${path.slice(path.indexOf("/", 1))}`;
  for (const path of MASKED_PATHS) ops.push(["k", "", inRoot(path), "", RDONLY, ""]);
  for (const path of READONLY_PATHS) ops.push(["o", "", inRoot(path), "", BIND | REMOUNT | RDONLY | NOSUID | NODEV | NOEXEC, ""]);
  for (const f of p.hostFiles) {
    mount(f.source, f.host, "", BIND);
    readonly(f.host, NOSUID | NODEV | NOEXEC);
  }
  for (const m of p.mounts) {
    if (m.createInside === "dir") mkdir(m.host);
    if (m.createInside === "file") ops.push(["f", "", m.host, "", 0, ""]);
    if (m.type === "tmpfs") {
      const data = [`mode=${(m.mode ?? 0o1777).toString(8)}`, ...(m.size === undefined ? [] : [`size=${m.size}`])].join(",");
      mount("tmpfs", m.host, "tmpfs", NOSUID | NODEV, data);
    } else {
      mount(m.source, m.host, "", BIND | REC);
      ops.push(["r", "", m.host, "", BIND | REMOUNT | NODEV | (m.readonly ? RDONLY : 0), ""]);
    }
  }
  return ops;
}

export async function runUnshare(p: Prepared, spec: RunSpec, onStart: (pid: number) => void): Promise<Exit> {
  const syscalls = SYSCALLS[process.arch];
  if (!syscalls) throw new SandboxSetupError(`the unshare backend does not support ${process.arch}`, "install runc and use --runtime runc");
  const perl = await findTool("perl");
  const ops = unsharePlan(p);
  const { uid, gid, additionalGids = [] } = spec.user;
  const namespaces = NAMESPACES | (spec.network === "none" ? NEWNET : 0);
  const args = [
    "-e", SETUP, ...syscalls.map(String), String(process.pid), String(namespaces), p.rootfs, spec.cwd, String(uid), String(gid), additionalGids.join(","),
    DOCKER_CAPS.map(String).join(","), p.hostname, spec.network === "none" ? "1" : "", String(ops.length),
    ...ops.flat().map(String), String(p.env.length), ...p.env, ...spec.args,
  ];
  const child = spawn(perl, args, { stdio: ["ignore", "pipe", "pipe", "pipe"], env: {} });
  let status = "";
  (child.stdio[3] as Readable).on("data", (chunk: Buffer) => (status += chunk.toString()));
  let stderrTail = "";
  const userStderr = spec.onStderr;
  const exit = supervise(child, { ...spec, onStderr: (c) => ((stderrTail = (stderrTail + c.toString()).slice(-2000)), userStderr?.(c)) }, () => {
    child.kill("SIGKILL");
  });
  if (child.pid !== undefined) onStart(child.pid);
  const result = await exit;
  if (!status.startsWith("R")) {
    throw new SandboxSetupError(`the sandbox could not be set up: ${status || stderrTail.trim() || `exit code ${result.exitCode}`}`, "run build-image as root on a kernel with namespaces, or use --runtime runc");
  }
  return result;
}
