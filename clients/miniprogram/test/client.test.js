'use strict';
// The client library on its own, against a scripted platform object (no network): header case,
// where the token goes, callbacks, the calls it makes on the platform, and the syntax it ships.

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { createClient, LOGIN_AGAIN_CODES } = require('..');

const BASE = 'https://gw.example.com';
const TOKEN_A = 'A'.repeat(43);
const TOKEN_B = 'B'.repeat(43);

/**
 * A platform whose request answers come from `route(call)` → {statusCode, data, header}.
 * Answers are delivered asynchronously, as on a device.
 */
function scripted(route, extra) {
  const storage = new Map();
  const platform = Object.assign({
    calls: [],
    logins: 0,
    storage,
    request(opts) {
      platform.calls.push(opts);
      setImmediate(() => {
        const answer = route(opts);
        if (answer.fail) return opts.fail({ errMsg: answer.fail });
        opts.success(Object.assign({ header: {}, errMsg: 'request:ok' }, answer));
      });
      return { abort() {} };
    },
    login(opts) {
      platform.logins += 1;
      setImmediate(() => opts.success({ code: 'code' + platform.logins }));
    },
    getStorageSync: (key) => (storage.has(key) ? storage.get(key) : ''),
    setStorageSync: (key, value) => storage.set(key, value),
    removeStorageSync: (key) => storage.delete(key),
  }, extra);
  return platform;
}

const loginRequired = { statusCode: 401, data: { error: { code: 'login_required', message: 'log in' } } };

function loginAnswer(token) {
  return { statusCode: 200, data: { logged_in: true, unionid_present: false }, header: { 'X-Session-Token': token } };
}

function headerNamed(headers, name) {
  const key = Object.keys(headers || {}).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : headers[key];
}

describe('createClient', () => {
  it('needs a baseURL and a platform', () => {
    assert.throws(() => createClient({ platform: scripted(() => ({})) }), /baseURL is required/);
    assert.throws(() => createClient({ baseURL: BASE }), /no platform/);
  });

  it('exports the codes that mean log in again', () => {
    assert.deepEqual(LOGIN_AGAIN_CODES, ['login_required', 'session_key_stale']);
  });
});

