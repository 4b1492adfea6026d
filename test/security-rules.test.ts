/**
 * Issue 13 items 6 and 7, the pure rules: which addresses a webhook may reach (every spelling of an internal
 * address), and the one redaction rule every output goes through.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { refusedAddress } from '../src/model/address-rules.js';
import { checkWebhookUrl } from '../src/model/webhook-target.js';
import { containsCredentials, containsRedactionMarker, REDACTED, redact, redactDeep, redactUrl } from '../src/model/redact.js';
import { displayEnvValue, validateEnvMap } from '../src/model/env-vars.js';

describe('refusedAddress', () => {
  it.each([
    ['127.0.0.1', /loopback/],
    ['127.255.255.254', /loopback/],
    ['0.0.0.0', /unspecified/],
    ['10.1.2.3', /private/],
    ['172.31.255.255', /private/],
    ['192.168.0.1', /private/],
    ['100.64.0.1', /carrier-grade NAT/],
    ['100.100.100.200', /carrier-grade NAT/], // Alibaba Cloud metadata
    ['169.254.169.254', /link-local.*metadata/],
    ['192.0.0.192', /Oracle cloud metadata/],
    ['224.0.0.1', /multicast/],
    ['255.255.255.255', /broadcast/],
    ['::', /unspecified/],
    ['::1', /loopback/],
    ['[::1]', /loopback/],
    ['::ffff:127.0.0.1', /loopback address, written as IPv6/],
    ['::ffff:7f00:1', /loopback address, written as IPv6/],
    ['::ffff:a9fe:a9fe', /link-local.*written as IPv6/],
    ['::127.0.0.1', /loopback address, written as IPv6/],
    ['64:ff9b::a9fe:a9fe', /link-local.*written as IPv6/],
    ['2002:7f00:0001::', /loopback address, written as IPv6/],
    ['fd00:ec2::254', /unique local/],
    ['fc00::1', /unique local/],
    ['fe80::1%eth0', /link-local/],
    ['ff02::1', /multicast/],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', /Teredo/],
    ['not-an-ip', /not an IP address/],
  ])('%s is refused', (ip, why) => {
    expect(refusedAddress(ip)).toMatch(why);
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:2800:220:1:248:1893:25c8:1946', '::ffff:93.184.216.34', '2a00:1450:4001:82b::200e'])('%s (public) is allowed', (ip) => {
    expect(refusedAddress(ip)).toBeNull();
  });
});

describe('checkWebhookUrl', () => {
  const refuse = (url: string) => () => checkWebhookUrl(url, { allowPrivate: false });

  it.each([
    ['http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254 is a link-local address/],
    ['http://[::ffff:a9fe:a9fe]/', /link-local address \(cloud metadata lives at 169\.254\.169\.254\), written as IPv6/],
    ['http://0x7f.1:8075/api/group/x/lock', /127\.0\.0\.1 is a loopback address/],
    ['http://2130706433/', /127\.0\.0\.1 is a loopback address/],
    ['http://127.1/', /127\.0\.0\.1 is a loopback address/],
    ['http://0177.0.0.1/', /127\.0\.0\.1 is a loopback address/],
    ['http://[::1]:9/', /loopback/],
    ['http://localhost:8075/', /localhost is a loopback name/],
    ['http://api.localhost./', /loopback name/],
    ['http://10.0.0.5/', /private/],
    ['http://0/', /unspecified/],
    ['https://[fd00:ec2::254]/', /unique local/],
  ])('%s is refused at creation, naming the flag that allows it', (url, why) => {
    expect(refuse(url)).toThrow(why);
    expect(refuse(url)).toThrow(/--webhook-allow-private/);
  });

  it('other schemes, the redaction marker, and non-URLs are refused; public URLs and, with the flag, internal ones pass', () => {
    expect(refuse('file:///etc/passwd')).toThrow(/scheme file is not supported/);
    expect(refuse('gopher://x.example.com/')).toThrow(/scheme gopher/);
    expect(refuse(`https://${REDACTED}@hooks.example.com/x`)).toThrow(/redaction marker/);
    expect(refuse(`https://hooks.example.com/x?token=${encodeURIComponent(REDACTED)}`)).toThrow(/redaction marker/);
    expect(refuse('http://user:pw@ not a url')).toThrow(/is not a URL/);
    expect(checkWebhookUrl('https://hooks.example.com/elrond', { allowPrivate: false })).toBe('https://hooks.example.com/elrond');
    expect(checkWebhookUrl('http://127.0.0.1:9/x', { allowPrivate: true })).toBe('http://127.0.0.1:9/x');
    // A name is checked on its resolved addresses when a delivery connects (test/security-webhooks.test.ts).
    expect(checkWebhookUrl('http://rebind.elrond.test/x', { allowPrivate: false })).toBe('http://rebind.elrond.test/x');
  });
});

describe('redaction', () => {
  it('a value is secret by its name (any case) or when it carries URL credentials', () => {
    for (const name of ['MM_SQLSETTINGS_DATASOURCE', 'MM_SQLSETTINGS_DATASOURCEREPLICAS', 'SENTRY_DSN', 'db_password', 'MM_EMAILSETTINGS_SMTPPASSWORD', 'API_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'GCP_CREDENTIALS', 'TLS_PRIVATE', 'license_key']) {
      expect(redact('anything', name)).toBe(REDACTED);
    }
    expect(redact('postgres://mm:pw@db:5432/mm?sslmode=disable', 'MM_CUSTOM_URL')).toBe(REDACTED);
    expect(redact('mmuser:pw@tcp(db:3306)/mattermost', 'MM_OTHER')).toBe(REDACTED);
    expect(redact('https://files.example.com/x?X-Amz-Signature=abc&token=t', 'MM_FILE_URL')).toBe(REDACTED);
    expect(redact('on', 'MM_FEATUREFLAGS_X')).toBe('on');
    expect(redact('https://chat.example.com', 'MM_SERVICESETTINGS_SITEURL')).toBe('https://chat.example.com');
    expect(redact('', 'MM_SQLSETTINGS_DATASOURCE')).toBe('');
    expect(containsCredentials('https://hooks.example.com/x')).toBe(false);
  });

  it('free text keeps its words and loses URL userinfo, query values and secret assignments', () => {
    expect(redact('POST to https://u:p@hooks.example.com/x?token=abc&a=1#frag failed')).toBe(`POST to https://${REDACTED}@hooks.example.com/x?token=${REDACTED}&a=${REDACTED}#frag failed`);
    expect(redact('{"url":"http://a:b@h/p?q=1","n":2}')).toBe(`{"url":"http://${REDACTED}@h/p?q=${REDACTED}","n":2}`);
    expect(redact('rotated DB_PASSWORD=hunter2 and MODE=fast')).toBe(`rotated DB_PASSWORD=${REDACTED} and MODE=fast`);
    expect(redact('webhook w (https://h.example.com/x?token=abc) answered 500.')).toBe(`webhook w (https://h.example.com/x?token=${REDACTED}) answered 500.`);
    expect(redact(redact('see (https://u:p@h.example.com/?a=b).'))).toBe(`see (https://${REDACTED}@h.example.com/?a=${REDACTED}).`);
    expect(redact('nothing secret: error rate up at 12:30')).toBe('nothing secret: error rate up at 12:30');
    expect(redactDeep({ reason: 'see https://u:p@x.example.com', apiToken: 'abc', nested: [{ password: 'p' }] })).toEqual({
      reason: `see https://${REDACTED}@x.example.com`,
      apiToken: REDACTED,
      nested: [{ password: REDACTED }],
    });
  });

  it('redactUrl hides userinfo and every query value, keeps the endpoint; it is idempotent', () => {
    expect(redactUrl('https://user:pass@hooks.example.com:8443/a/b?token=abc&flag')).toBe(`https://${REDACTED}@hooks.example.com:8443/a/b?token=${REDACTED}&flag`);
    expect(redactUrl('https://hooks.example.com/a')).toBe('https://hooks.example.com/a');
    fc.assert(
      fc.property(fc.webUrl({ withQueryParameters: true, withFragments: true }), fc.string(), (url, secret) => {
        const once = redactUrl(url);
        expect(redactUrl(once)).toBe(once);
        const withCredentials = url.replace('://', `://u:${encodeURIComponent(secret) || 'x'}@`);
        expect(redactUrl(withCredentials)).not.toContain(`u:${encodeURIComponent(secret) || 'x'}@`);
      }),
    );
  });

  it('plans and cards show env values through it (DATASOURCE was missed before)', () => {
    expect(displayEnvValue('MM_SQLSETTINGS_DATASOURCE', { value: 'postgres://mm:pw@db/mm' })).toBe(REDACTED);
    expect(displayEnvValue('MM_FLAG', { value: 'on' })).toBe('on');
  });

  it('the marker is refused as an env value, typed or percent-encoded, and only the marker', () => {
    expect(() => validateEnvMap({ MM_SQLSETTINGS_DATASOURCE: { value: REDACTED } })).toThrow(/EnvVariables\.MM_SQLSETTINGS_DATASOURCE\.value is Elrond's redaction marker/);
    expect(() => validateEnvMap({ MM_X: { value: `postgres://u:${REDACTED}@db/mm` } })).toThrow(/redaction marker/);
    expect(containsRedactionMarker('%E2%80%A2%E2%80%A2%E2%80%A2%E2%80%A2%E2%80%A2%E2%80%A2')).toBe(true);
    expect(validateEnvMap({ MM_BULLET: { value: '• one' } })).toEqual({ MM_BULLET: { value: '• one' } });
  });
});
