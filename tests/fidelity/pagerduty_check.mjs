// Fidelity check: PagerDuty's JavaScript client (@pagerduty/pdjs, unchanged), used the way its
// users use it, against the sfevents PagerDuty Events API v2 test receiver (crates/receivers).
// pdjs hard-codes https://${server}/v2/enqueue, so the receiver serves HTTPS and its CA is
// trusted through NODE_EXTRA_CA_CERTS.
//
// Environment:
//   PD_SERVER            the receiver as host:port (127.0.0.1:PORT)
//   PD_ROUTING_KEY       a routing key the receiver serves
//   PD_ALERTS            optional; distinct dedup keys triggered (default 20)
//   PD_REPEAT_EVERY      optional; every Nth key is triggered a second time (default 4)
//   NODE_EXTRA_CA_CERTS  the receiver's CA (read by Node at start, not by this script)
//
// Steps: PD_ALERTS triggers with dedup keys alert-0..; a second trigger for every
// PD_REPEAT_EVERY-th key (the receiver must still hold one incident per key); a resolve of
// alert-0; a trigger without a dedup key (the answer carries the generated one); a trigger with
// a routing key of the wrong length (pdjs resolves with status 400 and the error body); a
// trigger answered 429 once by an injected fault, which pdjs retries by itself.
//
// Prints one JSON summary on stdout; exits non-zero with a message on stderr on any failure.

import pdjs from '@pagerduty/pdjs';

const { event, trigger, resolve } = pdjs;

function env(name, fallback) {
  const v = process.env[name];
  if (v === undefined || v === '') {
    if (fallback !== undefined) return fallback;
    throw new Error(`environment variable ${name} is not set`);
  }
  return v;
}

function check(cond, message) {
  if (!cond) throw new Error(`check failed: ${message}`);
}

const server = env('PD_SERVER');
const routingKey = env('PD_ROUTING_KEY');
const alerts = Number(env('PD_ALERTS', '20'));
const repeatEvery = Number(env('PD_REPEAT_EVERY', '4'));

// The receiver's test endpoint; fetch trusts NODE_EXTRA_CA_CERTS too.
async function setFaults(faults) {
  const resp = await fetch(`https://${server}/__receiver/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(faults),
  });
  check(resp.status === 200, `setting faults answered ${resp.status}`);
}

function alert(dedupKey, n) {
  const data = {
    routing_key: routingKey,
    payload: {
      summary: `Login from a new country (${n})`,
      source: 'sfevents',
      severity: n % 2 === 0 ? 'warning' : 'critical',
      timestamp: new Date(Date.UTC(2026, 2, 10, 14, 25, n)).toISOString(),
      component: 'LoginEvent',
      group: 'org-00D000000000001',
      class: 'new_country',
      custom_details: { n, user: `005${String(n).padStart(3, '0')}` },
    },
  };
  if (dedupKey !== null) data.dedup_key = dedupKey;
  return data;
}

function tally(statuses, status) {
  statuses[status] = (statuses[status] || 0) + 1;
}

async function triggers() {
  const statuses = {};
  let echoed = 0;
  let sent = 0;
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < alerts; i++) {
      if (round === 1 && i % repeatEvery !== 0) continue;
      const key = `alert-${i}`;
      const r = await trigger({ server, data: alert(key, i) });
      sent++;
      tally(statuses, r.status);
      check(r.data.status === 'success' && r.data.message === 'Event processed', JSON.stringify(r.data));
      if (r.data.dedup_key === key) echoed++;
    }
  }
  return { sent, statuses, echoed };
}

async function main() {
  const summary = {};
  summary.triggers = await triggers();
  const resolved = await resolve({ server, data: { routing_key: routingKey, dedup_key: 'alert-0' } });
  summary.resolve = { status: resolved.status, dedupKey: resolved.data.dedup_key };
  const generated = await event({ server, data: { ...alert(null, 999), event_action: 'trigger' } });
  summary.generated = { status: generated.status, keyLength: (generated.data.dedup_key || '').length };
  const badKey = await trigger({ server, data: { ...alert('bad-key', 1), routing_key: 'not-32-characters' } });
  summary.badKey = { status: badKey.status, ok: badKey.ok, data: badKey.data };
  await setFaults({ requests_429: 1 });
  const throttled = await trigger({ server, data: alert('throttled-once', 1000), retryTimeout: 50 });
  summary.throttled = { status: throttled.status, dedupKey: throttled.data.dedup_key };
  process.stdout.write(JSON.stringify(summary) + '\n');
}

main().catch((e) => {
  process.stderr.write(`${e.stack || e}\n`);
  process.exit(1);
});
