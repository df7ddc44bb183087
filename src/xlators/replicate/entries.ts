/**
 * Entry fops (CREATE, MKNOD, MKDIR, SYMLINK, LINK, UNLINK, RMDIR, RENAME): under entry locks
 * on (parent, name), on every locked brick, with the same gfid everywhere (gfid-req is filled
 * in when the caller gave none). When a brick is missing or fails, the parent's changelog
 * records an entry operation against it (with the name, for granular entry heal), and a new
 * inode is charged data+metadata (file) or metadata+entry (directory) against it, as stock does.
 */
import { gfuuidValue, strValue, DictType, type Dict, type GfxDict } from '../../protocol/dict.js';
import { randomGfid } from '../../protocol/gfid.js';
import type { FopContext, FopReply, FopRequest, FopTable } from '../../xlator/translator.js';
import { newEntryCharge, TxnType, ZERO } from './changelog.js';
import { recordOpen } from './open-fds.js';
import { Replica } from './replica.js';
import { changelogOp, changelogTransaction, flagged, internalCtx, type Guard } from './transaction.js';

type Creating = 'CREATE' | 'MKNOD' | 'MKDIR' | 'SYMLINK';

const ENTRY_CREATE = 'glusterfs.xattrop-entry-create';
const ENTRY_DELETE = 'glusterfs.xattrop-entry-delete';

function withGfidReq(xdata: GfxDict): Dict {
  const out: Dict = new Map(xdata ?? []);
  const v = out.get('gfid-req');
  if (!v || v.type !== DictType.GFUUID) out.set('gfid-req', gfuuidValue(randomGfid()));
  return out;
}

export function entryOps(r: Replica): FopTable {
  const guard = (parent: Buffer, name: string, key: string): Guard => ({
    target: { kind: 'entry', parent, name },
    gfid: parent,
    ...(r.cfg.granularEntryHeal ? { xdata: new Map([[key, strValue(name)]]) } : {}),
  });

  const creating =
    <N extends Creating>(fop: N) =>
    (req: FopRequest<N>, ctx: FopContext): Promise<FopReply<N>> => {
      const { pargfid, bname } = req as { pargfid: Buffer; bname: string };
      const sent = { ...req, xdata: withGfidReq(req.xdata) } as FopRequest<N>;
      const ictx = internalCtx(ctx, Replica.newOwner());
      let created: Buffer | undefined;
      return changelogTransaction(
        r,
        TxnType.ENTRY,
        [guard(pargfid, bname, ENTRY_CREATE)],
        fop,
        ictx,
        async (which) => {
          const results = await r.fanOut(which, fop, sent, ctx);
          if (fop === 'CREATE')
            recordOpen(
              r,
              (req as FopRequest<'CREATE'>).fd,
              results.flatMap((x) => (x.ok ? [x.target] : [])),
            );
          const first = results.find((x) => x.ok);
          if (first?.ok) created = (first.value as { stat: { gfid: Buffer } }).stat.gfid;
          return results;
        },
        async (ok) => {
          if (!created || ok.every(Boolean)) return;
          const charge = newEntryCharge(fop === 'MKDIR', r.cfg.granularEntryHeal);
          await changelogOp(r, flagged(ok), created, ZERO, (j) => (ok[j] ? ZERO : charge), ictx);
        },
      );
    };

  const simple =
    <N extends 'UNLINK' | 'RMDIR' | 'LINK'>(fop: N, where: (req: FopRequest<N>) => Guard) =>
    (req: FopRequest<N>, ctx: FopContext): Promise<FopReply<N>> =>
      changelogTransaction(
        r,
        TxnType.ENTRY,
        [where(req)],
        fop,
        internalCtx(ctx, Replica.newOwner()),
        (which) => r.fanOut(which, fop, req, ctx),
      );

  return {
    CREATE: creating('CREATE'),
    MKNOD: creating('MKNOD'),
    MKDIR: creating('MKDIR'),
    SYMLINK: creating('SYMLINK'),
    UNLINK: simple('UNLINK', (req) => guard(req.pargfid, req.bname, ENTRY_DELETE)),
    RMDIR: simple('RMDIR', (req) => guard(req.pargfid, req.bname, ENTRY_DELETE)),
    LINK: simple('LINK', (req) => guard(req.newgfid, req.newbname, ENTRY_CREATE)),
    RENAME(req, ctx) {
      // Both names locked, always in the same order, so two renames cannot deadlock.
      const guards = [
        guard(req.oldgfid, req.oldbname, ENTRY_DELETE),
        guard(req.newgfid, req.newbname, ENTRY_CREATE),
      ].sort((a, b) => Buffer.compare(key(a), key(b)));
      return changelogTransaction(
        r,
        TxnType.ENTRY,
        guards,
        'RENAME',
        internalCtx(ctx, Replica.newOwner()),
        (which) => r.fanOut(which, 'RENAME', req, ctx),
      );
    },
  };
}

function key(g: Guard): Buffer {
  const t = g.target as { parent: Buffer; name: string };
  return Buffer.concat([t.parent, Buffer.from(t.name)]);
}
