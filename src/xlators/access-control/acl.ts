/**
 * POSIX ACLs as the kernel stores them in `system.posix_acl_access` and
 * `system.posix_acl_default`: a little-endian u32 version (2), then entries of u16 tag,
 * u16 permission bits (rwx = 4|2|1) and u32 id (only meaningful for USER and GROUP).
 */

export const ACL_ACCESS_XATTR = 'system.posix_acl_access';
export const ACL_DEFAULT_XATTR = 'system.posix_acl_default';
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
