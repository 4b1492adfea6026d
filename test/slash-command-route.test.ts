/**
 * `POST /mattermost/command` with a plain form is answered ahead of Express (src/chat/slash-command-route.ts). It must
 * read a form exactly as the Express route's body parser did, refuse what that refused, and give the same answers.
 */
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import qs from 'qs';
import { startHarness, type Harness } from './helpers/harness.js';
import { readForm, SLASH_COMMAND_MAX_FIELDS } from '../src/chat/slash-command-route.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const TOKEN = 's'.repeat(26);
const FIELDS = { token: TOKEN, team_id: 't'.repeat(26), team_domain: 'release', channel_id: 'c'.repeat(26), channel_name: 'releases', user_id: 'u'.repeat(26), user_name: 'alice', command: '/elrond', response_url: 'http://127.0.0.1:9/hooks', trigger_id: 'x' };
const slashForm = (text: string) => new URLSearchParams({ ...FIELDS, text }).toString();

function post(url: string, body: string | Buffer, headers: Record<string, string>, chunked = false): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', headers: { ...headers, ...(chunked ? {} : { 'Content-Length': String(Buffer.byteLength(body)) }) } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    request.on('error', reject);
    if (chunked) {
      // Several writes without a length: the body arrives chunked and can only be counted as it comes.
      const bytes = Buffer.from(body);
      for (let at = 0; at < bytes.length; at += 64 * 1024) request.write(bytes.subarray(at, at + 64 * 1024));
      request.end();
    } else request.end(body);
  });
}

/** What the Express route's body parser (body-parser 2, urlencoded, extended: false) makes of a form: qs with these options. */
function expressForm(body: string): Record<string, unknown> {
  const fields = body.split('&').length;
  return qs.parse(body, { allowPrototypes: true, arrayLimit: fields, depth: 0, charset: 'utf-8', parameterLimit: SLASH_COMMAND_MAX_FIELDS, strictDepth: true });
}

describe('reading a slash command form', () => {
  it('reads every field as the Express route did: "+" a space, a field sent twice no value at all', () => {
    const name = fc.constantFrom('token', 'team_id', 'user_id', 'text', 'trigger_id', 'response_url', 'channel_id');
    const value = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.constantFrom('ring list', 'a+b', 'x=y&z', '100%', '☃ ünïcode'));
    const form = fc.array(fc.tuple(name, value, fc.boolean()), { maxLength: 12 }).map((pairs) =>
      // Mattermost's url.Values encodes a space as "+"; some clients send "%20". Both must read the same.
      pairs.map(([key, text, plus]) => `${key}=${plus ? new URLSearchParams({ v: text }).toString().slice(2) : encodeURIComponent(text)}`).join('&'),
    );
    fc.assert(
      fc.property(form, name, (body, asked) => {
        const parsed = expressForm(body)[asked];
        expect(readForm(body)!(asked)).toBe(typeof parsed === 'string' ? parsed : '');
      }),
      { numRuns: 400 },
    );
  });

  it('takes at most 10,000 fields, as the body parser did', () => {
    expect(readForm(Array.from({ length: SLASH_COMMAND_MAX_FIELDS }, (_, i) => `f${i}=1`).join('&'))).toBeDefined();
    expect(readForm(Array.from({ length: SLASH_COMMAND_MAX_FIELDS + 1 }, (_, i) => `f${i}=1`).join('&'))).toBeUndefined();
  });
});

describe('POST /mattermost/command ahead of Express', () => {
  it('answers a form exactly as the Express route answers the same command sent as JSON', async () => {
    h = await startHarness({ config: { slashCommandTokens: [TOKEN] } });
    for (let i = 1; i <= 3; i++) await h.ring(`ring-${i}`, i);
    const url = `${h.server.url}/mattermost/command`;
    const asForm = await post(url, slashForm('ring list'), { 'Content-Type': 'application/x-www-form-urlencoded' });
    // JSON (a command registered with that content type) is read by Express' own parser.
    const asJson = await post(url, JSON.stringify({ ...FIELDS, text: 'ring list' }), { 'Content-Type': 'application/json' });
    expect(asForm.status).toBe(200);
    expect(asForm.headers['content-type']).toBe('application/json');
    expect(asForm.text).toBe(asJson.text);
    expect(JSON.parse(asForm.text)).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining('ring-3') });
    // Another charset is Express' too, which reads it as before.
    const latin1 = await post(url, slashForm('ring list'), { 'Content-Type': 'application/x-www-form-urlencoded; charset=iso-8859-1' });
    expect(latin1.text).toBe(asForm.text);
    // Both are counted under the route.
    const metrics = await (await fetch(`${h.server.url}/metrics`)).text();
    expect(metrics).toMatch(/elrond_http_requests_total\{method="POST",route="\/mattermost\/command",status="200"\} 3/);
  });

  it('refuses a wrong token, a body over 1 MiB (by its length or as it streams) and too many fields, and runs nothing', async () => {
    h = await startHarness({ config: { slashCommandTokens: [TOKEN] } });
    await h.ring('alpha', 1);
    await h.settle();
    const url = `${h.server.url}/mattermost/command`;
    const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
    const forged = await post(url, new URLSearchParams({ ...FIELDS, token: 'f'.repeat(26), text: 'ring delete --ring x' }).toString(), form);
    expect(forged.status).toBe(401);
    expect(JSON.parse(forged.text).error).toMatch(/unknown slash command token/);
    const tooLarge = 'Elrond could not read this command because it is too large. Nothing was done.';
    // A release of every ring, padded past the limit: nothing may start.
    const padded = `${slashForm('ring release --all-rings --version v9')}&pad=${'x'.repeat(1024 * 1024)}`;
    for (const chunked of [false, true]) {
      const answer = await post(url, padded, form, chunked);
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.text)).toEqual({ response_type: 'ephemeral', text: `⚠️ ${tooLarge}` });
      expect(answer.headers.connection).toBe('close');
    }
    const crowded = `${slashForm('ring release --all-rings --version v9')}&${Array.from({ length: SLASH_COMMAND_MAX_FIELDS }, (_, i) => `f${i}=`).join('&')}`;
    expect(JSON.parse((await post(url, crowded, form)).text).text).toBe(`⚠️ ${tooLarge}`);
    const rings = (await h.api('GET', '/rings')).body as Array<{ State: string; DesiredReleaseID: string }>;
    expect(rings.map((ring) => ring.State)).toEqual(['stable']);
  });
});
