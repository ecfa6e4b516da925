// Fidelity check: Slack's incoming webhook client (@slack/webhook, unchanged), used the way its
// users use it, against the sfevents Slack incoming webhook test receiver (crates/receivers).
//
// Environment:
//   SLACK_URL        a webhook URL the receiver serves, with a rate of 3 at once and no refill
//                    during the run (http://127.0.0.1:PORT/services/T/B/SECRET)
//   SLACK_OTHER_URL  a second webhook URL (its own rate bucket)
//   SLACK_UNKNOWN_URL a webhook URL the receiver does not serve
//
// Steps on SLACK_URL: a text message, a Block Kit message, a message with defaults set on the
// client (username, icon_emoji), then a fourth, beyond the burst: IncomingWebhookHTTPError with
// statusCode 429 and body rate_limited, not retried. On SLACK_OTHER_URL: a header over 150
// characters (statusCode 400, body invalid_blocks), a message answered 500 rollup_error once by
// an injected fault that the client retries (retryConfig), and to SLACK_UNKNOWN_URL one message
// (404, no_service).
//
// Prints one JSON summary on stdout; exits non-zero with a message on stderr on any failure.

import slack from '@slack/webhook';

const { IncomingWebhook, IncomingWebhookHTTPError, ErrorCode } = slack;

function env(name) {
  const v = process.env[name];
  if (v === undefined || v === '') throw new Error(`environment variable ${name} is not set`);
  return v;
}

function check(cond, message) {
  if (!cond) throw new Error(`check failed: ${message}`);
}

const url = env('SLACK_URL');
const otherUrl = env('SLACK_OTHER_URL');
const unknownUrl = env('SLACK_UNKNOWN_URL');

async function setFaults(faults) {
  const resp = await fetch(`${new URL(url).origin}/__receiver/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(faults),
  });
  check(resp.status === 200, `setting faults answered ${resp.status}`);
}

// The error a send rejects with, as the fields a caller reads.
async function failure(promise) {
  try {
    const r = await promise;
    return { resolved: r };
  } catch (e) {
    return {
      isHTTPError: e instanceof IncomingWebhookHTTPError,
      code: e.code,
      codeIsHTTPError: e.code === ErrorCode.HTTPError,
      statusCode: e.statusCode,
      body: e.body,
    };
  }
}

const blocks = [
  { type: 'header', text: { type: 'plain_text', text: 'sfevents alert: new country' } },
  { type: 'section', text: { type: 'mrkdwn', text: '*User* 005x logged in from *FR*' } },
  { type: 'section', fields: [
    { type: 'mrkdwn', text: '*Org*\n00D000000000001' },
    { type: 'mrkdwn', text: '*Rule*\nnew_country' },
  ] },
  { type: 'divider' },
  { type: 'context', elements: [{ type: 'mrkdwn', text: 'sfevents detect' }] },
  { type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open' }, url: 'https://example.com/alert/1' }] },
];

async function main() {
  const summary = {};
  const hook = new IncomingWebhook(url);
  summary.text = await hook.send('Login from a new country');
  summary.blocks = await hook.send({ text: 'sfevents alert: new country', blocks });
  const withDefaults = new IncomingWebhook(url, { username: 'sfevents', icon_emoji: ':rotating_light:' });
  summary.defaults = await withDefaults.send({ text: 'third message' });
  summary.rateLimited = await failure(hook.send('fourth message, beyond the burst'));

  const other = new IncomingWebhook(otherUrl, { retryConfig: { retries: 1, factor: 1, minTimeout: 10, maxTimeout: 10 } });
  const longHeader = [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }];
  summary.invalidBlocks = await failure(other.send({ text: 'x', blocks: longHeader }));
  await setFaults({ requests_503: 1 });
  summary.retried = await other.send({ text: 'sent again after rollup_error' });
  summary.unknown = await failure(new IncomingWebhook(unknownUrl).send('nobody'));
  process.stdout.write(JSON.stringify(summary) + '\n');
}

main().catch((e) => {
  process.stderr.write(`${e.stack || e}\n`);
  process.exit(1);
});
