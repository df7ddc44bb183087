/**
 * Fops that change an inode: data (WRITE, [F]TRUNCATE, FALLOCATE, DISCARD, ZEROFILL, FSYNC)
 * run inside the inode's eager data transaction; metadata ([F]SETATTR, [F]SETXATTR,
 * [F]REMOVEXATTR, and XATTROP from layers above) inside a metadata transaction. The caller's
 * fop goes to every brick the transaction holds, with the caller's own credentials.
 */
import type { FopName } from '../../protocol/fops.js';
import type { OpenFd } from '../../xlator/fd.js';
import type { FopContext, FopReply, FopRequest, FopTable } from '../../xlator/translator.js';
import { fixOpen } from './open-fds.js';
import { contentionRequest, dataTransaction, metadataTransaction } from './transaction.js';
import type { Replica } from './replica.js';

type DataFop = 'WRITE' | 'FTRUNCATE' | 'TRUNCATE' | 'FALLOCATE' | 'DISCARD' | 'ZEROFILL' | 'FSYNC';
type MetadataFop =
  'SETATTR' | 'FSETATTR' | 'SETXATTR' | 'FSETXATTR' | 'REMOVEXATTR' | 'FREMOVEXATTR' | 'XATTROP' | 'FXATTROP';

const gfidOf = (req: { gfid?: Buffer; fd?: { gfid: Buffer } }): Buffer => req.fd?.gfid ?? req.gfid!;

export function writeOps(r: Replica): FopTable {
  const data =
    <N extends DataFop>(fop: N) =>
    (req: FopRequest<N>, ctx: FopContext): Promise<FopReply<N>> => {
      const sent = (
        fop === 'WRITE' ? { ...req, xdata: contentionRequest(r, (req as FopRequest<'WRITE'>).xdata) } : req
      ) as FopRequest<N>;
      return dataTransaction(r, gfidOf(req as never), fop, ctx, async (which) => {
        await fixOpen(r, (req as { fd?: OpenFd }).fd, which, ctx);
        return r.fanOut(which, fop, sent, ctx);
      });
    };
  const metadata =
    <N extends MetadataFop>(fop: N) =>
    (req: FopRequest<N>, ctx: FopContext): Promise<FopReply<N>> =>
      metadataTransaction(r, gfidOf(req as never), fop, ctx, (which) =>
        r.fanOut(which, fop as FopName as N, req, ctx),
      );
  return {
    WRITE: data('WRITE'),
    FTRUNCATE: data('FTRUNCATE'),
    TRUNCATE: data('TRUNCATE'),
    FALLOCATE: data('FALLOCATE'),
    DISCARD: data('DISCARD'),
    ZEROFILL: data('ZEROFILL'),
    FSYNC: data('FSYNC'),
    SETATTR: metadata('SETATTR'),
    FSETATTR: metadata('FSETATTR'),
    SETXATTR: metadata('SETXATTR'),
    FSETXATTR: metadata('FSETXATTR'),
    REMOVEXATTR: metadata('REMOVEXATTR'),
    FREMOVEXATTR: metadata('FREMOVEXATTR'),
    XATTROP: metadata('XATTROP'),
    FXATTROP: metadata('FXATTROP'),
  };
}
