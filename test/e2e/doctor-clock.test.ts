/**
 * `doctor` compares this machine's clock with Zoho's `Date` header: adoption and
 * settle-and-verify compare Zoho's Created_Time with local times, within ZOHO_ATTACH_CLOCK_SKEW_MS.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createPipelineWorld, runCli, type PipelineWorld } from '../helpers/pipeline.js';

let world: PipelineWorld | undefined;
let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await world?.cleanup();
  [world, server] = [undefined, undefined];
});

/** The doctor's line for the clock check. */
const clockLine = (stdout: string) =>
  stdout.split('\n').find((l) => l.slice(2).startsWith('Clock: ')) ?? `no Clock line in:\n${stdout}`;

describe('doctor: the clock', () => {
  it('passes when this machine and Zoho agree', async () => {
    world = await createPipelineWorld();
    const result = await runCli(['doctor'], world.env, world.dir);
    expect(clockLine(result.stdout)).toMatch(/^✓ Clock: this machine's clock is \d+ s (ahead of|behind) Zoho's/);
  });

  it("warns, naming ZOHO_ATTACH_CLOCK_SKEW_MS, when Zoho's Date is ten minutes away", async () => {
    world = await createPipelineWorld();
    server = createServer((_req, res) =>
      res.writeHead(404, { date: new Date(Date.now() - 10 * 60_000).toUTCString() }).end(),
    );
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const apiDomain = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const result = await runCli(['doctor'], { ...world.env, ZOHO_API_DOMAIN: apiDomain }, world.dir);
    expect(clockLine(result.stdout)).toMatch(
      /^! Clock: this machine's clock is 60[01] s ahead of Zoho's .*ZOHO_ATTACH_CLOCK_SKEW_MS allows 30 s/,
    );
    expect(result.stdout).toMatch(/fix: synchronise this machine's clock/);
  });
});
