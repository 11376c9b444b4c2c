'use strict';
// A small legacy backend on 127.0.0.1 that keeps a cookie session (LEGACYSESSID) and reports
// what it received, so tests can see what the backend sees behind the gateway.
//
//   any path                  → 200 JSON {path, method, openid, unionid, cookie, token, bodyBytes}
//                               and a LEGACYSESSID cookie when the request carried none
//   /members/upload           → the same JSON as text, plus whether the uploaded file arrived
//   /members/download/NAME    → text/plain "file NAME for OPENID"
//   /members/insists          → 401 {"error":{"code":"login_required"}} every time
// `hits(path)` counts requests per path.

const http = require('node:http');
const crypto = require('node:crypto');
const { closeServer } = require('./fake-wechat');

async function startBackend() {
  const hits = new Map();
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url, 'http://127.0.0.1');
      hits.set(url.pathname, (hits.get(url.pathname) || 0) + 1);
      const body = Buffer.concat(chunks);
      const headers = {};
      if (!/(^|;\s*)LEGACYSESSID=/.test(req.headers.cookie || '')) {
        headers['Set-Cookie'] = 'LEGACYSESSID=' + crypto.randomBytes(8).toString('hex') + '; Path=/; HttpOnly';
      }
      const seen = {
        path: url.pathname,
        method: req.method,
        openid: req.headers['x-wx-openid'] || null,
        unionid: req.headers['x-wx-unionid'] || null,
        cookie: req.headers.cookie || null,
        token: req.headers['x-session-token'] || null,
        bodyBytes: body.length,
      };
      if (url.pathname === '/members/insists') {
        return send(res, 401, headers, 'application/json', JSON.stringify({
          error: { code: 'login_required', message: 'The backend wants a login.' },
        }));
      }
      if (url.pathname.startsWith('/members/download/')) {
        const name = url.pathname.slice('/members/download/'.length);
        return send(res, 200, headers, 'text/plain', `file ${name} for ${seen.openid}`);
      }
      if (url.pathname === '/members/upload') {
        seen.fileArrived = body.includes(Buffer.from('TOKENJAR-UPLOAD-MARKER'));
        seen.multipart = /^multipart\/form-data/.test(req.headers['content-type'] || '');
      }
      send(res, 200, headers, 'application/json', JSON.stringify(seen));
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    port: server.address().port,
    hits: (path) => hits.get(path) || 0,
    close: () => closeServer(server),
  };
}

function send(res, status, headers, contentType, body) {
  res.writeHead(status, Object.assign({
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
  }, headers));
  res.end(body);
}

module.exports = { startBackend };
