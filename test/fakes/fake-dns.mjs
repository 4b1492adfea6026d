// Fake DNS answers for an `elrond server` child process, loaded with NODE_OPTIONS="--import <this file>" (tests
// only; nothing in src/ knows about it). Names in FAKE_DNS_ANSWERS (JSON: {"name": "address"}) resolve to that
// address; every other name goes to the real resolver. It models the one thing a DNS-rebinding attacker controls:
// the answer `dns.lookup` (getaddrinfo) returns when a connection is made.
import dns from 'node:dns';

const answers = JSON.parse(process.env.FAKE_DNS_ANSWERS ?? '{}');
const realLookup = dns.lookup;

dns.lookup = function lookup(hostname, options, callback) {
  if (typeof options === 'function') {
    callback = options;
    options = {};
  } else if (typeof options === 'number') {
    options = { family: options };
  }
  const address = answers[String(hostname).toLowerCase()];
  if (address === undefined) return realLookup.call(dns, hostname, options, callback);
  const family = address.includes(':') ? 6 : 4;
  process.nextTick(() => (options?.all ? callback(null, [{ address, family }]) : callback(null, address, family)));
  return undefined;
};
