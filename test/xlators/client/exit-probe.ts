// Child process for exit.test.ts: builds a one-layer client graph against the port in
// argv, gets it into the state named by argv (a call in flight, a reconnect pending,
// never connected), calls fini and then simply returns. If the translator left a timer
// or a socket behind, this process would not exit on its own.
import { buildClient, lookupRoot } from './helpers.js';

const [mode, port] = process.argv.slice(2) as [string, string];
const b = await buildClient({
  'remote-host': '127.0.0.35',
  'remote-port': Number(port),
  'remote-subvolume': '/fake/brick',
  'transport-type': 'tcp',
  'reconnect-interval-ms': 60_000,
  'reconnect-wait-ms': mode === 'down' || mode === 'never' ? 60_000 : 0,
  'ping-timeout': 30,
});
const pending: Promise<unknown>[] = [];
if (mode !== 'never') {
  await b.graph.ready();
  // up: the fake never answers, so the call is in flight (ping and frame timers armed).
  // down: the fake drops the connection on the first fop; the second call waits.
  pending.push(lookupRoot(b.top).catch((e: Error) => e.message));
  await new Promise((r) => setTimeout(r, 200));
  if (mode === 'down') pending.push(lookupRoot(b.top).catch((e: Error) => e.message));
} else {
  pending.push(lookupRoot(b.top).catch((e: Error) => e.message));
  await new Promise((r) => setTimeout(r, 200));
}
const state = b.xl.state;
await b.graph.fini();
const outcomes = await Promise.all(pending);
const resources = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap' && r !== 'PipeWrap');
console.log(JSON.stringify({ state, outcomes, resources }));
