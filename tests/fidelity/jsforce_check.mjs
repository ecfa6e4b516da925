// Fidelity check: jsforce, a widely used Salesforce client nobody here wrote, used the way
// its users use it, against an sfsim instance over HTTPS.
//
// Environment:
//   SFSIM_URL                 login URL (the simulator's base URL, https://localhost:PORT)
//   SFSIM_CLIENT_ID, SFSIM_CLIENT_SECRET, SFSIM_USERNAME, SFSIM_PASSWORD
//   SFSIM_SECURITY_TOKEN      optional; appended to the password as Salesforce expects
//   SFSIM_PRIVATE_KEY_FILE    optional; when set, also logs in with the JWT bearer flow
//   SFSIM_API_VERSION         optional; default 64.0
//   NODE_EXTRA_CA_CERTS       the simulator's CA (read by Node at start, not by this script)
//
// Prints one JSON object on stdout; exits non-zero with a message on stderr on any failure.

import { createHash, createSign } from 'node:crypto';
import { readFileSync } from 'node:fs';

import jsforce from 'jsforce';

const JWT_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const SOQL =
  'SELECT Id, EventType, LogDate, Interval, Sequence, LogFileLength, LogFile, CreatedDate FROM EventLogFile';

function env(name, { optional = false } = {}) {
  const v = process.env[name];
  if (!v && !optional) throw new Error(`environment variable ${name} is not set`);
  return v || '';
}

function check(cond, message) {
  if (!cond) throw new Error(`check failed: ${message}`);
}

function sha256(bytes) {
  return createHash('sha256').update(bytes).digest('hex');
}

function b64url(data) {
  return Buffer.from(data).toString('base64url');
}

// A JWT bearer assertion signed RS256 with the connected app's key (jsforce takes the
// assertion as given; signing it is the caller's job, as with any jsforce user).
function jwtAssertion({ clientId, username, audience, keyPem }) {
  const header = b64url(JSON.stringify({ alg: 'RS256' }));
  const claims = b64url(
    JSON.stringify({
      iss: clientId,
      sub: username,
      aud: audience,
      exp: Math.floor(Date.now() / 1000) + 180,
    }),
  );
  const signer = createSign('RSA-SHA256');
  signer.update(`${header}.${claims}`);
  return `${header}.${claims}.${signer.sign(keyPem).toString('base64url')}`;
}

