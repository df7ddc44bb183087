/**
 * POSIX ACLs as the kernel stores them in `system.posix_acl_access` and
 * `system.posix_acl_default`: a little-endian u32 version (2), then entries of u16 tag,
 * u16 permission bits (rwx = 4|2|1) and u32 id (only meaningful for USER and GROUP).
 */

export const ACL_ACCESS_XATTR = 'system.posix_acl_access';
export const ACL_DEFAULT_XATTR = 'system.posix_acl_default';
/** Names that set a directory's default ACL (stock also accepts its own alias). */
export const DEFAULT_ACL_XATTRS: ReadonlySet<string> = new Set([
  ACL_DEFAULT_XATTR,
  'glusterfs.posix.default_acl',
]);
/** The names stock's access-control treats as ACLs (GlusterFS also accepts its own aliases). */
export const ACL_XATTRS: ReadonlySet<string> = new Set([
  ACL_ACCESS_XATTR,
  ACL_DEFAULT_XATTR,
  'glusterfs.posix.acl',
  'glusterfs.posix.default_acl',
]);

export const AclTag = {
  USER_OBJ: 0x01,
  USER: 0x02,
  GROUP_OBJ: 0x04,
  GROUP: 0x08,
  MASK: 0x10,
  OTHER: 0x20,
} as const;

export interface AclEntry {
  tag: number;
  perm: number;
  id: number;
}

const VERSION = 2;
const HEADER = 4;
const ENTRY = 8;

/** The entries of an ACL xattr value; null when the bytes are not a version-2 ACL. */
export function parseAcl(bytes: Buffer | null | undefined): AclEntry[] | null {
  if (!bytes || bytes.length < HEADER || (bytes.length - HEADER) % ENTRY !== 0) return null;
  if (bytes.readUInt32LE(0) !== VERSION) return null;
  const entries: AclEntry[] = [];
  for (let at = HEADER; at < bytes.length; at += ENTRY) {
    entries.push({
      tag: bytes.readUInt16LE(at),
      perm: bytes.readUInt16LE(at + 2) & 7,
      id: bytes.readUInt32LE(at + 4),
    });
  }
  return entries;
}

export function encodeAcl(entries: readonly AclEntry[]): Buffer {
  const out = Buffer.alloc(HEADER + entries.length * ENTRY);
  out.writeUInt32LE(VERSION, 0);
  entries.forEach((e, i) => {
    const at = HEADER + i * ENTRY;
    out.writeUInt16LE(e.tag, at);
    out.writeUInt16LE(e.perm, at + 2);
    out.writeUInt32LE(e.id >>> 0, at + 4);
  });
  return out;
}

/** Whether an ACL says more than the mode bits (named users or groups, a mask). */
export function isExtended(acl: readonly AclEntry[] | null): acl is AclEntry[] {
  return !!acl && acl.some((e) => e.tag === AclTag.USER || e.tag === AclTag.GROUP || e.tag === AclTag.MASK);
}

/**
 * A new inode's access ACL from its parent's default ACL and the mode it was created with
 * (acl(5) "Object creation and default ACLs"): the owner, mask (or owning group) and other
 * entries keep only the bits the mode grants, and the mode keeps only what they grant. The
 * umask does not apply when an ACL is inherited.
 */
export function inheritAcl(defaults: readonly AclEntry[], mode: number): { acl: AclEntry[]; mode: number } {
  const acl = defaults.map((e) => ({ ...e }));
  const classOf = (tag: number) => acl.find((e) => e.tag === tag);
  const group = classOf(AclTag.MASK) ?? classOf(AclTag.GROUP_OBJ);
  let perms = mode & 0o777;
  const limit = (e: AclEntry | undefined, shift: number) => {
    if (!e) return;
    e.perm &= (perms >> shift) & 7;
    perms &= ~(7 << shift) | (e.perm << shift);
  };
  limit(classOf(AclTag.USER_OBJ), 6);
  limit(group, 3);
  limit(classOf(AclTag.OTHER), 0);
  return { acl, mode: (mode & ~0o777) | perms };
}
