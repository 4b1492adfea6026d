import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createProvisionerClient, ProvisionerError } from '../src/integrations/provisioner-client.js';

/**
 * The client against a raw server that answers what a real provisioner never should: what a misbehaving or
 * impostor server does must end as a ProvisionerError the engine retries or fails on, never as a value.
 */
let server: http.Server | undefined;

async function serve(answer: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<{ url: string; requests: string[] }> {
  const requests: string[] = [];
  server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url} connection=${req.headers.connection ?? ''}`);
    req.resume();
    req.on('end', () => answer(req, res));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, requests };
}

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

async function failure(promise: Promise<unknown>): Promise<ProvisionerError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProvisionerError);
  return error as ProvisionerError;
}

describe('provisioner client', () => {
  it('reuses one keep-alive connection and sends the query the provisioner reads', async () => {
    const { url, requests } = await serve((_req, res) => res.setHeader('Content-Type', 'application/json').end('[]'));
    const client = createProvisionerClient({ baseUrl: url });
    await client.installations('g 1');
    await client.getGroupStatus('g1');
    expect(requests).toEqual(['GET /api/installations?group=g+1&per_page=-1&include_group_config=false connection=keep-alive', 'GET /api/group/g1/status connection=keep-alive']);
  });

  it('a 200 whose body is not JSON is a transient failure, not a value', async () => {
    const { url } = await serve((_req, res) => res.end('<html>proxy error</html>'));
    const error = await failure(createProvisionerClient({ baseUrl: url }).getGroupStatus('g1'));
    expect(error.message).toBe('the provisioner answered the request to read the group status with a body that is not JSON');
    expect(error.transient).toBe(true);
  });

  it('a redirect is not followed: the PUT and its body go nowhere else', async () => {
    let elsewhere = 0;
    const other = http.createServer((_req, res) => {
      elsewhere++;
      res.end('{}');
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const { url } = await serve((_req, res) => res.writeHead(307, { Location: `http://127.0.0.1:${(other.address() as AddressInfo).port}/api/group/g1` }).end());
      const error = await failure(createProvisionerClient({ baseUrl: url }).updateGroup('g1', { Version: 'v2', Image: 'mattermost/mattermost-enterprise-edition', MattermostEnv: null }));
      expect(error.message).toBe('the provisioner answered 307 to update the group');
      expect(error.transient).toBe(false);
      expect(elsewhere).toBe(0);
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it('a refused connection names the cause and is retried', async () => {
    const { url } = await serve(() => undefined);
    await new Promise((resolve) => server!.close(resolve));
    const error = await failure(createProvisionerClient({ baseUrl: url }).getGroup('g1'));
    expect(error.message).toBe('cannot reach the provisioner to read the group (ECONNREFUSED)');
    expect(error.transient).toBe(true);
  });
});
