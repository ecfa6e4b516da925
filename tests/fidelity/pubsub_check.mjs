// Fidelity check: salesforce-pubsub-api-client (npm, unchanged), a widely used Node client of
// Salesforce's Pub/Sub API, subscribes to a topic of an sfsim instance the way its users do
// (user-supplied auth, TLS), and prints the events it decoded.
//
// Environment:
//   SFSIM_PUBSUB_ENDPOINT  host:port of sfsim's Pub/Sub API (TLS; the client has no plaintext mode)
//   SFSIM_ACCESS_TOKEN     an access token sfsim issued
//   SFSIM_INSTANCE_URL     the instance URL (must start with https://, the client checks)
//   SFSIM_ORG_ID           the org id (tenantid)
//   SFSIM_TOPIC            e.g. /event/LoginEventStream
//   SFSIM_TIMEOUT_MS       optional; default 60000
//   SFSIM_DEBUG            optional; when set, the client's log goes to stderr
//
// Subscribes from the earliest retained event, requesting batches of 100 until the first
// keepalive (nothing more to send), then prints one JSON object on stdout:
//   {"events":[{"id","replayId","payload":{...}}...]}
// Exits non-zero with a message on stderr on any error.

import PubSubApiClient from 'salesforce-pubsub-api-client';

function env(name, fallback) {
  const v = process.env[name];
  if (!v && fallback === undefined) throw new Error(`environment variable ${name} is not set`);
  return v || fallback;
}

// The client logs to the logger it is given; keep stdout for the result.
// SFSIM_DEBUG=1 shows its debug and info lines on stderr.
const verbose = Boolean(process.env.SFSIM_DEBUG);
const quiet = {
  debug: (...a) => verbose && console.error(...a),
  info: (...a) => verbose && console.error(...a),
  warn: (...a) => console.error(...a),
  error: (...a) => console.error(...a),
};

// BigInt (longs above 2^53) cannot go through JSON.stringify as is.
const replacer = (_k, v) => (typeof v === 'bigint' ? v.toString() : v);

async function main() {
  const topic = env('SFSIM_TOPIC');
  const timeoutMs = Number(env('SFSIM_TIMEOUT_MS', '60000'));
  const client = new PubSubApiClient(
    {
      authType: 'user-supplied',
      accessToken: env('SFSIM_ACCESS_TOKEN'),
      instanceUrl: env('SFSIM_INSTANCE_URL'),
      organizationId: env('SFSIM_ORG_ID'),
      pubSubEndpoint: env('SFSIM_PUBSUB_ENDPOINT'),
      rejectUnauthorizedSsl: false,
    },
    quiet,
  );
  await client.connect();
  const events = [];
  const done = new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no keepalive within ${timeoutMs} ms (${events.length} events)`)),
      timeoutMs,
    );
    const callback = (_subscription, type, data) => {
      if (type === 'event') {
        events.push({ id: data.id, replayId: data.replayId, payload: data.payload });
      } else if (type === 'grpcKeepAlive') {
        clearTimeout(timer);
        resolve();
      } else if (type === 'error') {
        clearTimeout(timer);
        reject(data instanceof Error ? data : new Error(JSON.stringify(data)));
      } else if (type === 'end') {
        clearTimeout(timer);
        reject(new Error('the stream ended before a keepalive'));
      }
    };
    // null: the client requests 100 more each time a batch of 100 has arrived.
    client.subscribeFromEarliestEvent(topic, callback, null);
  });
  try {
    await done;
  } finally {
    client.close();
  }
  // Exit only once the whole result is written: stdout is a pipe, and exiting earlier cuts it.
  await new Promise((resolve) => {
    process.stdout.write(JSON.stringify({ events }, replacer) + '\n', resolve);
  });
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e?.stack || String(e));
    if (e?.cause) console.error('cause:', e.cause?.stack || e.cause);
    process.exit(1);
  },
);
