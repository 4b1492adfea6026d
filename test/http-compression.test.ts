import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './helpers/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A raw request (node:http, no automatic decompression): what went over the wire. */
function raw(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: options.method ?? 'GET', headers: { ...options.headers, ...(options.body ? { 'Content-Length': String(Buffer.byteLength(options.body)) } : {}) } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
    });
    request.on('error', reject);
    request.end(options.body);
  });
}

const TOKEN = 's'.repeat(26);
const slashForm = (text: string) =>
  new URLSearchParams({ token: TOKEN, team_id: 't'.repeat(26), team_domain: 'release', channel_id: 'c'.repeat(26), channel_name: 'releases', user_id: 'u'.repeat(26), user_name: 'alice', command: '/elrond', text, response_url: 'http://127.0.0.1:9/hooks', trigger_id: 'x' }).toString();

describe('compressed answers', () => {
  it('a large read answer goes gzip-compressed to a caller that accepts it, as it is to one that does not, and a small one as it is', async () => {
    h = await startHarness();
    for (let i = 1; i <= 12; i++) await h.ring(`ring-${String(i).padStart(2, '0')}-with-a-longer-name`, i);
    const plain = await raw(`${h.server.url}/api/rings`);
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.length).toBeGreaterThan(1024);
    const gzipped = await raw(`${h.server.url}/api/rings`, { headers: { 'Accept-Encoding': 'gzip, deflate, br' } });
    expect(gzipped.status).toBe(200);
    expect(gzipped.headers).toMatchObject({ 'content-encoding': 'gzip', 'content-type': 'application/json', vary: 'Accept-Encoding', 'content-length': String(gzipped.body.length) });
    expect(gzipped.body.length).toBeLessThan(plain.body.length / 3);
    expect(gunzipSync(gzipped.body).toString('utf8')).toBe(plain.body.toString('utf8'));
    // Refused explicitly: as it is.
    expect((await raw(`${h.server.url}/api/rings`, { headers: { 'Accept-Encoding': 'gzip;q=0, identity' } })).headers['content-encoding']).toBeUndefined();
    // Small answers are not worth it.
    const small = await raw(`${h.server.url}/api/rings?page=0&per_page=1`, { headers: { 'Accept-Encoding': 'gzip' } });
    expect(small.status).toBe(200);
    expect(small.headers['content-encoding']).toBeUndefined();
  });

  it('a slash command reply is compressed for Mattermost (whose Go client asks for gzip) with the Content-Type exactly application/json', async () => {
    h = await startHarness({ config: { slashCommandTokens: [TOKEN] } });
    for (let i = 1; i <= 12; i++) await h.ring(`ring-${String(i).padStart(2, '0')}-with-a-longer-name`, i);
    const headers = { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Token ${TOKEN}` };
    const plain = await raw(`${h.server.url}/mattermost/command`, { method: 'POST', headers, body: slashForm('ring list') });
    const gzipped = await raw(`${h.server.url}/mattermost/command`, { method: 'POST', headers: { ...headers, 'Accept-Encoding': 'gzip' }, body: slashForm('ring list') });
    expect(gzipped.headers).toMatchObject({ 'content-encoding': 'gzip', 'content-type': 'application/json' });
    const reply = JSON.parse(gunzipSync(gzipped.body).toString('utf8')) as { response_type: string; text: string };
    expect(reply).toEqual(JSON.parse(plain.body.toString('utf8')));
    expect(reply.response_type).toBe('ephemeral');
    expect(reply.text).toContain('ring-12-with-a-longer-name');
  });
});

describe('sendJsonBody', () => {
  it('compresses a large body off the event loop, once, and every caller gets the same bytes', async () => {
    const express = (await import('express')).default;
    const { sendJsonBody } = await import('../src/http/compressed-body.js');
    const body = Buffer.from(JSON.stringify(Array.from({ length: 8000 }, (_, i) => ({ ID: `ring-${i}`, State: 'stable', Version: 'v2' }))));
    expect(body.length).toBeGreaterThan(256 * 1024);
    const app = express();
    app.get('/big', (req, res) => void sendJsonBody(req, res, 200, body));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/big`;
      const answers = await Promise.all(Array.from({ length: 5 }, () => raw(url, { headers: { 'Accept-Encoding': 'gzip' } })));
      for (const answer of answers) {
        expect(answer.headers['content-encoding']).toBe('gzip');
        expect(answer.body.equals(answers[0]!.body)).toBe(true);
      }
      expect(gunzipSync(answers[0]!.body).equals(body)).toBe(true);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
