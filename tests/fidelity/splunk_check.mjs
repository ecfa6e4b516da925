// Fidelity check: Splunk's JavaScript logging library (splunk-logging, unchanged), used the way
// its users use it, against the sfevents Splunk HEC test receiver (crates/receivers) over HTTPS.
//
// Environment:
//   SPLUNK_URL             the receiver's base URL (https://localhost:PORT)
//   SPLUNK_TOKEN           an HEC token the receiver accepts (without indexer acknowledgement:
//                          the library sends no channel)
//   SPLUNK_EVENTS          optional; events in the batched run (default 300)
//   SPLUNK_BATCH           optional; maxBatchCount of the batched run (default 25)
//   NODE_EXTRA_CA_CERTS    the receiver's CA (read by Node at start, not by this script)
//
// Steps: SPLUNK_EVENTS events with metadata (time, host, source, sourcetype, index) sent through
// one logger that batches SPLUNK_BATCH events per request; one event while the receiver is busy
// (503, code 9: the library's error callback gets code 9) and one after; one event whose first
// connection is closed without an answer (the library retries by itself, maxRetries 2); one
// event with a wrong token (the error callback gets code 4, "Invalid token"). The library skips
// certificate checks by default (strictSSL false); every logger here turns them on, so the
// receiver's CA must be trusted.
//
// Prints one JSON summary on stdout; exits non-zero with a message on stderr on any failure.

import splunk from 'splunk-logging';

const { Logger } = splunk;

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

const url = env('SPLUNK_URL');
const token = env('SPLUNK_TOKEN');
const count = Number(env('SPLUNK_EVENTS', '300'));
const batch = Number(env('SPLUNK_BATCH', '25'));
const BASE_MS = Date.UTC(2026, 2, 10, 14, 25, 0) + 123;

// A logger as users configure one, with certificate checks on and errors recorded.
function logger(config) {
  const l = new Logger({ url, token, ...config });
  l.requestOptions.strictSSL = true;
  l.errors = [];
  l.error = (err, context) => {
    l.errors.push({ message: err.message, code: err.code ?? null, context });
  };
  return l;
}

// send() with a promise for its flush: the callback runs when the event's batch is posted.
function sendAndWait(l, payload) {
  return new Promise((resolve) => {
    l.send(payload, (err, resp, body) => {
      resolve({ err: err ? String(err.message || err) : null, status: resp ? resp.statusCode : null, body });
    });
  });
}

// The receiver's test endpoint (needs no token); fetch trusts NODE_EXTRA_CA_CERTS too.
async function setFaults(faults) {
  const resp = await fetch(`${url}/__receiver/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(faults),
  });
  check(resp.status === 200, `setting faults answered ${resp.status}`);
}

function payload(id, i) {
  return {
    message: { id, n: i, event_type: 'Login', user_id: `005${String(i).padStart(3, '0')}` },
    metadata: {
      time: new Date(BASE_MS + i * 1000),
      host: 'sfevents-fidelity',
      source: 'salesforce:eventlogfile',
      sourcetype: 'sfdc:logfile',
      index: 'salesforce',
    },
  };
}

async function batched() {
  const l = logger({ maxBatchCount: batch });
  const flushes = [];
  for (let i = 0; i < count; i++) {
    const p = sendAndWait(l, payload(`evt-${i}`, i));
    // Only the event that fills a batch gets its callback called.
    if ((i + 1) % batch === 0) flushes.push(p);
  }
  if (count % batch !== 0) {
    flushes.push(new Promise((resolve) => l.flush((err, resp, body) => resolve({ err, status: resp && resp.statusCode, body }))));
  }
  const results = await Promise.all(flushes);
  const statuses = {};
  for (const r of results) {
    check(r.err === null, `batch failed: ${r.err}`);
    statuses[r.status] = (statuses[r.status] || 0) + 1;
    check(r.body && r.body.code === 0 && r.body.text === 'Success', `batch body ${JSON.stringify(r.body)}`);
  }
  check(l.errors.length === 0, `errors: ${JSON.stringify(l.errors)}`);
  return { requests: results.length, statuses };
}

async function busy() {
  await setFaults({ requests_503: 1 });
  const l = logger({});
  const refused = await sendAndWait(l, payload('busy-1', 1000));
  check(l.errors.length === 1, `one error callback, got ${JSON.stringify(l.errors)}`);
  const after = await sendAndWait(l, payload('after-busy', 1001));
  return {
    status: refused.status,
    code: l.errors[0].code,
    message: l.errors[0].message,
    afterStatus: after.status,
    afterErrors: l.errors.length - 1,
  };
}

async function retried() {
  await setFaults({ close_connection: 1 });
  const l = logger({ maxRetries: 2 });
  const r = await sendAndWait(l, payload('retried-1', 1002));
  return { status: r.status, err: r.err, errors: l.errors.length, code: r.body && r.body.code };
}

async function wrongToken() {
  const l = new Logger({ url, token: 'not-a-configured-token' });
  l.requestOptions.strictSSL = true;
  const errors = [];
  l.error = (err) => errors.push({ message: err.message, code: err.code ?? null });
  const r = await sendAndWait(l, payload('wrong-token', 1003));
  check(errors.length === 1, `one error callback, got ${JSON.stringify(errors)}`);
  return { status: r.status, code: errors[0].code, message: errors[0].message };
}

async function main() {
  const summary = {};
  summary.batched = await batched();
  summary.busy = await busy();
  summary.retried = await retried();
  summary.wrongToken = await wrongToken();
  process.stdout.write(JSON.stringify(summary) + '\n');
}

main().catch((e) => {
  process.stderr.write(`${e.stack || e}\n`);
  process.exit(1);
});
