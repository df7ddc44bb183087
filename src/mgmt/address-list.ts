/**
 * glusterd's check of an auth.allow / auth.reject value (an "internet-address-list"), as
 * stock 10.3 makes it: either a comma list of entries, or (when the value starts with '/' or
 * holds '(') a comma list of `/dir(entry|entry…)`. An entry is a CIDR network a.b.c.d/1..32,
 * an IPv4 address whose octets may each be '*' (fewer than four octets only with a '*'), an
 * IPv6 address whose groups may be '*', or a host name. So `127.0.0.*` and `10.*` pass, while
 * `127.0.0.6*`, `?`, `[…]` and `!` do not (the brick would match them; hand-written brick
 * volfiles may use them).
 */

function validIPv4(a: string, wildcard = true): boolean {
  if (a.includes('..') || !/[\d*]$/.test(a)) return false;
  const octets = a.split('.').filter((o) => o !== '');
  let star = false;
  for (const o of octets) {
    if (wildcard && o === '*') star = true;
    else if (!/^[+-]?\d*$/.test(o) || Number(o) > 255 || Number(o) < 0) return false;
  }
  return octets.length === 4 || (octets.length < 4 && star);
}

function validIPv6(a: string): boolean {
  const bare = a.split('%')[0]!;
  if (bare === '' || bare.endsWith(':') || (bare.match(/::/g)?.length ?? 0) > 1) return false;
  const groups = bare.split(':').filter((g) => g !== '');
  let star = false;
  for (const g of groups) {
    if (g === '*') star = true;
    else if (!/^[\da-f]{1,4}$/i.test(g)) return false;
  }
  return groups.length === 8 || (groups.length < 8 && (star || bare.includes('::')));
}

function validCidr(a: string): boolean {
  const [net, mask, more] = a.split('/');
  if (mask === undefined || more !== undefined) return false;
  const bits = parseInt(mask, 10);
  return bits >= 1 && bits <= 32 && validIPv4(net!);
}

function validHostName(a: string): boolean {
  return a.length <= 255 && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(a);
}

export function validAddress(a: string): boolean {
  return a !== '' && (validCidr(a) || validIPv4(a) || validIPv6(a) || validHostName(a));
}

export function validAddressList(value: string): boolean {
  if (!value.startsWith('/') && !value.includes('(')) {
    const entries = value.split(',').filter((e) => e !== '');
    return entries.length > 0 && entries.every(validAddress);
  }
  return value
    .split(',')
    .filter((e) => e !== '')
    .every((rule) => {
      const m = /^(\/[^(]*)\(([^)]*)\)/.exec(rule);
      if (!m) return false;
      const addrs = m[2]!.split('|').filter((e) => e !== '');
      return addrs.length > 0 && addrs.every(validAddress);
    });
}
