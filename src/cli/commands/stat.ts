/** `glusterts stat URL`: a file's attributes, laid out like stat(1), plus its gfid. */
import type { Stats } from '../../client/index.js';
import { CommandError, Exit, runCommand, urlArg, withVolume } from './client-command.js';

export function fileType(st: Stats): string {
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symbolic link';
  if (st.isFile()) return st.size === 0 ? 'regular empty file' : 'regular file';
  return 'other';
}

function time(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const frac = String(ns % 1_000_000_000n).padStart(9, '0');
  return `${new Date(ms).toISOString().replace(/\.\d+Z$/, '')}.${frac}Z`;
}

export function stat(args: string[]): Promise<number> {
  return runCommand('stat', async () => {
    if (args.length !== 1) throw new CommandError('usage: glusterts stat URL', Exit.USAGE);
    const url = urlArg('stat', args[0]);
    await withVolume(url, args[0]!, async (vol) => {
      const st = await vol.lstat(url.path);
      const target = st.isSymbolicLink() ? ` -> ${await vol.readlink(url.path)}` : '';
      console.log(
        [
          `  File: ${url.path}${target}`,
          `  Size: ${st.size}\tBlocks: ${st.blocks}\tIO Block: ${st.blksize}\t${fileType(st)}`,
          `Device: ${st.dev}\tInode: ${st.ino}\tLinks: ${st.nlink}`,
          `Access: (${(st.mode & 0o7777).toString(8).padStart(4, '0')}/${modeString(st.mode)})\tUid: ${st.uid}\tGid: ${st.gid}`,
          `Access: ${time(st.atimeNs)}`,
          `Modify: ${time(st.mtimeNs)}`,
          `Change: ${time(st.ctimeNs)}`,
          `  Gfid: ${st.gfid}`,
        ].join('\n'),
      );
    });
  });
}

/** "drwxr-xr-x" from a full st_mode. */
export function modeString(mode: number): string {
  const fmt = mode & 0o170000;
  const type = fmt === 0o040000 ? 'd' : fmt === 0o120000 ? 'l' : fmt === 0o100000 ? '-' : '?';
  const rwx = (bits: number, special: boolean, ch: string) =>
    (bits & 4 ? 'r' : '-') +
    (bits & 2 ? 'w' : '-') +
    (special ? (bits & 1 ? ch : ch.toUpperCase()) : bits & 1 ? 'x' : '-');
  return (
    type +
    rwx((mode >> 6) & 7, (mode & 0o4000) !== 0, 's') +
    rwx((mode >> 3) & 7, (mode & 0o2000) !== 0, 's') +
    rwx(mode & 7, (mode & 0o1000) !== 0, 't')
  );
}
