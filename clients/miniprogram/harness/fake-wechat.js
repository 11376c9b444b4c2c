'use strict';
// A fake of the WeChat API's auth.code2Session on 127.0.0.1:
// GET /sns/jscode2session?appid=&secret=&js_code=&grant_type=authorization_code
//
// Codes are issued by the fake itself (the fake wx.login asks for one), each for one openid, and
// are single-use, as on WeChat. Answers follow the documentation:
//   success: {"openid","session_key","unionid"}  (session_key: base64 of 16 bytes)
//   40029 invalid code · 40163 code been used · 45011 rate limit · 40226 high-risk user
//   -1 system busy · 40013 invalid appid · 40125 invalid appsecret
// Each user has one current session_key; rotateSessionKey() gives a new one (WeChat refreshes
// it after the client calls wx.login), and encrypt() seals data under the current one, the way
// wx.getUserInfo and the like hand out encryptedData.

const http = require('node:http');
const crypto = require('node:crypto');

async function startFakeWeChat({ appid, secret }) {
  const users = new Map(); // openid → { sessionKey: Buffer, unionid }
  const codes = new Map(); // code → { openid, used, errcode }
  let code2SessionCalls = 0;

  function user(openid) {
    if (!users.has(openid)) {
      users.set(openid, { sessionKey: crypto.randomBytes(16), unionid: 'u_' + openid.slice(2) });
    }
    return users.get(openid);
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    req.resume();
    const reply = (object) => {
      const body = JSON.stringify(object);
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (req.method !== 'GET' || url.pathname !== '/sns/jscode2session') {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      return res.end('not found');
    }
    code2SessionCalls += 1;
    const q = url.searchParams;
    if (q.get('appid') !== appid) return reply({ errcode: 40013, errmsg: 'invalid appid' });
    if (q.get('secret') !== secret) return reply({ errcode: 40125, errmsg: 'invalid appsecret' });
    if (q.get('grant_type') !== 'authorization_code') {
      return reply({ errcode: 40002, errmsg: 'invalid grant_type' });
    }
    const entry = codes.get(q.get('js_code') || '');
    if (!entry) return reply({ errcode: 40029, errmsg: 'invalid code' });
    if (entry.used) return reply({ errcode: 40163, errmsg: 'code been used' });
    entry.used = true;
    if (entry.errcode) return reply({ errcode: entry.errcode, errmsg: 'refused' });
    const u = user(entry.openid);
    reply({ session_key: u.sessionKey.toString('base64'), openid: entry.openid, unionid: u.unionid });
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });

  return {
    baseURL: `http://127.0.0.1:${server.address().port}`,
    get code2SessionCalls() { return code2SessionCalls; },

    /** A fresh single-use code for `openid`; `errcode` makes code2Session refuse it so. */
    issueCode(openid, errcode) {
      user(openid);
      const code = '0' + crypto.randomBytes(15).toString('hex');
      codes.set(code, { openid, used: false, errcode: errcode || 0 });
      return code;
    },

    /** A code WeChat never issued: code2Session answers 40029. */
    unknownCode() {
      return 'never' + crypto.randomBytes(8).toString('hex');
    },

    rotateSessionKey(openid) {
      user(openid).sessionKey = crypto.randomBytes(16);
    },

    /** {encryptedData, iv} of `object` plus its watermark, under the user's current key. */
    encrypt(openid, object) {
      const key = user(openid).sessionKey;
      const iv = crypto.randomBytes(16);
      const plain = Buffer.from(JSON.stringify(Object.assign({}, object, {
        watermark: { appid, timestamp: Math.floor(Date.now() / 1000) },
      })));
      const cipher = crypto.createCipheriv('aes-128-cbc', key, iv);
      const sealed = Buffer.concat([cipher.update(plain), cipher.final()]);
      return { encryptedData: sealed.toString('base64'), iv: iv.toString('base64') };
    },

    close() {
      return closeServer(server);
    },
  };
}

/** Stops a server and its open connections; resolves within a bounded time. */
function closeServer(server) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 2000);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    if (server.closeAllConnections) server.closeAllConnections();
  });
}

module.exports = { startFakeWeChat, closeServer };