describe('the token', () => {
  it('is read from the token header in any letter case, also from an array', async () => {
    for (const header of [
      { 'X-Session-Token': TOKEN_A }, { 'x-session-token': TOKEN_A }, { 'X-SESSION-TOKEN': TOKEN_A },
      { 'x-session-token': [TOKEN_A] },
    ]) {
      const wx = scripted(() => ({ statusCode: 200, data: {}, header }));
      const client = createClient({ baseURL: BASE, platform: wx, storageKey: 't' });
      await client.request({ url: '/a' });
      assert.equal(wx.storage.get('t'), TOKEN_A, JSON.stringify(header));
      assert.equal(client.token(), TOKEN_A);
    }
  });

  it('is sent under the configured header name, replacing one the caller set in any case', async () => {
    const wx = scripted(() => ({ statusCode: 200, data: {} }));
    wx.storage.set('t', TOKEN_A);
    const client = createClient({ baseURL: BASE + '/', platform: wx, storageKey: 't', tokenHeader: 'X-Jar' });
    await client.request({ url: 'items?page=2', header: { 'x-jar': 'forged', Accept: 'application/json' } });
    const call = wx.calls[0];
    assert.equal(call.url, BASE + '/items?page=2');
    assert.deepEqual(call.header, { Accept: 'application/json', 'X-Jar': TOKEN_A });
  });

  it('goes to the gateway only: not sent to, nor taken from, another host', async () => {
    const wx = scripted(() => ({ statusCode: 200, data: {}, header: { 'X-Session-Token': TOKEN_B } }));
    wx.storage.set('t', TOKEN_A);
    const client = createClient({ baseURL: BASE, platform: wx, storageKey: 't' });
    await client.request({ url: 'https://cdn.example.net/x.json' });
    await client.request({ url: 'https://gw.example.com.evil.test/x' });
    assert.equal(headerNamed(wx.calls[0].header, 'x-session-token'), undefined);
    assert.equal(headerNamed(wx.calls[1].header, 'x-session-token'), undefined);
    assert.equal(wx.storage.get('t'), TOKEN_A);
    await client.request({ url: BASE + '/absolute' });
    assert.equal(headerNamed(wx.calls[2].header, 'x-session-token'), TOKEN_A);
    assert.equal(wx.storage.get('t'), TOKEN_B);
  });

  it('from a late answer does not replace the token of a login that finished meanwhile', async () => {
    // A request to an open route goes out with an expired token; the gateway mints a new
    // anonymous session for it. A login finishes before that answer arrives: the login's token
    // stays.
    const late = [];
    const wx = scripted(() => ({}));
    wx.request = (opts) => {
      wx.calls.push(opts);
      if (opts.url.endsWith('/wx/login')) return setImmediate(() => opts.success(loginAnswer(TOKEN_B)));
      late.push(() => opts.success({ statusCode: 200, data: 'public', header: { 'X-Session-Token': 'C'.repeat(43) } }));
    };
    wx.storage.set('t', TOKEN_A);
    const client = createClient({ baseURL: BASE, platform: wx, storageKey: 't' });
    const open = client.request({ url: '/public' });
    await client.login();
    late[0]();
    assert.equal((await open).data, 'public');
    assert.equal(wx.storage.get('t'), TOKEN_B);
  });

  it('is not replaced by a login when another host answers 401 login_required', async () => {
    const wx = scripted(() => loginRequired);
    wx.storage.set('t', TOKEN_A);
    const client = createClient({ baseURL: BASE, platform: wx, storageKey: 't' });
    const res = await client.request({ url: 'https://api.other.example/me' });
    assert.equal(res.statusCode, 401);
    assert.equal(wx.logins, 0);
    assert.equal(wx.calls.length, 1);
  });

  it('is not sent when none is stored', async () => {
    const wx = scripted(() => ({ statusCode: 200, data: {} }));
    await createClient({ baseURL: BASE, platform: wx }).request({ url: '/a' });
    assert.deepEqual(wx.calls[0].header, {});
  });

  it('is forgotten on session_revoked, and the answer reaches the caller', async () => {
    const wx = scripted(() => ({ statusCode: 401, data: { error: { code: 'session_revoked' } } }));
    wx.storage.set('t', TOKEN_A);
    const client = createClient({ baseURL: BASE, platform: wx, storageKey: 't' });
    const res = await client.request({ url: '/a', method: 'POST' });
    assert.equal(res.statusCode, 401);
    assert.equal(wx.storage.has('t'), false);
    assert.equal(wx.logins, 0);
    assert.equal(wx.calls.length, 1, 'not retried: the backend may have acted on it');
  });
});

