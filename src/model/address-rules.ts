/**
 * Which IP addresses an outbound webhook may not reach (SSRF): anything that is not a public unicast address.
 * Checked on the address a connection is about to use (the resolved one, so a DNS answer cannot smuggle one in),
 * and on IP literals when a webhook is created.
 */

interface Range {
  /** The first address of the range as a bigint (IPv4: 32 bits, IPv6: 128 bits). */
  base: bigint;
  bits: number;
  why: string;
}

const V4_RANGES: Array<[string, number, string]> = [
  ['0.0.0.0', 8, 'an unspecified ("this network") address'],
  ['10.0.0.0', 8, 'a private address (RFC 1918)'],
  ['100.64.0.0', 10, 'a carrier-grade NAT address (RFC 6598)'],
  ['127.0.0.0', 8, 'a loopback address'],
  ['169.254.0.0', 16, 'a link-local address (cloud metadata lives at 169.254.169.254)'],
  ['172.16.0.0', 12, 'a private address (RFC 1918)'],
  ['192.0.0.0', 24, 'an IETF protocol address (Oracle cloud metadata lives at 192.0.0.192)'],
  ['192.168.0.0', 16, 'a private address (RFC 1918)'],
  ['198.18.0.0', 15, 'a benchmarking address (RFC 2544)'],
  ['224.0.0.0', 4, 'a multicast address'],
  ['240.0.0.0', 4, 'a reserved or broadcast address'],
];

const V6_RANGES: Array<[string, number, string]> = [
  ['::', 128, 'the unspecified address'],
  ['::1', 128, 'a loopback address'],
  ['100::', 64, 'a discard-only address'],
  ['2001::', 32, 'a Teredo tunnel address'],
  ['fc00::', 7, 'a unique local (private) address (fd00:ec2::254 is AWS metadata)'],
  ['fe80::', 10, 'a link-local address'],
  ['fec0::', 10, 'a site-local address'],
  ['ff00::', 8, 'a multicast address'],
];

function parseV4(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return null;
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n);
}

/** Eight 16-bit groups, `::` expanded, a trailing dotted IPv4 (`::ffff:127.0.0.1`) folded in. */
function parseV6(text: string): bigint | null {
  let head = text.replace(/%.*$/, '').toLowerCase(); // a zone id (`fe80::1%eth0`) does not change the address
  let tailV4: bigint | null = null;
  const lastColon = head.lastIndexOf(':');
  if (head.slice(lastColon + 1).includes('.')) {
    tailV4 = parseV4(head.slice(lastColon + 1));
    if (tailV4 === null) return null;
    head = `${head.slice(0, lastColon + 1)}${(tailV4 >> 16n).toString(16)}:${(tailV4 & 0xffffn).toString(16)}`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const left = groups(halves[0]);
  const right = groups(halves[1]);
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...right];
  if (all.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return null;
  return all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function ranges(list: Array<[string, number, string]>, parse: (s: string) => bigint | null): Range[] {
  return list.map(([base, bits, why]) => ({ base: parse(base)!, bits, why }));
}

const V4 = ranges(V4_RANGES, parseV4);
const V6 = ranges(V6_RANGES, parseV6);

function inRange(address: bigint, range: Range, width: number): boolean {
  const shift = BigInt(width - range.bits);
  return address >> shift === range.base >> shift;
}

function refusedV4(address: bigint): string | null {
  return V4.find((range) => inRange(address, range, 32))?.why ?? null;
}

/** IPv6 forms that carry an IPv4 address the packet really goes to. */
function embeddedV4(address: bigint): bigint | null {
  const top96 = address >> 32n;
  if (top96 === 0xffffn) return address & 0xffffffffn; // ::ffff:a.b.c.d, IPv4-mapped
  if (top96 === 0n && address > 1n) return address & 0xffffffffn; // ::a.b.c.d, IPv4-compatible (deprecated)
  if (top96 === 0x64ff9b0000000000000000n) return address & 0xffffffffn; // 64:ff9b::a.b.c.d, NAT64
  if (address >> 112n === 0x2002n) return (address >> 80n) & 0xffffffffn; // 2002:AABB:CCDD::, 6to4
  return null;
}

/**
 * Why `ip` may not be reached by a webhook, or null when it is a public address. `ip` is a literal as Node
 * gives it (`127.0.0.1`, `::ffff:7f00:1`, `fe80::1%eth0`); anything that is not an IP address is refused too.
 *
 * @example refusedAddress('169.254.169.254') // 'a link-local address (cloud metadata lives at 169.254.169.254)'
 * @example refusedAddress('93.184.216.34') // null
 */
export function refusedAddress(ip: string): string | null {
  const bare = ip.replace(/^\[|\]$/g, '');
  const v4 = parseV4(bare);
  if (v4 !== null) return refusedV4(v4);
  const address = parseV6(bare);
  if (address === null) return 'not an IP address';
  const v6 = V6.find((range) => inRange(address, range, 128));
  if (v6) return v6.why;
  const embedded = embeddedV4(address);
  if (embedded !== null) {
    const why = refusedV4(embedded);
    if (why) return `${why}, written as IPv6`;
  }
  return null;
}
