/**
 * features/access-control: the brick's permission checks for callers that are neither
 * root nor one of GlusterFS's own daemons (negative pids), where stock puts them: right
 * above storage/posix. The caller is the fop's AUTH_GLUSTERFS credential (uid, gid,
 * groups, pid), handed down by the brick in every FopContext. The rules live in
 * permissions.ts; this layer only fetches the inodes they judge (owner, group, mode and
 * access ACL, by a nameless or named LOOKUP below, as root) and applies the verdicts.
 * Root and internal callers pay nothing but one comparison per fop.
 */
import type { ErrnoName } from '../../errors/index.js';
import { ptrValue, type Dict } from '../../protocol/dict.js';
import { FopError } from '../../protocol/errno.js';
import { NULL_GFID, type Gfid } from '../../protocol/gfid.js';
import { SetattrValid, zeroIatt } from '../../protocol/iatt.js';
import type { Layer } from '../../xlator/layer.js';
import { defineTranslator, type Caller, type FopContext, type FopTable } from '../../xlator/translator.js';
import {
  ACL_ACCESS_XATTR,
  ACL_DEFAULT_XATTR,
  DEFAULT_ACL_XATTRS,
  encodeAcl,
  inheritAcl,
  parseAcl,
  type AclEntry,
} from './acl.js';
import {
  R,
  W,
  X,
  checkGetxattr,
  checkSetattr,
  checkSetxattr,
  isDevice,
  isExempt,
  isSuperUser,
  modeAfterWrite,
  newInodeMode,
  openWant,
  permits,
  stickyPermits,
  type InodePerms,
} from './permissions.js';

interface Entry extends InodePerms {
  gfid: Gfid;
}

function refuse(code: ErrnoName | null, what: string): void {
  if (code) throw FopError.of(code, what);
}

/** Directories whose default ACL is remembered (FIFO beyond it). */
const DEFAULT_ACL_CACHE = 4096;

/** The inode lookups the checks need, as root through the layer below. */
class Inodes {
  /**
   * Default ACLs by directory gfid (null: none), so creations under a directory without
   * one cost no lookup. Every change of one on this brick passes this layer (forget()).
   */
  private readonly defaults = new Map<string, { entries: AclEntry[]; bytes: Buffer } | null>();

  constructor(private readonly below: Layer) {}

  private asRoot(ctx: FopContext): FopContext {
    return { ...ctx, caller: { uid: 0, gid: 0, groups: [], pid: 0, lkOwner: ctx.caller.lkOwner } };
  }

  private async lookup(ctx: FopContext, gfid: Gfid, pargfid: Gfid, bname: string): Promise<Entry> {
    const xdata: Dict = new Map([[ACL_ACCESS_XATTR, ptrValue(Buffer.alloc(0))]]);
    const r = await this.below.call('LOOKUP', { gfid, pargfid, flags: 0, bname, xdata }, this.asRoot(ctx));
    const acl = r.xdata?.get(ACL_ACCESS_XATTR)?.value;
    return {
      gfid: r.prestat.gfid,
      uid: r.prestat.uid,
      gid: r.prestat.gid,
      mode: r.prestat.mode,
      acl: parseAcl(Buffer.isBuffer(acl) ? acl : null),
    };
  }

  /** The inode of `gfid` (its errors are the fop's: ESTALE, ENOENT). */
  byGfid(ctx: FopContext, gfid: Gfid): Promise<Entry> {
    return this.lookup(ctx, gfid, NULL_GFID, '');
  }

  /** The inode `name` in the directory `parent`; null when there is none. */
  async byName(ctx: FopContext, parent: Gfid, name: string): Promise<Entry | null> {
    return this.lookup(ctx, NULL_GFID, parent, name).catch((e: unknown) => {
      if (FopError.from(e).code === 'ENOENT') return null;
      throw e;
    });
  }

