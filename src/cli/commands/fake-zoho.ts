/** `zoho-attach fake-zoho [--port N] [--host H] [--concurrency-limit N] [--latency-ms N]` */
import { FAKE_CREDENTIALS, startFakeZoho } from '../../fake-zoho/index.js';
import { EXIT, intOption, parseOptions, println, type Command } from '../command.js';

export const fakeZohoCommand: Command = {
  summary: 'run the built-in fake Zoho CRM (for trying the tool without a Zoho account)',
  usage: `zoho-attach fake-zoho [--port N] [--host H] [--concurrency-limit N] [--latency-ms N] [--daily-credits N]

Serves the Zoho accounts and CRM APIs from one address, plus its inspection API under /__fake/.
Runs until Ctrl-C.`,
  async run(argv, deps) {
    const { values } = parseOptions(argv, {
      port: { type: 'string' },
      host: { type: 'string' },
      'concurrency-limit': { type: 'string' },
      'latency-ms': { type: 'string' },
      'daily-credits': { type: 'string' },
    });
    const port = intOption('port', values.port, 0, 65535) ?? 0;
    const concurrencyLimit = intOption('concurrency-limit', values['concurrency-limit'], 1, 10_000);
    const latencyMs = intOption('latency-ms', values['latency-ms'], 0, 600_000);
    const dailyCredits = intOption('daily-credits', values['daily-credits'], 1, 100_000_000);
    const fake = await startFakeZoho({
      port,
      host: values.host ?? '127.0.0.1',
      ...(concurrencyLimit === undefined ? {} : { concurrencyLimit }),
      ...(latencyMs === undefined ? {} : { latencyMs }),
      ...(dailyCredits === undefined ? {} : { dailyCredits }),
    });
    println(deps.stdout, `fake Zoho CRM listening at ${fake.url}`);
    println(deps.stdout, 'point zoho-attach at it with:');
    println(deps.stdout, `  export ZOHO_ACCOUNTS_URL=${fake.url} ZOHO_API_DOMAIN=${fake.url}`);
    println(
      deps.stdout,
      `  export ZOHO_CLIENT_ID=${FAKE_CREDENTIALS.clientId} ZOHO_CLIENT_SECRET=${FAKE_CREDENTIALS.clientSecret} ZOHO_REFRESH_TOKEN=${FAKE_CREDENTIALS.refreshToken}`,
    );
    println(deps.stdout, `inspect what it stored: curl ${fake.url}/__fake/state`);
    await deps.stopSignal;
    await fake.close();
    return EXIT.OK;
  },
};
