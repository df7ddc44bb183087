/**
 * The portmap table: brick path → the port and pid a running brick process signed in with.
 * Only bricks of started volumes may sign in (the caller decides), so the table is bounded
 * by the volumes' brick count whatever peers send.
 */
import { EventEmitter } from 'node:events';

export interface PortmapEntry {
  port: number;
  pid: number;
}

export interface PortmapEvents {
  signin: [brick: string, entry: PortmapEntry];
  signout: [brick: string];
}

export class PortmapTable extends EventEmitter<PortmapEvents> {
  private readonly entries = new Map<string, PortmapEntry>();

  get(brick: string): PortmapEntry | undefined {
    return this.entries.get(brick);
  }

  signin(brick: string, entry: PortmapEntry): void {
    this.entries.set(brick, entry);
    this.emit('signin', brick, entry);
  }

  /** Removes a brick's entry; with `pid`, only if that process signed it in. */
  signout(brick: string, pid?: number): void {
    const e = this.entries.get(brick);
    if (!e || (pid !== undefined && e.pid !== pid)) return;
    this.entries.delete(brick);
    this.emit('signout', brick);
  }

  /** Resolves with the brick's entry once it signs in (at once if it has). */
  waitForSignin(brick: string, timeoutMs: number, signal?: AbortSignal): Promise<PortmapEntry> {
    const now = this.entries.get(brick);
    if (now) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        this.off('signin', onSignin);
        signal?.removeEventListener('abort', onAbort);
      };
      const onSignin = (b: string, e: PortmapEntry) => {
        if (b !== brick) return;
        cleanup();
        resolve(e);
      };
      const onAbort = () => {
        cleanup();
        reject(signal!.reason);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`brick ${brick} did not sign in within ${timeoutMs} ms`));
      }, timeoutMs);
      this.on('signin', onSignin);
      signal?.addEventListener('abort', onAbort);
    });
  }
}
