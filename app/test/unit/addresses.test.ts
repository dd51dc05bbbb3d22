import {
  addressBucket,
  clientAddress,
  normalizeAddress,
  parseCidr,
  proxyRanges,
} from '../../src/http/addresses';

describe('client addresses for rate limiting', () => {
  it.each([
    ['10.1.2.3', '10.1.2.3'],
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['2001:DB8::1', '2001:db8::1'],
    ['[2001:db8::1]', '2001:db8::1'],
    ['[2001:db8::1]:443', '2001:db8::1'],
    ['203.0.113.7:51234', '203.0.113.7'],
    ['fe80::1%eth0', 'fe80::1'],
    [' 192.0.2.1 ', '192.0.2.1'],
  ])('when the address is %j, then it normalizes to %j', (raw, normal) => {
    expect(normalizeAddress(raw)).toBe(normal);
  });

  it.each(['', 'unknown', '999.1.1.1', '1.2.3', 'example.com', '2001:db8:::1'])(
    'when the address is %j, then it is not an address',
    (raw) => {
      expect(normalizeAddress(raw)).toBeUndefined();
    },
  );

  it.each([
    ['10.0.0.0/8', { family: 'ipv4', address: '10.0.0.0', prefix: 8 }],
    ['fd00::/8', { family: 'ipv6', address: 'fd00::', prefix: 8 }],
    ['192.0.2.1', { family: 'ipv4', address: '192.0.2.1', prefix: 32 }],
  ])('when the range is %j, then it parses to %j', (text, cidr) => {
    expect(parseCidr(text)).toEqual(cidr);
  });

  it.each(['10.0.0.0/33', 'fd00::/129', '10.0.0.0/8/1', '10.0.0.0/x', 'proxy/8', ''])(
    'when the range is %j, then it is refused',
    (text) => {
      expect(parseCidr(text)).toBeUndefined();
    },
  );

  const trusted = proxyRanges(['10.0.0.0/8', 'fd00::/8']);

  it('when no proxy is trusted, then the socket peer is the client whatever X-Forwarded-For says', () => {
    expect(clientAddress('10.0.0.5', '198.51.100.1', proxyRanges([]))).toBe('10.0.0.5');
  });

  it('when the peer is not a trusted proxy, then X-Forwarded-For is ignored', () => {
    expect(clientAddress('198.51.100.9', '203.0.113.1, 10.0.0.1', trusted)).toBe('198.51.100.9');
  });

  it('when the peer is a trusted proxy, then the right-most untrusted entry is the client', () => {
    // The client wrote "1.1.1.1" itself; the ingress (10.0.0.2) appended the peer it saw.
    expect(clientAddress('10.0.0.2', '1.1.1.1, 203.0.113.7', trusted)).toBe('203.0.113.7');
    // Two trusted hops (a load balancer, then the ingress).
    expect(clientAddress('10.0.0.2', '1.1.1.1, 203.0.113.7, 10.9.9.9', trusted)).toBe('203.0.113.7');
    expect(clientAddress('::ffff:10.0.0.2', '2001:db8::7', trusted)).toBe('2001:db8::7');
  });

  it('when every entry is a trusted proxy, then the left-most one is the client', () => {
    expect(clientAddress('10.0.0.2', '10.0.0.3, 10.0.0.4', trusted)).toBe('10.0.0.3');
  });

  it('when the peer is trusted but sent no X-Forwarded-For, then the peer is the client', () => {
    expect(clientAddress('10.0.0.2', '', trusted)).toBe('10.0.0.2');
  });

  it('when a malformed entry stands right of the client, then the trusted hop that passed it on is the client', () => {
    expect(clientAddress('10.0.0.2', '203.0.113.7, garbage', trusted)).toBe('10.0.0.2');
    expect(clientAddress('10.0.0.2', 'garbage, 10.0.0.9', trusted)).toBe('10.0.0.9');
  });

  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::99', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['64:ff9b::192.0.2.33', '64:ff9b:0:0::/64'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
  ])('when the address is %j, then its bucket is %j', (address, bucket) => {
    expect(addressBucket(address)).toBe(bucket);
  });

  it('when two addresses share a /64, then they share a bucket; a different /64 does not', () => {
    expect(addressBucket('2001:db8:a:b::1')).toBe(addressBucket('2001:db8:a:b:ffff:ffff:ffff:ffff'));
    expect(addressBucket('2001:db8:a:b::1')).not.toBe(addressBucket('2001:db8:a:c::1'));
  });
});
