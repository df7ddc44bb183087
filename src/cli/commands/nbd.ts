/**
 * The NBD export: serves images on GlusterFS volumes (glusterts or stock) to any NBD
 * client, through the TypeScript client library. Export names are `volume/path`, so
 * `nbd://HOST:10809/vms/a.qcow2` mirrors `gluster://HOST/vms/a.qcow2`. Volumes are
 * connected on first use and kept until the export stops.
 */
import { readFileSync } from 'node:fs';
import { Volume } from '../../client/index.js';
import { GlusterProvider, NbdServer, type NbdTlsOptions } from '../../nbd/index.js';

export const DEFAULT_NBD_PORT = 10809;

export interface NbdExportOptions {
  host: string;
  port: number;
  /** Where volfiles come from (glusterd or glusterts). */
  volfileServer: { host: string; port: number };
  tls?: NbdTlsOptions;
  requireTls?: boolean;
  readOnly?: boolean;
  /** Connect volumes with the trimmed client stack (protocol/client + distribute). */
  trimmed?: boolean;
  /** Volumes to connect at start-up (others on first use); start-up fails if one cannot. */
  volumes?: readonly string[];
  log?: (message: string) => void;
}

export interface NbdExport {
  address: { host: string; port: number };
  close(): Promise<void>;
}

export async function startNbdExport(opts: NbdExportOptions): Promise<NbdExport> {
  // One connection per volume, made when a client first names it; failures are not cached.
  const volumes = new Map<string, Promise<Volume>>();
  const volumeNamed = async (name: string): Promise<Volume | null> => {
    let pending = volumes.get(name);
    if (!pending) {
      pending = Volume.connect({
        volume: name,
        servers: [opts.volfileServer],
        timeoutMs: 15_000,
        ...(opts.trimmed ? { trimmed: true } : {}),
      });
      volumes.set(name, pending);
      pending.catch(() => volumes.delete(name));
    }
    try {
      return await pending;
    } catch (err) {
      opts.log?.(`volume ${name}: ${err instanceof Error ? err.message : String(err)}`);
      return null;
    }
  };
  const server = new NbdServer({
    provider: new GlusterProvider({ volumes: volumeNamed, ...(opts.readOnly ? { readOnly: true } : {}) }),
    ...(opts.tls ? { tls: opts.tls } : {}),
    ...(opts.requireTls ? { requireTls: true } : {}),
    ...(opts.log ? { log: opts.log } : {}),
  });
  const closeVolumes = async () => {
    for (const pending of volumes.values()) {
      const vol = await pending.catch(() => null);
      await vol?.close();
    }
  };
  for (const name of opts.volumes ?? []) {
    if (await volumeNamed(name)) continue;
    await closeVolumes();
    throw new Error(`volume ${name} could not be connected`);
  }
  const bound = await server.listen(opts.port, opts.host);
  return {
    address: { host: opts.host, port: bound.port },
    async close() {
      await server.close();
      await closeVolumes();
    },
  };
}

export function tlsFromFiles(cert?: string, key?: string, ca?: string): NbdTlsOptions | undefined {
  if (!cert && !key) return undefined;
  if (!cert || !key) throw new Error('--tls-cert and --tls-key go together');
  return { cert: readFileSync(cert), key: readFileSync(key), ...(ca ? { ca: readFileSync(ca) } : {}) };
}
