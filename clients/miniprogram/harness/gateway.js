'use strict';
// Starts the real gateway (`tokenjar serve`) on 127.0.0.1 in front of a backend, with WeChat
// login pointed at a fake WeChat API, and stops it again. Every wait is bounded.
//
// The binary: $TOKENJAR_BIN, else the repository's debug build, .build/debug/tokenjar (build it
// with `swift build --product tokenjar`; scripts/test does).

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const READY_TIMEOUT_MS = 20000;
const STOP_TIMEOUT_MS = 5000;
const MAX_LOG_CHARS = 256 * 1024;

function gatewayBinary() {
  const fromEnv = process.env.TOKENJAR_BIN;
  const binary = fromEnv ? path.resolve(fromEnv) : path.join(REPO_ROOT, '.build', 'debug', 'tokenjar');
  let ok = false;
  try {
    fs.accessSync(binary, fs.constants.X_OK);
    ok = fs.statSync(binary).isFile();
  } catch (e) {
    ok = false;
  }
  if (!ok) {
    throw new Error(
      `the tokenjar binary is missing: ${binary}\n` +
      (fromEnv ? 'TOKENJAR_BIN names a file that is not an executable.\n'
        : 'Build it first from the repository root:  swift build --product tokenjar\n' +
          '(or point TOKENJAR_BIN at a built binary).\n'));
  }
  return binary;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** One HTTP exchange with a deadline: resolves {statusCode, headers, body} or rejects. */
function httpExchange(url, { method = 'GET', headers = {}, body = null, timeoutMs = 2000 } = {}) {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = http.request({
      host: target.hostname, port: target.port, path: target.pathname + target.search,
      method, headers, agent: false,
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms: ${method} ${url}`)), timeoutMs);
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ statusCode: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', (err) => { clearTimeout(timer); reject(err); });
    });
    req.on('error', (err) => { clearTimeout(timer); reject(err); });
    req.end(body || undefined);
  });
}

function configYAML({ port, backendPort, tokenHeader }) {
  const upstream = `http://127.0.0.1:${backendPort}`;
  // `memory` keeps nothing at rest, so the store needs no encryption key and no plaintext
  // choice (store.encryption_keys / store.allow_plaintext apply to SQLite and PostgreSQL).
  return [
    'server:',
    `  listen: "127.0.0.1:${port}"`,
    `  token_header: "${tokenHeader}"`,
    '  shutdown_grace: 2s',
    'store:',
    '  url: memory',
    'wechat:',
    '  timeout: 3s',
    'routes:',
    '  - name: members',
    '    path_prefix: /members',
    `    upstreams: ["${upstream}"]`,
    '    auth: wechat',
    '  - name: default',
    `    upstreams: ["${upstream}"]`,
    '',
  ].join('\n');
}

/**
 * Starts `tokenjar serve` and waits until it answers. Options: backendPort, wechat (the fake
 * WeChat API), appid, secret, tokenHeader.
 */
async function startGateway(options) {
  const binary = gatewayBinary();
  const tokenHeader = options.tokenHeader || 'X-Session-Token';
  let lastError = null;
  // A port found free may be taken before the gateway binds it: then try another.
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenjar-client-test-'));
    const port = await freePort();
    const configFile = path.join(dir, 'tokenjar.yaml');
    fs.writeFileSync(configFile, configYAML({ port, backendPort: options.backendPort, tokenHeader }));
    const env = {};
    for (const key of Object.keys(process.env)) {
      if (!key.startsWith('TOKENJAR_')) env[key] = process.env[key];
    }
    env.TOKENJAR_WECHAT_APPID = options.appid;
    env.TOKENJAR_WECHAT_SECRET = options.secret;
    env.TOKENJAR_WECHAT_API_BASE = options.wechat.baseURL;
    const args = [
      'serve', '--config', configFile,
      '--listen', `127.0.0.1:${port}`,
      '--upstream', `http://127.0.0.1:${options.backendPort}`,
      '--store', 'memory',
    ];
    const gateway = launch(binary, args, env, port, tokenHeader, dir);
    try {
      await gateway.ready();
      return gateway;
    } catch (error) {
      lastError = error;
      await gateway.stop();
      if (!/address already in use/i.test(String(error.message))) break;
    }
  }
  throw lastError;
}

function launch(binary, args, env, port, tokenHeader, dir) {
  const child = spawn(binary, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let logs = '';
  const collect = (chunk) => {
    if (logs.length < MAX_LOG_CHARS) logs += chunk.toString('utf8');
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  let exitInfo = null;
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
    child.once('error', (err) => {
      exitInfo = { code: null, signal: null, error: err };
      resolve(exitInfo);
    });
  });
  // Should this process end without stop() (a crash), the gateway does not outlive it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  exited.then(() => process.removeListener('exit', killOnExit));
  const baseURL = `http://127.0.0.1:${port}`;

  async function ready() {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (exitInfo) {
        throw new Error(`the gateway exited before answering (${JSON.stringify(exitInfo)}):\n${logs}`);
      }
      try {
        // An unknown gateway endpoint answers 404 at once, without touching the backend.
        await httpExchange(baseURL + '/_tokenjar/ready', { timeoutMs: 500 });
        return;
      } catch (e) {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error(`the gateway did not answer within ${READY_TIMEOUT_MS} ms:\n${logs}`);
  }

  async function stop() {
    if (!exitInfo) {
      child.kill('SIGTERM');
      const timedOut = await Promise.race([
        exited.then(() => false),
        new Promise((r) => setTimeout(() => r(true), STOP_TIMEOUT_MS)),
      ]);
      if (timedOut && !exitInfo) {
        child.kill('SIGKILL');
        await Promise.race([exited, new Promise((r) => setTimeout(r, STOP_TIMEOUT_MS))]);
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
    return exitInfo;
  }

  return {
    baseURL,
    tokenHeader,
    ready,
    stop,
    logs: () => logs,
    /** Ends a session on the gateway (POST /_tokenjar/logout), as expiry would. */
    async revoke(token) {
      const answer = await httpExchange(baseURL + '/_tokenjar/logout', {
        method: 'POST', headers: { [tokenHeader]: token, 'Content-Length': '0' },
      });
      if (answer.statusCode !== 200) throw new Error(`logout answered ${answer.statusCode}: ${answer.body}`);
    },
  };
}

module.exports = { startGateway, gatewayBinary, httpExchange };
