/**
 * Stand-ins for stock translators whose absence changes nothing a client can observe on
 * the path stock glusterd puts them, so that volfiles it generates load in glusterts.
 * A stand-in implements no fop. Where a translator is neutral only while an option is
 * off (quota with server-quota off), that option is declared and the stand-in refuses to
 * load when it is on, rather than silently dropping the feature.
 *
 * Checked against the GlusterFS sources (xlators/...). Deliberately NOT stand-ins,
 * because they act even in a default brick graph:
 * - features/selinux: renames security.selinux to trusted.glusterfs.selinux on
 *   setxattr even with `selinux off` (selinux.c tests `!enabled && !dict`).
 * - features/marker: filters trusted.glusterfs.quota.* from xattr listings and handles
 *   the quota-xattr-cleanup setxattr with every feature off.
 * - features/index: keeps the AFR pending/dirty indices under .glusterfs/indices and
 *   answers virtual index gfids; self-heal depends on it.
 * - features/access-control: enforces POSIX permissions and ACLs on the brick
 *   (src/xlators/access-control).
 * - features/trash: creates and protects .trashcan even with trash off.
 * - features/changelog, features/bitrot-stub: on-disk journals and versioning xattrs;
 *   bitrot-stub also fails reads of objects marked bad.
 * - features/utime (client): makes clients send ctime/mtime that bricks apply.
 * - write-behind, read-ahead, open-behind, quick-read, md-cache: caching that changes
 *   when errors and data become visible; implemented separately or not at all.
 */
import { OptionError, type OptionSchema } from '../../xlator/options.js';
import { defineTranslator, type TranslatorType } from '../../xlator/translator.js';
import type { Volfile } from '../../xlator/volfile.js';

export interface PassthroughSpec {
  type: string;
  /** Why leaving it out changes nothing, with the stock source that shows it. */
  why: string;
  /** Boolean options that must be off (absent = stock's default, off) for it to be neutral. */
  mustBeOff?: readonly string[];
  /** Other options stock generates for it, accepted and ignored (they only tune the feature). */
  accepts?: readonly string[];
}

export const STOCK_PASSTHROUGHS: readonly PassthroughSpec[] = [
  {
    type: 'performance/io-threads',
    why: 'runs fops on a thread pool with priorities; no fop or reply is changed (io-threads.c)',
  },
  {
    type: 'features/barrier',
    why: 'with barrier off every fop winds straight through (barrier.c, BARRIER_FOP_CBK)',
    mustBeOff: ['barrier'],
    accepts: ['barrier-timeout'],
  },
  {
    type: 'features/upcall',
    why: 'with cache-invalidation off every fop exits via EXIT_IF_UPCALL_OFF (upcall.c)',
    mustBeOff: ['cache-invalidation'],
  },
  {
    type: 'features/leases',
    why: 'with leases off fops wind through and LEASE fails ENOSYS, as without it (leases.c)',
    mustBeOff: ['leases'],
  },
  {
    type: 'features/read-only',
    why: 'with read-only off is_readonly_or_worm_enabled() is false and fops wind (read-only-common.c)',
    mustBeOff: ['read-only'],
  },
  {
    type: 'features/worm',
    why: 'with worm and worm-file-level off every fop winds through (worm.c)',
    mustBeOff: ['worm', 'worm-file-level'],
    accepts: ['worm-files-deletable', 'default-retention-period', 'auto-commit-period', 'retention-mode'],
  },
  {
    type: 'features/quota',
    why:
      'with server-quota off fops wind via WIND_IF_QUOTAOFF (quota.c); only the CLI-internal ' +
      'virtual xattr trusted.limit.list differs (it answers "Quota is disabled")',
    mustBeOff: ['server-quota'],
    accepts: [
      'deem-statfs',
      'volume-uuid',
      'default-soft-limit',
      'soft-timeout',
      'hard-timeout',
      'alert-time',
    ],
  },
];

/**
 * Defines pass-through translator types. `note` says where they are meant to stand in
 * (it appears in the option descriptions and refusals).
 */
export function passthroughTypes(
  types: readonly (string | PassthroughSpec)[],
  note: string,
): TranslatorType<OptionSchema>[] {
  return types.map((t) => {
    const spec: PassthroughSpec = typeof t === 'string' ? { type: t, why: note } : t;
    const off = spec.mustBeOff ?? [];
    const options: OptionSchema = Object.fromEntries([
      ...off.map((k) => [k, { type: 'bool', default: false, description: `must be off: ${spec.why}` }]),
      ...(spec.accepts ?? []).map((k) => [
        k,
        { type: 'string', default: '', description: 'accepted, ignored' },
      ]),
    ]);
    return defineTranslator({
      type: spec.type,
      options,
      children: 'one',
      create({ name, options: o }) {
        for (const k of off) {
          if (o[k]) {
            throw new OptionError(
              `volume ${name}: ${spec.type} with ${k} on is not implemented by glusterts (${note})`,
            );
          }
        }
        return { fops: {} };
      },
    });
  });
}

/** The stand-ins for stock-generated brick and client graphs. */
export const stockPassthroughs = passthroughTypes(STOCK_PASSTHROUGHS, 'semantically neutral stand-in');

/** Translator types a volfile uses that `known` does not implement, in graph order. */
export function unimplementedTypes(volfile: Volfile, known: ReadonlyMap<string, unknown>): string[] {
  return [...new Set(volfile.volumes.map((v) => v.type))].filter((t) => !known.has(t));
}