  /** The default ACL of directory `gfid`, if it has one. */
  async defaultAcl(ctx: FopContext, gfid: Gfid): Promise<{ entries: AclEntry[]; bytes: Buffer } | null> {
    const key = gfid.toString('hex');
    const known = this.defaults.get(key);
    if (known !== undefined) return known;
    const xdata: Dict = new Map([[ACL_DEFAULT_XATTR, ptrValue(Buffer.alloc(0))]]);
    const r = await this.below.call(
      'LOOKUP',
      { gfid, pargfid: NULL_GFID, flags: 0, bname: '', xdata },
      this.asRoot(ctx),
    );
    const v = r.xdata?.get(ACL_DEFAULT_XATTR)?.value;
    const entries = parseAcl(Buffer.isBuffer(v) ? v : null);
    const found = entries && entries.length > 0 ? { entries, bytes: Buffer.from(v as Buffer) } : null;
    if (this.defaults.size >= DEFAULT_ACL_CACHE) this.defaults.delete(this.defaults.keys().next().value!);
    this.defaults.set(key, found);
    return found;
  }

  forgetDirectory(gfid: Gfid): void {
    this.defaults.delete(gfid.toString('hex'));
  }

  /** Runs an xattr change of `gfid`; a default ACL among `names` is forgotten before and after. */
  async forgetting<T>(gfid: Gfid, names: string[], change: () => Promise<T>): Promise<T> {
    if (!names.some((n) => DEFAULT_ACL_XATTRS.has(n))) return change();
    const key = gfid.toString('hex');
    this.defaults.delete(key);
    try {
      return await change();
    } finally {
      this.defaults.delete(key);
    }
  }

  /** Clears what a write by a non-root caller drops (setuid, setgid-executable). */
  async killPrivileges(ctx: FopContext, gfid: Gfid, stat: { mode: number }): Promise<void> {
    const mode = modeAfterWrite(stat.mode);
    if (mode === stat.mode) return;
    await this.below.call(
      'SETATTR',
      { gfid, stbuf: { ...zeroIatt(), mode }, valid: SetattrValid.MODE, xdata: null },
      this.asRoot(ctx),
    );
    stat.mode = mode;
  }
}