describe('logging in again', () => {
  it('detects the code in a JSON string and in an ArrayBuffer', async () => {
    for (const data of [JSON.stringify(loginRequired.data), new TextEncoder().encode(JSON.stringify(loginRequired.data)).buffer]) {
      let step = 0;
      const wx = scripted((call) => {
        step += 1;
        if (call.url.endsWith('/_tokenjar/wx/login')) return loginAnswer(TOKEN_B);
        return step === 1 ? { statusCode: 401, data } : { statusCode: 200, data: 'ok' };
      });
      const res = await createClient({ baseURL: BASE, platform: wx }).request({ url: '/a' });
      assert.equal(res.data, 'ok');
      assert.equal(wx.logins, 1);
    }
  });

  it('posts the code to loginPath with the current token', async () => {
    const wx = scripted((call) => (call.url.endsWith('/auth/wx/login') ? loginAnswer(TOKEN_B) : { statusCode: 200, data: {} }));
    wx.storage.set('t', TOKEN_A);
    const client = createClient({ baseURL: BASE, platform: wx, storageKey: 't', loginPath: '/auth/wx/login' });
    const data = await client.login();
    assert.deepEqual(data, { logged_in: true, unionid_present: false });
    const call = wx.calls[0];
    assert.equal(call.url, BASE + '/auth/wx/login');
    assert.equal(call.method, 'POST');
    assert.deepEqual(call.data, { code: 'code1' });
    assert.equal(headerNamed(call.header, 'x-session-token'), TOKEN_A);
    assert.equal(wx.storage.get('t'), TOKEN_B);
  });

  it('retries once, then hands the 401 to the caller', async () => {
    const wx = scripted((call) => (call.url.endsWith('/wx/login') ? loginAnswer(TOKEN_B) : loginRequired));
    const res = await createClient({ baseURL: BASE, platform: wx }).request({ url: '/a' });
    assert.equal(res.statusCode, 401);
    assert.equal(wx.logins, 1);
    assert.deepEqual(wx.calls.map((c) => c.url), [BASE + '/a', BASE + '/_tokenjar/wx/login', BASE + '/a']);
  });

  it('does not log in again for a 401 that arrives after a newer login finished', async () => {
    // Request 1 goes out, request 2 triggers a login that finishes before request 1's 401
    // arrives: request 1 retries with the new token, without a second login.
    const pending = [];
    const wx = scripted(() => ({}));
    wx.request = (opts) => {
      wx.calls.push(opts);
      if (opts.url.endsWith('/wx/login')) {
        setImmediate(() => opts.success(loginAnswer(TOKEN_B)));
      } else if (headerNamed(opts.header, 'x-session-token') === TOKEN_B) {
        setImmediate(() => opts.success({ statusCode: 200, data: 'ok', header: {} }));
      } else {
        pending.push(() => opts.success(Object.assign({ header: {} }, loginRequired)));
      }
    };
    const client = createClient({ baseURL: BASE, platform: wx });
    const first = client.request({ url: '/1' });
    const second = client.request({ url: '/2' });
    pending[1]();
    assert.equal((await second).data, 'ok');
    pending[0]();
    assert.equal((await first).data, 'ok');
    assert.equal(wx.logins, 1);
  });

  it('rejects with the gateway code when the login is refused, and when it carries no token', async () => {
    const refused = scripted((call) => (call.url.endsWith('/wx/login')
      ? { statusCode: 401, data: { error: { code: 'wx_code_used', message: 'The code was used already.' } } }
      : loginRequired));
    await assert.rejects(createClient({ baseURL: BASE, platform: refused }).request({ url: '/a' }),
      { code: 'wx_code_used', statusCode: 401, message: 'The code was used already.' });

    const tokenless = scripted((call) => (call.url.endsWith('/wx/login') ? { statusCode: 200, data: {} } : loginRequired));
    await assert.rejects(createClient({ baseURL: BASE, platform: tokenless }).login(), { code: 'login_failed' });
  });

  it('rejects with errMsg when the network fails', async () => {
    const wx = scripted(() => ({ fail: 'request:fail timeout' }));
    await assert.rejects(createClient({ baseURL: BASE, platform: wx }).request({ url: '/a' }),
      { errMsg: 'request:fail timeout', message: 'request:fail timeout' });
  });
});

describe('the options of wx.request', () => {
  it('passes them through and calls success and complete', async () => {
    const wx = scripted(() => ({ statusCode: 201, data: { ok: true } }));
    const seen = [];
    const res = await createClient({ baseURL: BASE, platform: wx }).request({
      url: '/a', method: 'PUT', data: { x: 1 }, dataType: 'json', responseType: 'text', timeout: 5000,
      success: (r) => seen.push(['success', r.statusCode]),
      fail: () => seen.push(['fail']),
      complete: () => seen.push(['complete']),
    });
    assert.equal(res.statusCode, 201);
    const call = wx.calls[0];
    assert.equal(call.method, 'PUT');
    assert.deepEqual(call.data, { x: 1 });
    assert.equal(call.timeout, 5000);
    assert.equal(call.responseType, 'text');
    assert.notEqual(call.success, undefined);
    assert.deepEqual(seen, [['success', 201], ['complete']]);
  });

  it('calls fail and complete on an error', async () => {
    const wx = scripted(() => ({ fail: 'request:fail' }));
    const seen = [];
    await assert.rejects(createClient({ baseURL: BASE, platform: wx }).request({
      url: '/a', fail: (e) => seen.push(['fail', e.errMsg]), complete: () => seen.push(['complete']),
    }));
    assert.deepEqual(seen, [['fail', 'request:fail'], ['complete']]);
  });
});