async function main() {
  const loginUrl = env('SFSIM_URL').replace(/\/+$/, '');
  const clientId = env('SFSIM_CLIENT_ID');
  const clientSecret = env('SFSIM_CLIENT_SECRET');
  const username = env('SFSIM_USERNAME');
  const password = env('SFSIM_PASSWORD');
  const token = env('SFSIM_SECURITY_TOKEN', { optional: true });
  const keyFile = env('SFSIM_PRIVATE_KEY_FILE', { optional: true });
  const version = env('SFSIM_API_VERSION', { optional: true }) || '64.0';

  const summary = { jsforceVersion: jsforce.VERSION, nodeVersion: process.version };

  // 1. OAuth 2.0 username-password flow (POST /services/oauth2/token).
  const conn = new jsforce.Connection({
    oauth2: { loginUrl, clientId, clientSecret },
    version,
  });
  const userInfo = await conn.login(username, password + token);
  check(typeof conn.accessToken === 'string' && conn.accessToken.length > 0, 'an access token');
  check(conn.instanceUrl === loginUrl, `instanceUrl ${conn.instanceUrl} is the simulator's`);
  check(userInfo && userInfo.id && userInfo.organizationId, 'user and org ids from the id URL');
  summary.login = true;
  summary.instanceUrl = conn.instanceUrl;
  summary.userId = userInfo.id;
  summary.organizationId = userInfo.organizationId;

  // 2. The identity URL (optional for collectors; reported, not fatal).
  try {
    const identity = await conn.identity();
    check(identity.username === username, `identity username ${identity.username}`);
    check(identity.user_id === userInfo.id, 'identity user_id matches the login');
    summary.identity = { ok: true, username: identity.username };
  } catch (e) {
    summary.identity = { ok: false, error: String(e && e.message ? e.message : e) };
  }

  // 3. A query spanning several nextRecordsUrl pages, followed by jsforce's autoFetch.
  let pages = 0;
  const query = conn.query(SOQL);
  query.on('fetch', () => {
    pages += 1;
  });
  const result = await query.run({ autoFetch: true, maxFetch: 100000 });
  const records = Array.isArray(result) ? result : result.records;
  const totalSize = Array.isArray(result) ? query.totalSize : result.totalSize;
  check(Array.isArray(records), 'query records are an array');
  check(totalSize === records.length, `totalSize ${totalSize} === fetched ${records.length}`);
  check(pages > 1, `the query needed more than one page (got ${pages})`);
  const ids = records.map((r) => r.Id);
  check(new Set(ids).size === ids.length, 'no record fetched twice across pages');
  for (const r of records) {
    check(r.attributes && r.attributes.type === 'EventLogFile', `record ${r.Id} attributes.type`);
    check(
      typeof r.LogFile === 'string' && r.LogFile.endsWith(`/sobjects/EventLogFile/${r.Id}/LogFile`),
      `record ${r.Id} LogFile path ${r.LogFile}`,
    );
  }
  summary.totalSize = totalSize;
  summary.fetched = records.length;
  summary.pages = pages;
  summary.idsSha256 = sha256([...ids].sort().join('\n'));

  // 4. Download the largest LogFile, as jsforce users do: conn.request(record.LogFile).
  //    jsforce hands back an application/octetstream body as a string; the CSV is ASCII/UTF-8,
  //    so its UTF-8 bytes are the body's bytes.
  const target = records.reduce((a, b) => (b.LogFileLength > a.LogFileLength ? b : a));
  const body = await conn.request(target.LogFile);
  check(typeof body === 'string', `LogFile body is a string (got ${typeof body})`);
  const bytes = Buffer.from(body, 'utf8');
  check(bytes.length > 0, 'a non-empty LogFile body');
  // The same file without compression (Content-Length framed) must be byte-identical.
  const plain = await conn.request({
    method: 'GET',
    url: target.LogFile,
    headers: { 'Accept-Encoding': 'identity' },
  });
  check(plain === body, 'identity-encoded download equals the default download');
  summary.logFileId = target.Id;
  summary.logFileEventType = target.EventType;
  summary.logFileLength = target.LogFileLength;
  summary.logFileBytes = bytes.length;
  summary.logFileSha256 = sha256(bytes);
  summary.logFileHeader = body.slice(0, body.indexOf('\n'));

  // 5. JWT bearer flow through jsforce's own API: conn.authorize({ grant_type, assertion }).
  if (keyFile) {
    const jwtConn = new jsforce.Connection({ loginUrl, version });
    const assertion = jwtAssertion({
      clientId,
      username,
      audience: 'https://login.salesforce.com',
      keyPem: readFileSync(keyFile, 'utf8'),
    });
    const jwtUser = await jwtConn.authorize({ grant_type: JWT_GRANT, assertion });
    check(jwtUser.id === userInfo.id, 'JWT login is the same user');
    check(jwtConn.instanceUrl === loginUrl, `JWT instanceUrl ${jwtConn.instanceUrl}`);
    const count = await jwtConn.query('SELECT COUNT() FROM EventLogFile');
    check(count.totalSize === totalSize, `COUNT() ${count.totalSize} === ${totalSize}`);
    summary.jwt = { ok: true, countTotalSize: count.totalSize };
  } else {
    summary.jwt = { ok: false, skipped: 'SFSIM_PRIVATE_KEY_FILE not set' };
  }

  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

main().catch((e) => {
  const name = e && e.name ? `${e.name}: ` : '';
  process.stderr.write(`jsforce fidelity check failed: ${name}${e && e.message ? e.message : e}\n`);
  // fetch errors carry the reason (e.g. an untrusted certificate) in their cause chain.
  for (let c = e && e.cause; c; c = c.cause) {
    process.stderr.write(`  caused by: ${c.code ? `${c.code}: ` : ''}${c.message || c}\n`);
  }
  if (e && e.stack) process.stderr.write(`${e.stack}\n`);
  process.exit(1);
});
