#!/usr/bin/env bash
# Regenerates the golden wire fixtures in test/fixtures/wire/ from real GlusterFS 10.3 traffic.
# Needs root and: glusterfs-server glusterfs-client qemu-utils qemu-block-extra fio tshark attr.
# Everything runs on loopback (127.0.0.2); the private glusterd lives in its own mount
# namespace (see docs/fixtures.md). The node driver stops every process it starts, by PID.
# Usage: npm run fixtures [-- --only qemu-io-raw,fuse] [-- --keep-pcaps DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then echo "capture-fixtures: must run as root" >&2; exit 1; fi
for p in glusterd glusterfsd gluster glusterfs qemu-img qemu-io fio dumpcap tshark setfattr unshare nsenter; do
  command -v "$p" >/dev/null || { echo "capture-fixtures: $p missing (apt-get install glusterfs-server glusterfs-client qemu-utils qemu-block-extra fio tshark attr)" >&2; exit 1; }
done
# tsc emits even when unrelated files have type errors; the driver only needs its own files.
npx tsc -p tsconfig.json || echo "capture-fixtures: tsc reported errors (continuing with emitted JS)" >&2
exec node dist/scripts/capture-fixtures.js "$@"
