'use strict';
// The client library against the real gateway: `tokenjar serve` on 127.0.0.1 in front of a
// small Node backend (a route with `auth: wechat` under /members), with WeChat login against a
// fake WeChat API, and a fake `wx` whose request/uploadFile/downloadFile do real HTTP.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { createClient } = require('..');
const { createFakeWx } = require('../harness/fake-wx');
const { startFakeWeChat } = require('../harness/fake-wechat');
const { startBackend } = require('../harness/backend');
const { startGateway, gatewayBinary } = require('../harness/gateway');

const APPID = 'wx5e1f0c3a9b7d2e48';
const SECRET = '9f2c4e6a8b0d1f3e5a7c9b1d3f5e7a9c';
const TOKEN_KEY = 'session-token';

describe('client library against a running gateway', { timeout: 120000 }, () => {
  let wechat;
  let backend;
  let gateway;
  const fakes = [];

  before(async () => {
    gatewayBinary(); // fails here, with the build command, when the binary is missing
    wechat = await startFakeWeChat({ appid: APPID, secret: SECRET });
    backend = await startBackend();
    gateway = await startGateway({ backendPort: backend.port, wechat, appid: APPID, secret: SECRET });
  });

  after(async () => {
    for (const fake of fakes) fake.cleanup();
    if (gateway) await gateway.stop();
    if (backend) await backend.close();
    if (wechat) await wechat.close();
  });

  /** A fresh "phone": its own wx (storage, user) and a client on it. */
  function phone(options) {
    const wx = createFakeWx(Object.assign({ wechat }, options));
    fakes.push(wx);
    const client = createClient({ baseURL: gateway.baseURL, storageKey: TOKEN_KEY, platform: wx });
    return { wx, client };
  }

  function sentToken(call) {
    const key = Object.keys(call.header).find((k) => k.toLowerCase() === 'x-session-token');
    return key ? call.header[key] : undefined;
  }

  it('stores the token of the first response and sends it afterwards, whatever the header case', async () => {
    const { wx, client } = phone({ headerCase: 'lower' });
    const first = await client.request({ url: '/public/hello' });
    assert.equal(first.statusCode, 200);
    const token = wx.storage.get(TOKEN_KEY);
    assert.match(token, /^[A-Za-z0-9_-]{43}$/, 'a minted token is stored');
    assert.equal(first.data.token, null, 'the backend never sees the token');
    assert.equal(first.data.cookie, null);

    const second = await client.request({ url: '/public/again' });
    assert.equal(sentToken(wx.calls.request[1]), token, 'the stored token is sent');
    assert.match(second.data.cookie, /^LEGACYSESSID=/, 'the backend cookie came back through the jar');
    assert.equal(wx.storage.get(TOKEN_KEY), token, 'no new token while the session lives');
    assert.equal(wx.calls.login, 0);
  });

  it('logs in on login_required, stores the new token and retries; the backend sees the openid', async () => {
    const { wx, client } = phone();
    await client.request({ url: '/public/first' });
    const anonymous = wx.storage.get(TOKEN_KEY);

    const res = await client.request({ url: '/members/profile', method: 'POST', data: { a: 1 } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.data.openid, wx.openid);
    assert.equal(res.data.unionid, 'u_' + wx.openid.slice(2));
    assert.equal(res.data.token, null);
    assert.match(res.data.cookie, /LEGACYSESSID=/, 'the anonymous session cookies were carried over');
    assert.equal(wx.calls.login, 1);

    const loggedIn = wx.storage.get(TOKEN_KEY);
    assert.ok(loggedIn && loggedIn !== anonymous, 'the login rotated the token');
    const urls = wx.calls.request.map((c) => new URL(c.url).pathname);
    assert.deepEqual(urls, ['/public/first', '/members/profile', '/_tokenjar/wx/login', '/members/profile']);
    assert.equal(sentToken(wx.calls.request[2]), anonymous, 'the login carries the anonymous token');
    assert.equal(sentToken(wx.calls.request[3]), loggedIn, 'the retry carries the new token');

    const again = await client.request({ url: '/members/profile' });
    assert.equal(again.statusCode, 200);
    assert.equal(wx.calls.login, 1, 'no login while the session lives');
  });

  it('ten concurrent requests on an expired session share exactly one wx.login', async () => {
    const { wx, client } = phone();
    await client.login();
    const expired = wx.storage.get(TOKEN_KEY);
    assert.equal((await client.request({ url: '/members/ping' })).statusCode, 200);
    await gateway.revoke(expired); // the session ends on the gateway; the client still has the token
    const loginsBefore = wx.calls.login;
    const exchangesBefore = wechat.code2SessionCalls;
    const requestsBefore = wx.calls.request.length;

    const results = await Promise.all(Array.from({ length: 10 }, (_, i) =>
      client.request({ url: '/members/item/' + i })));

    results.forEach((res, i) => {
      assert.equal(res.statusCode, 200, `request ${i}`);
      assert.equal(res.data.openid, wx.openid);
      assert.equal(res.data.path, '/members/item/' + i);
    });
    assert.equal(wx.calls.login - loginsBefore, 1, 'one wx.login');
    assert.equal(wechat.code2SessionCalls - exchangesBefore, 1, 'one code2Session');
    const calls = wx.calls.request.slice(requestsBefore);
    const fresh = wx.storage.get(TOKEN_KEY);
    assert.notEqual(fresh, expired);
    assert.equal(calls.filter((c) => c.url.endsWith('/_tokenjar/wx/login')).length, 1);
    const retries = calls.filter((c) => sentToken(c) === fresh);
    assert.equal(retries.length, 10, 'each request retried once, with the new token');
    assert.equal(calls.length, 21, '10 first tries, 1 login, 10 retries');
  });

  it('retries once, not forever, when the answer still says log in again', async () => {
    const { wx, client } = phone();
    const hitsBefore = backend.hits('/members/insists');
    const res = await client.request({ url: '/members/insists' });
    // The gateway's login_required (no login yet), a login, then the backend's own 401.
    assert.equal(res.statusCode, 401);
    assert.equal(res.data.error.code, 'login_required');
    assert.equal(wx.calls.login, 1);

    const second = await client.request({ url: '/members/insists' });
    assert.equal(second.statusCode, 401);
    assert.equal(wx.calls.login, 2, 'one more login for the next call, and again one retry');
    assert.equal(backend.hits('/members/insists') - hitsBefore, 3, '1 retry of the first call, 2 tries of the second');
  });

  it('session_key_stale from /wx/decrypt: logs in again and retries once', async () => {
    const { wx, client } = phone();
    await client.login();
    // WeChat refreshed the user's session_key (the app called wx.login on its own): data now
    // comes encrypted under a key the gateway does not have yet.
    wechat.rotateSessionKey(wx.openid);
    const sealed = wechat.encrypt(wx.openid, { stepInfoList: [{ timestamp: 1, step: 4200 }] });
    const res = await client.request({ url: '/_tokenjar/wx/decrypt', method: 'POST', data: sealed });
    assert.equal(res.statusCode, 200, JSON.stringify(res.data));
    assert.equal(res.data.stepInfoList[0].step, 4200);
    assert.equal(res.data.watermark.appid, APPID);
    assert.equal(wx.calls.login, 2, 'the explicit login and the one after session_key_stale');

    // Data no key opens: one login, one retry, then the answer reaches the caller.
    const garbage = { encryptedData: Buffer.alloc(32, 7).toString('base64'), iv: Buffer.alloc(16, 1).toString('base64') };
    const before = wx.calls.request.length;
    const stale = await client.request({ url: '/_tokenjar/wx/decrypt', method: 'POST', data: garbage });
    assert.equal(stale.statusCode, 401);
    assert.equal(stale.data.error.code, 'session_key_stale');
    assert.equal(wx.calls.login, 3);
    const paths = wx.calls.request.slice(before).map((c) => new URL(c.url).pathname);
    assert.deepEqual(paths, ['/_tokenjar/wx/decrypt', '/_tokenjar/wx/login', '/_tokenjar/wx/decrypt']);
  });

  it('a failing wx.login reaches the caller, and every request waiting on it', async () => {
    const { wx, client } = phone();
    wx.loginFailure = 'login:fail network unavailable';
    const waiting = Array.from({ length: 3 }, () => client.request({ url: '/members/profile' }));
    for (const p of waiting) {
      await assert.rejects(p, (error) => {
        assert.equal(error.errMsg, 'login:fail network unavailable');
        return true;
      });
    }
    assert.equal(wx.calls.login, 1, 'the three requests shared the failed login');

    // The failure is not remembered: the next call logs in.
    wx.loginFailure = null;
    const res = await client.request({ url: '/members/profile' });
    assert.equal(res.statusCode, 200);
    assert.equal(wx.calls.login, 2);
  });

  it('a code the gateway refuses reaches the caller with the gateway error code', async () => {
    const { wx, client } = phone();
    wx.nextCode = () => wechat.unknownCode();
    await assert.rejects(client.request({ url: '/members/profile' }), (error) => {
      assert.equal(error.code, 'wx_code_invalid');
      assert.equal(error.statusCode, 401);
      return true;
    });
    wx.nextCode = () => wechat.issueCode(wx.openid, 40226);
    await assert.rejects(client.login(), (error) => {
      assert.equal(error.code, 'wx_high_risk_user');
      assert.equal(error.statusCode, 403);
      return true;
    });
    // A used code: WeChat's 40163.
    const code = wechat.issueCode(wx.openid);
    wx.nextCode = () => code;
    await client.login();
    await assert.rejects(client.login(), (error) => error.code === 'wx_code_used');
    assert.equal(wx.calls.login, 4);
  });

  it('uploadFile carries the token, keeps a token that arrives in its headers, and logs in again', async () => {
    const { wx, client } = phone();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenjar-upload-'));
    try {
      const file = path.join(dir, 'photo.jpg');
      fs.writeFileSync(file, 'JPEG... TOKENJAR-UPLOAD-MARKER ...');

      // No session yet: the gateway mints one; its token arrives in the upload's headers only.
      const anonymous = await client.uploadFile({ url: '/public/upload', filePath: file, name: 'file' });
      assert.equal(anonymous.statusCode, 200);
      assert.equal(typeof anonymous.data, 'string');
      const minted = wx.storage.get(TOKEN_KEY);
      assert.match(minted, /^[A-Za-z0-9_-]{43}$/);

      // An auth: wechat route: 401 login_required in a string body, one login, one retry.
      const res = await client.uploadFile({
        url: '/members/upload', filePath: file, name: 'file', formData: { album: 'holidays' },
      });
      assert.equal(res.statusCode, 200);
      const seen = JSON.parse(res.data);
      assert.equal(seen.openid, wx.openid);
      assert.equal(seen.fileArrived, true);
      assert.equal(seen.multipart, true);
      assert.equal(seen.token, null);
      assert.equal(wx.calls.login, 1);
      const loggedIn = wx.storage.get(TOKEN_KEY);
      assert.notEqual(loggedIn, minted);
      assert.deepEqual(wx.calls.uploadFile.map(sentToken), [undefined, minted, loggedIn]);

      // Logged in: it carries the token, no login.
      const again = await client.uploadFile({ url: '/members/upload', filePath: file, name: 'file' });
      assert.equal(JSON.parse(again.data).openid, wx.openid);
      assert.equal(sentToken(wx.calls.uploadFile[3]), loggedIn);
      assert.equal(wx.calls.login, 1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('downloadFile carries the token and logs in again on login_required', async () => {
    const { wx, client } = phone();
    const res = await client.downloadFile({ url: '/members/download/report.pdf' });
    assert.equal(res.statusCode, 200);
    assert.equal(fs.readFileSync(res.tempFilePath, 'utf8'), `file report.pdf for ${wx.openid}`);
    assert.equal(wx.calls.login, 1);
    assert.equal(wx.calls.downloadFile.length, 2);
    assert.equal(sentToken(wx.calls.downloadFile[1]), wx.storage.get(TOKEN_KEY));
  });
});
