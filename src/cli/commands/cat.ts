/**
 * `glusterts cat URL`: writes a file of a volume to stdout, 1 MiB at a time with the next
 * block read while the previous one is written (stdout's backpressure is honoured).
 */
import { once } from 'node:events';
import { CommandError, Exit, runCommand, urlArg, withVolume } from './client-command.js';

const BLOCK = 1024 * 1024;

export function cat(args: string[]): Promise<number> {
  return runCommand('cat', async () => {
    if (args.length !== 1) throw new CommandError('usage: glusterts cat URL', Exit.USAGE);
    const url = urlArg('cat', args[0]);
    await withVolume(url, args[0]!, async (vol) => {
      const f = await vol.open(url.path, 'r');
      try {
        let position = 0;
        let next = f.pread(BLOCK, position);
        for (;;) {
          const data = await next;
          if (data.length === 0) break;
          position += data.length;
          next = f.pread(BLOCK, position);
          if (!process.stdout.write(data)) await once(process.stdout, 'drain');
        }
      } finally {
        await f.close();
      }
    });
  });
}
