/**
 * `glusterts ls [-l] URL`: a directory's entries sorted by name (one READDIRP stream), or
 * the file itself. `-l` adds mode, links, owner, size and modification time, and symlink
 * targets.
 */
import { parseArgs } from 'node:util';
import type { Stats } from '../../client/index.js';
import { CommandError, Exit, runCommand, urlArg, withVolume } from './client-command.js';
import { modeString } from './stat.js';

function longLine(name: string, st: Stats, target: string | undefined): string {
  const when = st.mtime.toISOString().slice(0, 16).replace('T', ' ');
  return [
    modeString(st.mode),
    String(st.nlink).padStart(3),
    String(st.uid).padStart(5),
    String(st.gid).padStart(5),
    String(st.size).padStart(12),
    when,
    target === undefined ? name : `${name} -> ${target}`,
  ].join(' ');
}

export function ls(args: string[]): Promise<number> {
  return runCommand('ls', async () => {
    let parsed;
    try {
      parsed = parseArgs({
        args,
        allowPositionals: true,
        options: { long: { type: 'boolean', short: 'l' } },
      });
    } catch (err) {
      throw new CommandError(`${(err as Error).message}\nusage: glusterts ls [-l] URL`, Exit.USAGE);
    }
    const { values, positionals } = parsed;
    if (positionals.length !== 1) throw new CommandError('usage: glusterts ls [-l] URL', Exit.USAGE);
    const url = urlArg('ls', positionals[0]);
    await withVolume(url, positionals[0]!, async (vol) => {
      const st = await vol.lstat(url.path);
      const base = url.path.replace(/\/+$/, '');
      if (!st.isDirectory()) {
        const target = st.isSymbolicLink() ? await vol.readlink(url.path) : undefined;
        const name = base.slice(base.lastIndexOf('/') + 1);
        console.log(values.long ? longLine(name, st, target) : name);
        return;
      }
      const entries = [];
      for await (const e of vol.readdir(url.path)) entries.push(e);
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const lines: string[] = [];
      for (const e of entries) {
        if (!values.long) {
          lines.push(e.name);
          continue;
        }
        const target = e.isSymbolicLink() ? await vol.readlink(`${base}/${e.name}`) : undefined;
        lines.push(longLine(e.name, e.stats, target));
      }
      if (lines.length) process.stdout.write(lines.join('\n') + '\n');
    });
  });
}