describe('other runtimes', () => {
  it('uses no member of the platform but request, uploadFile, downloadFile, login and storage', async () => {
    const allowed = new Set(['request', 'uploadFile', 'downloadFile', 'login', 'getStorageSync',
      'setStorageSync', 'removeStorageSync', 'getFileSystemManager']);
    const touched = new Set();
    const answer = (opts, result) => setImmediate(() => opts.success(result));
    let served = 0;
    const target = {
      request(opts) {
        served += 1;
        if (opts.url.endsWith('/wx/login')) return answer(opts, loginAnswer(TOKEN_B));
        answer(opts, served === 1 ? Object.assign({ header: {} }, loginRequired) : { statusCode: 200, data: {}, header: {} });
      },
      uploadFile(opts) { answer(opts, { statusCode: 200, data: '{}' }); },
      downloadFile(opts) { answer(opts, { statusCode: 200, tempFilePath: '/tmp/x' }); },
      login(opts) { answer(opts, { code: 'c' }); },
      getStorageSync() { return ''; },
      setStorageSync() {},
      removeStorageSync() {},
      getFileSystemManager() { throw new Error('not used for a 200'); },
    };
    // A uni-app or Taro object has far more members; only these may be touched.
    const platform = new Proxy(target, {
      get(object, name) {
        if (typeof name === 'string') touched.add(name);
        return object[name];
      },
    });
    const client = createClient({ baseURL: BASE, platform });
    await client.request({ url: '/a' });
    await client.uploadFile({ url: '/u', filePath: '/tmp/f', name: 'file' });
    await client.downloadFile({ url: '/d' });
    for (const name of touched) assert.ok(allowed.has(name), `touched ${name}`);
    assert.ok(touched.has('login') && touched.has('setStorageSync'));
  });

  it('works with a Taro-style API that also returns a rejecting Promise', async () => {
    const wx = scripted(() => ({}));
    wx.request = (opts) => {
      setImmediate(() => opts.fail({ errMsg: 'request:fail abort' }));
      const task = Promise.reject(new Error('request:fail abort'));
      task.abort = () => {};
      return task;
    };
    await assert.rejects(createClient({ baseURL: BASE, platform: wx }).request({ url: '/a' }), { errMsg: 'request:fail abort' });
  });
});

describe('the shipped file', () => {
  const source = fs.readFileSync(path.join(__dirname, '..', 'tokenjar.js'), 'utf8');

  /** The source without comments, strings and regular-expression literals the file uses. */
  function code() {
    return source
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/\/\/[^\n]*/g, '')
      .replace(/'(?:[^'\\\n]|\\.)*'/g, "''")
      .replace(/\/\^[^\n]*?\/[gimsuy]*/g, '/re/');
  }

  it('is ES5 syntax with Promise: no arrow, let/const, class, template, spread, async, ?. or ??', () => {
    const body = code();
    const forbidden = [
      [/=>/, 'arrow function'], [/\b(let|const|class)\s/, 'let/const/class'], [/`/, 'template literal'],
      [/\.\.\./, 'spread'], [/\basync\b|\bawait\b/, 'async/await'], [/\?\./, 'optional chaining'],
      [/\?\?/, 'nullish coalescing'], [/\*\*/, 'exponent operator'], [/\bimport\b|\bexport\b/, 'ES module syntax'],
    ];
    for (const [pattern, what] of forbidden) assert.doesNotMatch(body, pattern, what);
  });

  it('is the package main, and the package has no dependencies', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));
    assert.equal(pkg.main, 'tokenjar.js');
    assert.equal(pkg.dependencies, undefined);
    assert.doesNotMatch(code(), /require\(/);
  });
});
