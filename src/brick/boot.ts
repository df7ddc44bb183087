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
  parseOptions,
  parseVolfile,
  topVolume,
  type OptionSchema,
  type TranslatorRegistry,
  type VolumeDecl,
} from '../xlator/index.js';
import { BrickServer, type AccessSettings } from './server.js';
import {
  admissionFrom,
  ConfigurationError,
  parseServerOptions,
  type ServerOptionValues,
} from './server-options.js';
import { ANON_ID } from './squash.js';
import { loadTls, TLS_OPTION_NAMES, tlsSettingsFrom, TlsConfigError, type TlsConfig } from '../rpc/tls.js';
import { parseBool } from '../xlator/options.js';

export interface BootedBrick {
  server: BrickServer;
  graph: Graph;
  exportName: string;
  host: string;
  port: number;
  /**
   * Applies a new volfile's protocol/server access options (auth, squash) without a restart,
   * as stock's reconfigure; the rest of the volfile must name the same export. Resolves with
   * the number of clients disconnected because they are no longer admitted.
   */
  reconfigure(volfileText: string): Promise<number>;
  close(): Promise<void>;
}

export interface ServerSettings {
  host: string;
  port: number;
  exportName: string;
  access: AccessSettings;
  /** Transport and limits options, parsed; unknown options refused (server-options.ts). */
  options: ServerOptionValues;
  /** transport.socket.ssl-enabled: every connection is mutual TLS (docs/tls.md). */
  tls?: TlsConfig;
}

/** protocol/server's TLS options (docs/tls.md), which the brick enforces. */
const TLS_KEYS = ['transport.socket.ssl-enabled', ...Object.values(TLS_OPTION_NAMES)];

/**
 * The listener's TLS, as stock's socket transport reads it from protocol/server's options.
 * Files that do not load stop the brick for good (a restart cannot help).
 */
function serverTls(o: ReadonlyMap<string, string>): TlsConfig | undefined {
  const enabled = o.get('transport.socket.ssl-enabled');
  if (enabled === undefined) return undefined;
  const on = parseBool(enabled);
  if (on === undefined)
    throw new ConfigurationError(`brick volfile: bad transport.socket.ssl-enabled ${enabled}`);
  if (!on) return undefined;
  try {
    return loadTls(
      tlsSettingsFrom((k) => o.get(k)),
      'server',
    );
  } catch (err) {
    if (err instanceof TlsConfigError) throw new ConfigurationError(`brick volfile: TLS: ${err.message}`);
    throw err;
  }
}

/** protocol/server's options about access, with stock's names and defaults. */
const SQUASH_SCHEMA = {
  'root-squash': { type: 'bool', default: false, description: 'uid/gid 0 act as anonuid/anongid' },
  'all-squash': { type: 'bool', default: false, description: 'every uid/gid acts as anonuid/anongid' },
  anonuid: { type: 'int', default: ANON_ID, min: 0, max: 2 ** 32 - 1, description: 'the anonymous uid' },
  anongid: { type: 'int', default: ANON_ID, min: 0, max: 2 ** 32 - 1, description: 'the anonymous gid' },
  'strict-auth-accept': {
    type: 'bool',
    default: false,
    description: 'refuse clients that bring no login credentials',
  },
} as const satisfies OptionSchema;

function accessSettings(o: ReadonlyMap<string, string>, exportName: string): AccessSettings {
  const { options } = parseOptions(SQUASH_SCHEMA, o);
  const passwords = new Map<string, string>();
  for (const [key, value] of o) {
    const m = /^auth\.login\.(.+)\.password$/.exec(key);
    if (m) passwords.set(m[1]!, value);
  }
  const allow = o.get(`auth.addr.${exportName}.allow`) ?? o.get(`auth.ip.${exportName}.allow`);
  const reject = o.get(`auth.addr.${exportName}.reject`);
  return {
    auth: {
      // Stock glusterfsd will not start without an auth option; glusterts admits all then.
      allow: allow === undefined && reject === undefined ? '*' : allow,
      reject,
      loginAllow: (o.get(`auth.login.${exportName}.allow`) ?? '').split(/[ ,]+/).filter(Boolean),
      sslAllow: o.get(`auth.login.${exportName}.ssl-allow`)?.split(/[ ,]+/).filter(Boolean),
      passwords,
      strictAuth: options['strict-auth-accept'],
    },
    squash: {
      rootSquash: options['root-squash'],
      allSquash: options['all-squash'],
      anonUid: options.anonuid,
      anonGid: options.anongid,
    },
  };
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
  // Fails closed: any option neither schema knows, nor an auth pattern, stops the brick.
  const options = parseServerOptions(decl.name, o, [...Object.keys(SQUASH_SCHEMA), ...TLS_KEYS]);
  const tls = serverTls(o);
  return {
    host: options['transport.socket.bind-address'],
    port: options['transport.socket.listen-port'],
    exportName,
    access: accessSettings(o, exportName),
    options,
    ...(tls ? { tls } : {}),
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
    access: settings.access,
    admission: admissionFrom(settings.options),
    maxFdsPerSession: settings.options['limits.max-fds-per-session'],
    maxFds: settings.options['limits.max-fds'],
  });
  try {
    const listening = await server.listen(settings.host, settings.port, settings.tls);
    const { port } = listening.address() as AddressInfo;
    return {
      server,
      graph,
      exportName: settings.exportName,
      host: settings.host,
      port,
      reconfigure(text: string) {
        const next = serverSettings(topVolume(parseVolfile(text)));
        if (next.exportName !== settings.exportName)
          throw new GraphError(
            `reconfigure: the volfile exports ${next.exportName}, not ${settings.exportName}`,
          );
        return server.reconfigure(next.access);
      },
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
