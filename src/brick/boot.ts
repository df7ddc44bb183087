/**
 * Starting a brick from its volfile: the top volume must be protocol/server; its single
 * subvolume is the export (clients name it in remote-subvolume) and everything below it
 * is the brick graph. Server options come from the protocol/server volume as glusterd
 * writes them.
 */
import type { AddressInfo } from 'node:net';
import {
  Graph,
  GraphError,
  parseVolfile,
  topVolume,
  type TranslatorRegistry,
  type VolumeDecl,
} from '../xlator/index.js';
import { BrickServer } from './server.js';

export interface BootedBrick {
  server: BrickServer;
  graph: Graph;
  exportName: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

export interface ServerSettings {
  host: string;
  port: number;
  exportName: string;
  allow: string[];
  logins: Map<string, string>;
}

export function serverSettings(decl: VolumeDecl): ServerSettings {
  if (decl.type !== 'protocol/server') {
    throw new GraphError(`brick volfile: the top volume ${decl.name} is ${decl.type}, not protocol/server`);
  }
  if (decl.subvolumes.length !== 1) {
    throw new GraphError(`brick volfile: protocol/server ${decl.name} needs exactly one subvolume`);
  }
  const exportName = decl.subvolumes[0]!;
  const o = decl.options;
  const port = Number(o.get('transport.socket.listen-port') ?? '0');
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new GraphError(
      `brick volfile: bad transport.socket.listen-port ${o.get('transport.socket.listen-port')}`,
    );
  }
  const list = (v: string | undefined) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const logins = new Map<string, string>();
  for (const user of list(o.get(`auth.login.${exportName}.allow`))) {
    const password = o.get(`auth.login.${user}.password`);
    if (password !== undefined) logins.set(user, password);
  }
  return {
    host: o.get('transport.socket.bind-address') ?? '0.0.0.0',
    port,
    exportName,
    allow: list(o.get(`auth.addr.${exportName}.allow`)).filter((p) => p !== '*'),
    logins,
  };
}

export async function bootBrick(volfileText: string, registry: TranslatorRegistry): Promise<BootedBrick> {
  const volfile = parseVolfile(volfileText);
  const serverDecl = topVolume(volfile);
  const settings = serverSettings(serverDecl);
  const below = { volumes: volfile.volumes.slice(0, -1) };
  if (below.volumes.length === 0 || topVolume(below).name !== settings.exportName) {
    throw new GraphError(
      `brick volfile: ${settings.exportName} must be declared right before ${serverDecl.name}`,
    );
  }
  const graph = await Graph.build(below, registry);
  const posixDecl = below.volumes.find((v) => v.type === 'storage/posix');
  const volumeId = posixDecl?.options.get('volume-id');
  const server = new BrickServer({
    graph,
    exportName: settings.exportName,
    ...(volumeId ? { volumeId } : {}),
    allow: settings.allow,
    logins: settings.logins,
  });
  try {
    const listening = await server.listen(settings.host, settings.port);
    const { port } = listening.address() as AddressInfo;
    return {
      server,
      graph,
      exportName: settings.exportName,
      host: settings.host,
      port,
      async close() {
        await server.close();
        await graph.fini();
      },
    };
  } catch (e) {
    await graph.fini();
    throw e;
  }
}
