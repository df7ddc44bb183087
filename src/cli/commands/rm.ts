/**
 * `glusterts rm [-r] URL`: removes a file or symlink; with -r also a directory and
 * everything under it (depth first). A directory without -r fails EISDIR.
 */
import { parseArgs } from 'node:util';
import type { Volume } from '../../client/index.js';
import { CommandError, Exit, describeFailure, runCommand, urlArg, withVolume } from './client-command.js';

async function removeTree(vol: Volume, path: string): Promise<void> {
  const names: { name: string; dir: boolean }[] = [];
  for await (const e of vol.readdir(path)) names.push({ name: e.name, dir: e.isDirectory() });
  for (const { name, dir } of names) {
    const child = `${path.replace(/\/+$/, '')}/${name}`;
    if (dir) await removeTree(vol, child);
    else await vol.unlink(child);
  }
  if (path.replace(/\/+$/, '') !== '') await vol.rmdir(path);
}

export function rm(args: string[]): Promise<number> {
  return runCommand('rm', async () => {
    let parsed;
    try {
      parsed = parseArgs({
        args,
        allowPositionals: true,
        options: { recursive: { type: 'boolean', short: 'r' } },
      });
    } catch (err) {
      throw new CommandError(`${(err as Error).message}\nusage: glusterts rm [-r] URL`, Exit.USAGE);
    }
    const { values, positionals } = parsed;
    if (positionals.length !== 1) throw new CommandError('usage: glusterts rm [-r] URL', Exit.USAGE);
    const text = positionals[0]!;
    const url = urlArg('rm', text);
    await withVolume(url, text, async (vol) => {
      const st = await vol.lstat(url.path);
      if (!st.isDirectory()) return vol.unlink(url.path);
      if (!values.recursive) {
        throw new CommandError(describeFailure({ code: 'EISDIR' }, text) + ' (use -r)');
      }
      await removeTree(vol, url.path);
    });
  });
}
