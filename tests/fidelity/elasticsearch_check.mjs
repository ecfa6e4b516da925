// Fidelity check: the official Elasticsearch client (@elastic/elasticsearch, unchanged), used the
// way its users use it, against the sfevents test receiver (crates/receivers) over HTTPS.
//
// Environment:
//   ES_URL                 the receiver's base URL (https://localhost:PORT)
//   ES_API_KEY_ID, ES_API_KEY   an API key the receiver accepts (sent as ApiKey base64(id:key))
//   ES_VERSION             the version.number the receiver reports (checked against client.info())
//   ES_STREAM              optional; data stream to write (default logs-salesforce.login-default)
//   ES_DOCS                optional; documents per bulk run (default 300)
//   NODE_EXTRA_CA_CERTS    the receiver's CA (read by Node at start, not by this script)
//
// Steps: client.info() (the client's product check must pass); indices.putIndexTemplate and
// getIndexTemplate; helpers.bulk of ES_DOCS documents with `create` and deterministic `_id`s while
// the receiver refuses 25 items with 429 (the helper retries them by itself); the same bulk
// again, where every document comes back 409 through onDrop; an `index` action refused by the data
// stream; mapping conflicts refused per item with Elasticsearch's error (an object where the
// template maps a keyword, text where dynamic mapping made a long, through client.bulk and through
// the helper's onDrop); a whole-request 503 that the transport retries by itself; a wrong API key
// refused with 401. Request bodies are gzipped (`compression: true`).
//
// Prints one JSON summary on stdout; exits non-zero with a message on stderr on any failure.

import { Client, errors } from '@elastic/elasticsearch';

const RETRIED_ITEMS = 25;

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

const url = env('ES_URL');
const apiKey = { id: env('ES_API_KEY_ID'), api_key: env('ES_API_KEY') };
const version = env('ES_VERSION');
const stream = env('ES_STREAM', 'logs-salesforce.login-default');
const count = Number(env('ES_DOCS', '300'));

const client = new Client({
  node: url,
  auth: { apiKey },
  compression: true,
  maxRetries: 3,
  requestTimeout: 30000,
});

// The receiver's test endpoints, through the same client (they need no credentials).
async function admin(method, path, body) {
  return client.transport.request({ method, path, body });
}

function documents() {
  const base = Date.UTC(2026, 2, 10, 14, 25, 0);
  return Array.from({ length: count }, (_, i) => ({
    '@timestamp': new Date(base + i * 1000).toISOString(),
    event: { id: `evt-${i}`, dataset: 'salesforce.login', provider: 'EventLogFile' },
    message: `login ${i}`,
  }));
}

async function bulkRun(docs) {
  const drops = [];
  const stats = await client.helpers.bulk({
    datasource: docs,
    onDocument: (doc) => ({ create: { _index: stream, _id: doc.event.id } }),
    onDrop: (d) => drops.push(d),
    // Small flushes make several bulk requests, two at a time; retries wait 50 ms, not 5 s.
    flushBytes: 8000,
    concurrency: 2,
    retries: 3,
    wait: 50,
  });
  const byStatus = {};
  const errorTypes = {};
  for (const d of drops) {
    byStatus[d.status] = (byStatus[d.status] || 0) + 1;
    const t = d.error?.type ?? 'none';
    errorTypes[t] = (errorTypes[t] || 0) + 1;
  }
  return {
    total: stats.total,
    successful: stats.successful,
    failed: stats.failed,
    retry: stats.retry,
    aborted: stats.aborted,
    drops: drops.length,
    dropStatus: byStatus,
    dropErrorTypes: errorTypes,
    droppedIds: drops.map((d) => d.operation?.create?._id).filter(Boolean).sort(),
  };
}

// The error of item `i` of a bulk answer, as the client hands it over.
function itemError(response, i) {
  const item = Object.values(response.items?.[i] ?? {})[0] ?? {};
  const e = item.error ?? {};
  return {
    status: item.status,
    type: e.type,
    reason: e.reason,
    causedByType: e.caused_by?.type,
    causedByReason: e.caused_by?.reason,
  };
}

