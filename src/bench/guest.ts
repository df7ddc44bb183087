/**
 * The talk's own setting: fio inside a guest whose virtio disks (cache=none) are on Base
 * (a local raw file), on a stock FUSE mount, on `gluster://` (QEMU's gluster driver) and on
 * `nbd://` (the glusterts NBD export). The guest is built only from Debian packages: the
 * kernel of `linux-image-amd64` and an initramfs holding busybox (`busybox-static`), the
 * virtio modules and the host's fio with its libraries. One boot per repeat runs every
 * disk in turn; results come back over the serial console between markers.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseFioJson, track, type FioResult } from '../peers/index.js';
import { FILES } from './model.js';

/** Loaded in this order: each after what its .modinfo `depends=` names (no depmod in the guest). */
const MODULES = [
  'virtio_ring',
  'virtio',
  'virtio_pci_legacy_dev',
  'virtio_pci_modern_dev',
  'virtio_pci',
  'virtio_blk',
];

export interface GuestImage {
  kernel: string;
  initrd: string;
}

function sh(file: string, args: string[], cwd?: string): string {
  return execFileSync(file, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 << 20,
  });
}

/** Downloads (apt-get download, no install) and unpacks a Debian package into `dir/name`. */
function unpack(cache: string, pkg: string): string {
  const out = join(cache, pkg);
  if (existsSync(join(out, '.done'))) return out;
  mkdirSync(out, { recursive: true });
  const find = () => readdirSync(cache).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  if (!find()) sh('apt-get', ['download', pkg], cache);
  const deb = find();
  if (!deb) throw new Error(`apt-get download ${pkg} left no .deb in ${cache}`);
  sh('dpkg-deb', ['-x', join(cache, deb), out]);
  writeFileSync(join(out, '.done'), '');
  return out;
}

/** The kernel package linux-image-amd64 points at (linux-image-6.1.0-N-amd64). */
function kernelPackage(): string {
  const deps = sh('apt-cache', ['depends', 'linux-image-amd64']);
  const m = /Depends: (linux-image-[\w.+-]+)/.exec(deps);
  if (!m) throw new Error(`cannot find linux-image-amd64's kernel package: ${deps}`);
  return m[1]!;
}