export function accessControlFops(below: Layer, superUid: number): FopTable {
  const inodes = new Inodes(below);
  const exempt = (c: Caller) => isExempt(c, superUid);
  // Xattr writes: stock's ACL-ownership rule binds internal callers too (only root skips it).
  const superUser = (c: Caller) => isSuperUser(c, superUid);
  const need = (c: Caller, inode: InodePerms, want: number, what: string) => {
    if (!permits(c, inode, want, superUid)) throw FopError.of('EACCES', what);
  };
  /** The parent of a new name must be writable and searchable. */
  const creating = async (ctx: FopContext, pargfid: Gfid) => {
    const parent = await inodes.byGfid(ctx, pargfid);
    need(ctx.caller, parent, W | X, 'no write and search permission on the parent');
    return parent;
  };
  /** Removing `name` from `pargfid`: the entry, after search, sticky and write checks. */
  const removing = async (ctx: FopContext, pargfid: Gfid, name: string) => {
    const parent = await inodes.byGfid(ctx, pargfid);
    need(ctx.caller, parent, X, 'no search permission on the parent');
    const entry = await inodes.byName(ctx, pargfid, name);
    if (!entry) throw FopError.of('ENOENT');
    if (!stickyPermits(ctx.caller, parent, entry, superUid)) throw FopError.of('EACCES', 'sticky directory');
    need(ctx.caller, parent, W | X, 'no write permission on the parent');
    return { parent, entry };
  };
  const setxattr = async (ctx: FopContext, gfid: Gfid, names: string[], removal: boolean) => {
    const inode = await inodes.byGfid(ctx, gfid);
    refuse(checkSetxattr(ctx.caller, inode, names, removal, superUid), 'xattr not permitted');
  };
  const getxattr = async (ctx: FopContext, gfid: Gfid, name: string) => {
    const inode = await inodes.byGfid(ctx, gfid);
    refuse(checkGetxattr(ctx.caller, inode, name, superUid), 'no read permission');
  };
  const setattr = async (
    ctx: FopContext,
    gfid: Gfid,
    stbuf: { uid: number; gid: number; mode: number },
    valid: number,
  ) => {
    const inode = await inodes.byGfid(ctx, gfid);
    const v = checkSetattr(ctx.caller, inode, valid, stbuf, superUid);
    if (v.refuse) throw FopError.of(v.refuse, 'setattr not permitted');
    return v.mode;
  };

  /**
   * Under a directory with a default ACL (for every caller, as stock): the new inode gets
   * the inherited access ACL (directories the default one too) in the creation xdata,
   * which posix sets after the mode, and the mode those entries allow, with no umask.
   */
  const inherit = async <R extends { pargfid: Gfid; mode: number; umask: number; xdata: Dict | null }>(
    ctx: FopContext,
    req: R,
    isDir: boolean,
  ): Promise<R> => {
    const defaults = await inodes.defaultAcl(ctx, req.pargfid);
    if (!defaults) return req;
    const { acl, mode } = inheritAcl(defaults.entries, req.mode);
    const xdata: Dict = new Map(req.xdata ?? []);
    xdata.set(ACL_ACCESS_XATTR, ptrValue(encodeAcl(acl)));
    if (isDir) xdata.set(ACL_DEFAULT_XATTR, ptrValue(defaults.bytes));
    return { ...req, mode, umask: 0, xdata };
  };

  return {
    async LOOKUP(req, ctx, next) {
      if (req.bname && !exempt(ctx.caller)) {
        need(ctx.caller, await inodes.byGfid(ctx, req.pargfid), X, 'no search permission on the parent');
      }
      return next(req);
    },

    async ACCESS(req, ctx, next) {
      if (exempt(ctx.caller)) return next(req);
      const inode = await inodes.byGfid(ctx, req.gfid);
      need(ctx.caller, inode, req.mask & 7, 'access');
      return { xdata: null };
    },

    async OPEN(req, ctx, next) {
      if (!exempt(ctx.caller))
        need(ctx.caller, await inodes.byGfid(ctx, req.gfid), openWant(req.flags), 'open');
      return next(req);
    },

    async OPENDIR(req, ctx, next) {
      if (!exempt(ctx.caller)) need(ctx.caller, await inodes.byGfid(ctx, req.gfid), R, 'opendir');
      return next(req);
    },

    async READDIR(req, ctx, next) {
      if (!exempt(ctx.caller)) need(ctx.caller, await inodes.byGfid(ctx, req.fd.gfid), R, 'readdir');
      return next(req);
    },

    async READDIRP(req, ctx, next) {
      if (!exempt(ctx.caller)) need(ctx.caller, await inodes.byGfid(ctx, req.fd.gfid), R, 'readdirp');
      return next(req);
    },

    async CREATE(req, ctx, next) {
      if (exempt(ctx.caller)) return next(await inherit(ctx, req, false));
      const parent = await creating(ctx, req.pargfid);
      const mode = newInodeMode(ctx.caller, parent, req.mode, superUid);
      return next(await inherit(ctx, { ...req, mode }, false));
    },

    async MKNOD(req, ctx, next) {
      if (exempt(ctx.caller)) return next(await inherit(ctx, req, false));
      const parent = await creating(ctx, req.pargfid);
      if (isDevice(req.mode)) throw FopError.of('EPERM', 'device nodes are for root');
      const mode = newInodeMode(ctx.caller, parent, req.mode, superUid);
      return next(await inherit(ctx, { ...req, mode }, false));
    },

    async MKDIR(req, ctx, next) {
      if (!exempt(ctx.caller)) await creating(ctx, req.pargfid);
      const reply = await next(await inherit(ctx, req, true));
      // A heal may recreate a directory under a gfid remembered as having no default ACL.
      inodes.forgetDirectory(reply.stat.gfid);
      return reply;
    },

    async SYMLINK(req, ctx, next) {
      if (!exempt(ctx.caller)) await creating(ctx, req.pargfid);
      return next(req);
    },

    async LINK(req, ctx, next) {
      if (exempt(ctx.caller)) return next(req);
      await creating(ctx, req.newgfid);
      return next(req);
    },

    async UNLINK(req, ctx, next) {
      if (!exempt(ctx.caller)) await removing(ctx, req.pargfid, req.bname);
      return next(req);
    },

    async RMDIR(req, ctx, next) {
      if (!exempt(ctx.caller)) await removing(ctx, req.pargfid, req.bname);
      return next(req);
    },

    async RENAME(req, ctx, next) {
      if (exempt(ctx.caller)) return next(req);
      await removing(ctx, req.oldgfid, req.oldbname);
      const newParent = await inodes.byGfid(ctx, req.newgfid);
      need(ctx.caller, newParent, W | X, 'no write and search permission on the new parent');
      const target = await inodes.byName(ctx, req.newgfid, req.newbname);
      if (target && !stickyPermits(ctx.caller, newParent, target, superUid)) {
        throw FopError.of('EACCES', 'sticky directory');
      }
      return next(req);
    },

    async SETATTR(req, ctx, next) {
      if (exempt(ctx.caller)) return next(req);
      const mode = await setattr(ctx, req.gfid, req.stbuf, req.valid);
      return next({ ...req, stbuf: { ...req.stbuf, mode } });
    },

    async FSETATTR(req, ctx, next) {
      if (exempt(ctx.caller)) return next(req);
      const mode = await setattr(ctx, req.fd.gfid, req.stbuf, req.valid);
      return next({ ...req, stbuf: { ...req.stbuf, mode } });
    },

    async TRUNCATE(req, ctx, next) {
      if (exempt(ctx.caller)) return next(req);
      need(ctx.caller, await inodes.byGfid(ctx, req.gfid), W, 'truncate');
      const reply = await next(req);
      await inodes.killPrivileges(ctx, req.gfid, reply.poststat);
      return reply;
    },

    async FTRUNCATE(req, ctx, next) {
      const reply = await next(req);
      if (!exempt(ctx.caller)) await inodes.killPrivileges(ctx, req.fd.gfid, reply.poststat);
      return reply;
    },

    async WRITE(req, ctx, next) {
      const reply = await next(req);
      if (!exempt(ctx.caller)) await inodes.killPrivileges(ctx, req.fd.gfid, reply.poststat);
      return reply;
    },

    async GETXATTR(req, ctx, next) {
      if (!exempt(ctx.caller)) await getxattr(ctx, req.gfid, req.name);
      return next(req);
    },

    async FGETXATTR(req, ctx, next) {
      if (!exempt(ctx.caller)) await getxattr(ctx, req.fd.gfid, req.name);
      return next(req);
    },

    async SETXATTR(req, ctx, next) {
      if (!superUser(ctx.caller)) await setxattr(ctx, req.gfid, [...(req.dict?.keys() ?? [])], false);
      return inodes.forgetting(req.gfid, [...(req.dict?.keys() ?? [])], () => next(req));
    },

    async FSETXATTR(req, ctx, next) {
      if (!superUser(ctx.caller)) await setxattr(ctx, req.fd.gfid, [...(req.dict?.keys() ?? [])], false);
      return inodes.forgetting(req.fd.gfid, [...(req.dict?.keys() ?? [])], () => next(req));
    },

    async REMOVEXATTR(req, ctx, next) {
      if (!superUser(ctx.caller)) await setxattr(ctx, req.gfid, [req.name], true);
      return inodes.forgetting(req.gfid, [req.name], () => next(req));
    },

    async FREMOVEXATTR(req, ctx, next) {
      if (!superUser(ctx.caller)) await setxattr(ctx, req.fd.gfid, [req.name], true);
      return inodes.forgetting(req.fd.gfid, [req.name], () => next(req));
    },
  };
}

export const accessControl = defineTranslator({
  type: 'features/access-control',
  children: 'one',
  options: {
    'super-uid': {
      type: 'int',
      default: 0,
      min: 0,
      max: 0xffffffff,
      description: 'A uid treated as root (besides 0), as stock.',
    },
  },
  create({ children, options }) {
    return { fops: accessControlFops(children[0]!, options['super-uid']) };
  },
});