// Documents the mappings refuse: each comes back as its own item with status 400 and the
// parsing error, the rest of the request is indexed.
async function mappingConflicts() {
  const ts = '2026-03-10T14:25:00.000Z';
  const out = {};
  // The template maps event.id as a keyword; an object cannot be one.
  const objectInKeyword = await client.bulk({
    operations: [
      { create: { _index: stream, _id: 'conflict-object' } },
      { '@timestamp': ts, event: { id: { nested: 'x' } }, message: 'object in a keyword' },
      { create: { _index: stream, _id: 'dynamic-long' } },
      { '@timestamp': ts, login: { attempts: 3 } },
    ],
  });
  check(objectInKeyword.errors === true, `object in a keyword: ${JSON.stringify(objectInKeyword)}`);
  out.objectInKeyword = itemError(objectInKeyword, 0);
  out.dynamicLong = Object.values(objectInKeyword.items[1])[0].status;
  // login.attempts was mapped a long by the document before: text is refused.
  const textInLong = await client.bulk({
    operations: [
      { create: { _index: stream, _id: 'conflict-text' } },
      { '@timestamp': ts, login: { attempts: 'many' } },
    ],
  });
  out.textInLong = itemError(textInLong, 0);
  // The bulk helper hands a mapping conflict to onDrop without retrying it.
  const drops = [];
  const stats = await client.helpers.bulk({
    datasource: [{ '@timestamp': ts, login: { attempts: 'lots' }, message: 'through the helper' }],
    onDocument: () => ({ create: { _index: stream, _id: 'conflict-helper' } }),
    onDrop: (d) => drops.push(d),
    retries: 3,
    wait: 50,
  });
  check(stats.failed === 1 && drops.length === 1, `helper: ${JSON.stringify(stats)}`);
  out.helper = {
    status: drops[0].status,
    type: drops[0].error?.type,
    reason: drops[0].error?.reason,
    causedByReason: drops[0].error?.caused_by?.reason,
    retry: stats.retry,
  };
  const mapping = await client.indices.getMapping({ index: stream });
  const backing = Object.values(mapping)[0];
  out.attemptsType = backing?.mappings?.properties?.login?.properties?.attempts?.type;
  return out;
}

async function main() {
  const summary = {};

  const info = await client.info();
  check(info.version?.number === version, `version.number ${info.version?.number} != ${version}`);
  summary.info = { version: info.version.number, tagline: info.tagline, clusterName: info.cluster_name };

  const template = {
    name: 'sfevents-salesforce',
    index_patterns: ['logs-salesforce.*-*'],
    data_stream: {},
    priority: 200,
    template: {
      mappings: { properties: { event: { properties: { id: { type: 'keyword' } } } } },
    },
    _meta: { managed_by: 'sfevents-fidelity' },
  };
  const put = await client.indices.putIndexTemplate(template);
  check(put.acknowledged === true, `putIndexTemplate: ${JSON.stringify(put)}`);
  const got = await client.indices.getIndexTemplate({ name: template.name });
  const stored = got.index_templates?.[0];
  check(stored?.name === template.name, `getIndexTemplate: ${JSON.stringify(got)}`);
  summary.template = { acknowledged: put.acknowledged, indexPatterns: stored.index_template.index_patterns };

  // First run: 25 items refused with 429 on the way; the helper retries only those.
  await admin('POST', '/__receiver/faults', { items_429: RETRIED_ITEMS });
  const docs = documents();
  summary.first = await bulkRun(docs);
  check(summary.first.successful === count && summary.first.failed === 0,
    `first run: ${JSON.stringify(summary.first)}`);

  // Second run of the same ids: each document is already there, 409 for each.
  summary.second = await bulkRun(docs);
  check(summary.second.failed === count && summary.second.dropStatus['409'] === count,
    `second run: ${JSON.stringify(summary.second)}`);

  // A data stream refuses the `index` action per item.
  const refused = await client.bulk({
    operations: [
      { index: { _index: stream, _id: 'index-op' } },
      { '@timestamp': new Date().toISOString(), message: 'index op' },
    ],
  });
  const item = refused.items?.[0]?.index;
  check(refused.errors === true && item?.status === 400, `index action: ${JSON.stringify(refused)}`);
  summary.indexAction = { status: item.status, type: item.error?.type, reason: item.error?.reason };

  summary.mapping = await mappingConflicts();

  // A whole-request 503: the transport retries 502/503/504 by itself.
  await admin('POST', '/__receiver/faults', { requests_5xx: 1 });
  const after = await client.bulk({
    operations: [
      { create: { _index: stream, _id: 'after-503' } },
      { '@timestamp': new Date().toISOString(), message: 'after 503' },
    ],
  });
  summary.after503 = { errors: after.errors, status: after.items?.[0]?.create?.status };
  check(after.errors === false, `after 503: ${JSON.stringify(after)}`);

  // A wrong API key.
  const wrong = new Client({ node: url, auth: { apiKey: { id: apiKey.id, api_key: 'wrong' } } });
  try {
    await wrong.info();
    throw new Error('check failed: a wrong API key was accepted');
  } catch (err) {
    check(err instanceof errors.ResponseError, `wrong key: ${err}`);
    summary.wrongKey = {
      statusCode: err.statusCode,
      type: err.body?.error?.type,
      wwwAuthenticate: err.headers?.['www-authenticate'],
    };
  } finally {
    await wrong.close();
  }

  summary.receiverStats = await admin('GET', '/__receiver/stats');
  await client.close();
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

main().catch((err) => {
  const body = err?.meta?.body ? ` body=${JSON.stringify(err.meta.body)}` : '';
  process.stderr.write(`${err?.name ?? 'Error'}: ${err?.message ?? err}${body}\n`);
  process.exit(1);
});