const INIT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in ${MODULES.join(' ')}; do insmod /lib/modules/$m.ko; done
for i in $(seq 50); do [ -b /dev/vda ] && break; sleep 0.1; done
arg() { sed -n "s/.*gbench\\.$1=\\([^ ]*\\).*/\\1/p" /proc/cmdline; }
# disk LABEL: the device whose virtio serial is LABEL.
disk() { for d in /sys/block/vd*; do [ "$(cat $d/serial 2>/dev/null)" = "$1" ] && echo /dev/\${d##*/}; done; }
# gbench.script=1: the disk with serial "script" holds a shell script (zero-padded) to run
# instead of fio; it finds its disks with \`disk LABEL\`.
if [ -n "$(arg script)" ]; then
  for i in $(seq 100); do S=$(disk script); [ -n "$S" ] && break; sleep 0.1; done
  tr -d '\\000' < $S > /tmp/script
  echo GUEST-BEGIN; . /tmp/script; echo "GUEST-END rc=$?"; poweroff -f
fi
BS=$(arg bs); SIZE=$(arg size); RT=$(arg runtime); RWS=$(arg rw | tr , ' ')
echo GUEST-BEGIN
DISKS=$(arg disks | tr , ' '); n=0
for dev in /sys/block/vd*; do
  [ -e "$dev" ] || { echo "GUEST-ERROR no virtio disks"; break; }
  n=$((n + 1)); d=\${dev##*/}; label=$(cat $dev/serial 2>/dev/null)
  # Without a serial, the disks' PCI order is the order they were given on the command line.
  [ -n "$label" ] || label=$(echo $DISKS | cut -d' ' -f$n)
  for rw in $RWS; do
    echo "GUEST-FIO $label $rw"
    fio --name=g --filename=/dev/$d --rw=$rw --bs=$BS --direct=1 --ioengine=psync --numjobs=${FILES} \\
      --size=$SIZE --offset_increment=$SIZE --time_based --runtime=$RT --output-format=json
    echo "GUEST-FIO-END"
  done
done
echo GUEST-END
poweroff -f
`;

/** Builds (or reuses) the guest kernel and initramfs under `cache`. */
export function prepareGuest(cache: string, log: (m: string) => void): GuestImage {
  mkdirSync(cache, { recursive: true });
  const kpkg = kernelPackage();
  log(`guest: kernel ${kpkg}, busybox-static (apt-get download into ${cache})`);
  const k = unpack(cache, kpkg);
  const bb = unpack(cache, 'busybox-static');
  const version = readdirSync(join(k, 'lib', 'modules'))[0]!;
  const kernel = join(k, 'boot', `vmlinuz-${version}`);
  // Named after what goes in, so a changed init script builds a new one.
  const tag = createHash('sha256')
    .update(INIT)
    .update(MODULES.join())
    .update(version)
    .digest('hex')
    .slice(0, 12);
  const initrd = join(cache, `initrd-${tag}.gz`);
  if (existsSync(initrd)) return { kernel, initrd };
  const root = join(cache, 'root');
  rmSync(root, { recursive: true, force: true });
  for (const d of ['bin', 'lib/modules', 'proc', 'sys', 'dev', 'tmp'])
    mkdirSync(join(root, d), { recursive: true });
  copyFileSync(join(bb, 'bin', 'busybox'), join(root, 'bin', 'busybox'));
  const drivers = join(k, 'lib', 'modules', version, 'kernel', 'drivers');
  for (const m of MODULES) {
    const sub = m === 'virtio_blk' ? 'block' : 'virtio';
    copyFileSync(join(drivers, sub, `${m}.ko`), join(root, 'lib', 'modules', `${m}.ko`));
  }
  copyFileSync('/usr/bin/fio', join(root, 'bin', 'fio'));
  for (const lib of sh('ldd', ['/usr/bin/fio']).match(/\/\S+/g) ?? []) {
    mkdirSync(join(root, dirname(lib)), { recursive: true });
    copyFileSync(lib, join(root, lib));
  }
  writeFileSync(join(root, 'init'), INIT, { mode: 0o755 });
  sh('sh', [
    '-c',
    `cd "${root}" && find . | "${join(bb, 'bin', 'busybox')}" cpio -o -H newc 2>/dev/null | gzip -1 > "${initrd}"`,
  ]);
  rmSync(root, { recursive: true, force: true });
  return { kernel, initrd };
}

export interface GuestDisk {
  /** Serial number the guest sees (the row id). */
  label: string;
  /** A local path or a gluster:// / nbd:// URI, raw, at least FILES × size bytes. */
  file: string;
}

export interface GuestRun {
  /** label → rw → fio result. */
  results: Map<string, Map<string, FioResult>>;
  console: string;
  wallMs: number;
}

/** Parses the guest's console: `GUEST-FIO label rw`, fio JSON, `GUEST-FIO-END`. */
export function parseGuestConsole(text: string): Map<string, Map<string, FioResult>> {
  const out = new Map<string, Map<string, FioResult>>();
  const clean = text.replace(/\r/g, '');
  for (const m of clean.matchAll(/GUEST-FIO (\S+) (read|write)\n([\s\S]*?)GUEST-FIO-END/g)) {
    const [, label, rw, body] = m;
    const byRw = out.get(label!) ?? new Map<string, FioResult>();
    byRw.set(rw!, parseFioJson(body!, rw as 'read' | 'write'));
    out.set(label!, byRw);
  }
  return out;
}

export async function runGuest(
  image: GuestImage,
  disks: readonly GuestDisk[],
  opts: { bs: string; size: string; runtime: number; accel: 'kvm' | 'tcg'; memoryMiB?: number },
): Promise<GuestRun> {
  const args = qemuArgs(
    image,
    disks,
    opts.accel,
    opts.memoryMiB ?? 1024,
    `console=ttyS0 quiet panic=-1 gbench.bs=${opts.bs} gbench.size=${opts.size} gbench.runtime=${opts.runtime} gbench.rw=read,write gbench.disks=${disks.map((d) => d.label).join(',')}`,
  );
  const t = track('qemu-system-x86_64', args, { timeoutMs: 3_600_000 });
  const e = await t.exit;
  if (!e.stdout.includes('GUEST-END')) throw new Error(`guest did not finish: ${e.stdout.slice(-2000)}`);
  const err = /GUEST-ERROR (.*)/.exec(e.stdout);
  if (err) throw new Error(`guest: ${err[1]}: ${e.stdout.slice(0, 2000)}`);
  return { results: parseGuestConsole(e.stdout), console: e.stdout, wallMs: e.wallMs };
}

/**
 * Boots the guest with `disks` (labels are their virtio serials) and runs `script` (busybox
 * sh, sourced by init: `disk LABEL` names a disk's device; it must not exit) instead of fio.
 * Resolves the console text between GUEST-BEGIN and GUEST-END; rejects if the script's last
 * command failed or the guest did not finish.
 */
export async function runGuestScript(
  image: GuestImage,
  disks: readonly GuestDisk[],
  script: string,
  opts: { accel: 'kvm' | 'tcg'; scratch: string; memoryMiB?: number; timeoutMs?: number },
): Promise<{ console: string; wallMs: number }> {
  const scriptDisk = join(opts.scratch, 'guest-script.raw');
  const text = Buffer.from(script);
  const padded = Buffer.alloc(Math.ceil((text.length + 1) / 512) * 512);
  text.copy(padded);
  writeFileSync(scriptDisk, padded);
  const all = [...disks, { label: 'script', file: scriptDisk }];
  const args = qemuArgs(
    image,
    all,
    opts.accel,
    opts.memoryMiB ?? 512,
    'console=ttyS0 quiet panic=-1 gbench.script=1',
  );
  let out = '';
  const finished = (text: string) => ((out = text), /GUEST-END rc=\d+/.test(text));
  const t = track('qemu-system-x86_64', args, { timeoutMs: opts.timeoutMs ?? 600_000, done: finished });
  let ms = 0;
  try {
    ms = await t.ioDone;
    // The script synced its disks; QEMU's exit would only add stock libgfapi's ~10 s glfs_fini
    // per gluster:// drive, so it is killed (by PID) once the script is done.
    try {
      process.kill(t.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await t.exit.catch(() => undefined);
  } finally {
    rmSync(scriptDisk, { force: true });
  }
  out = out.replace(/\r/g, '');
  const m = /GUEST-BEGIN\n([\s\S]*)GUEST-END rc=(\d+)/.exec(out);
  if (!m) throw new Error(`guest did not finish: ${out.slice(-2000)}`);
  if (m[2] !== '0') throw new Error(`guest script failed (rc ${m[2]}): ${m[1]!.slice(-2000)}`);
  return { console: m[1]!, wallMs: ms };
}

/** Guest rows: table row id and label; `base` keeps the ratio-to-Base machinery. */
export const GUEST_ROWS = [
  { id: 'base', label: 'Base (guest virtio disk on a local raw file)' },
  { id: 'guest-fuse', label: 'Data drive supplied as a FUSE mount point to QEMU' },
  { id: 'guest-native', label: 'QEMU-GlusterFS native integration (gluster://)' },
  { id: 'guest-nbd', label: 'NBD export, glusterts client library (nbd://)' },
] as const;

/** Writes `name` (bytes long) in `dir` with fio, 1 MiB direct writes. */
export async function layoutImage(dir: string, name: string, bytes: number): Promise<void> {
  // An absolute --filename: fio ignores --directory for a filename given before it.
  const args = ['--name=layout', `--filename=${join(dir, name)}`, '--rw=write', '--bs=1M', `--size=${bytes}`];
  args.push('--direct=1', '--ioengine=psync', '--output-format=json');
  await track('fio', args).exit;
}

/** qemu-system-x86_64's arguments: the guest image booted with `append`, each disk a virtio-blk (cache=none) whose serial is its label. */
function qemuArgs(
  image: GuestImage,
  disks: readonly GuestDisk[],
  accel: 'kvm' | 'tcg',
  memoryMiB: number,
  append: string,
): string[] {
  const args = [
    '-accel',
    accel === 'kvm' ? 'kvm' : 'tcg,thread=multi',
    '-smp',
    '2',
    '-m',
    String(memoryMiB),
    '-nographic',
    '-no-reboot',
    '-nic',
    'none',
    '-kernel',
    image.kernel,
    '-initrd',
    image.initrd,
    '-append',
    append,
  ];
  disks.forEach((d, i) => {
    args.push('-drive', `file=${d.file},format=raw,if=none,id=d${i},cache=none`);
    args.push('-device', `virtio-blk-pci,drive=d${i},serial=${d.label}`);
  });
  return args;
}
