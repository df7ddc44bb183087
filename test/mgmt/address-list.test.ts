// glusterd's check of auth.allow / auth.reject values (src/mgmt/address-list.ts): what a
// stock 10.3 glusterd took and refused in test/interop/auth-addr-stock.test.ts and by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validAddressList } from '../../src/mgmt/address-list.js';

test('internet-address-list: whole-octet wildcards, CIDR /1../32, IPv6, host names, per-directory rules', () => {
  for (const ok of [
    '*',
    '127.0.0.61',
    '127.0.0.*',
    '127.0.*',
    '10.*',
    '127.0.0.0/24',
    '127.0.0.56/29',
    '10.0.0.1,10.0.0.2',
    'localhost',
    'host-1.example.com',
    '1.2.3', // a valid host name, as for stock
    '::1',
    'fd00::*',
    '/(127.0.0.61|127.0.2.71)',
    '/sub(127.0.0.61),/(*)',
  ])
    assert.ok(validAddressList(ok), ok);
  for (const bad of [
    '127.0.0.6*',
    '127.0.0.?1',
    '127.0.0.[67]1',
    '!127.0.0.1',
    '127.0.0.0/0',
    '127.0.0.0/33',
    '127.0.0.1/x',
    '1.2.3.4 #x',
    'sub(127.0.0.1)',
    '/sub()',
    '',
  ])
    assert.ok(!validAddressList(bad), bad);
});
