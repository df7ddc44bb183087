#!/usr/bin/env node
// Builds native/ into build/Release/glusterts_sys.node with node-gyp; run by `npm install`
// and `npm ci` (the "install" script) and by `npm run build:native`.
//
// Offline by design: node-gyp gets Node's headers from a local directory rather than
// downloading them. Order: npm's `nodedir` config (npm passes it as npm_config_nodedir),
// then the prefix of the running node if it ships include/node/node_api.h (Debian/NodeSource
// packages and the official tarballs do). Only if neither exists does node-gyp fall back to
// its own download.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

if (process.platform !== 'linux') {
  console.warn(`glusterts: the native system-call addon is Linux-only; skipped on ${process.platform}`);
  process.exit(0);
}

function nodeGyp() {
  // npm sets npm_config_node_gyp to its bundled node-gyp while running lifecycle scripts.
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
  ];
  for (const candidate of candidates)
    if (candidate && existsSync(candidate)) return [process.execPath, candidate];
  return ['node-gyp'];
}

function headersDir() {
  const configured = process.env.npm_config_nodedir;
  if (configured && existsSync(join(configured, 'include/node/node_api.h'))) return configured;
  const prefix = resolve(dirname(process.execPath), '..');
  if (existsSync(join(prefix, 'include/node/node_api.h'))) return prefix;
  return undefined;
}

const [command, ...prefixArgs] = nodeGyp();
const nodedir = headersDir();
const args = [...prefixArgs, 'rebuild', ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
if (result.error) {
  console.error(`glusterts: could not run node-gyp: ${result.error.message}`);
  process.exit(1);
}
if (result.status !== 0) {
  console.error('glusterts: building the native addon failed (needs g++, make, python3 and Node headers)');
  process.exit(result.status ?? 1);
}
// Keep build products out of git without touching the shared .gitignore.
writeFileSync(join(root, 'build/.gitignore'), '*\n');
