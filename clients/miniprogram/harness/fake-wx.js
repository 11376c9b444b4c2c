'use strict';
// A stand-in for the mini-program's `wx` object, with real HTTP through node's http module.
//
// It behaves like the WeChat base library where that matters to a client library:
// - `request` answers { statusCode, data, header } in `success`; `data` is parsed JSON unless
//   dataType is not 'json' or responseType is 'arraybuffer'; only network errors go to `fail`.
// - `uploadFile` answers { statusCode, data } with `data` a string and no header; the header is
//   available through the task's onHeadersReceived, as on WeChat.
// - `downloadFile` writes the body to a temporary file and answers { statusCode, tempFilePath }.
// - `login` hands out a code issued by the fake WeChat API for this "user".
// - storage is a Map.
// Header names are presented as sent (`headerCase: 'raw'`) or lowercased, as HTTP/2 gives them.

const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');

const DEFAULT_TIMEOUT_MS = 10000;

function createFakeWx(options) {
  const settings = Object.assign({ headerCase: 'raw', loginDelayMs: 20 }, options);
  const wechat = settings.wechat;
  const storage = new Map();
  const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenjar-fake-wx-'));

  const wx = {
    openid: settings.openid || 'o_' + crypto.randomBytes(8).toString('hex'),
    headerCase: settings.headerCase,
    /** Set to an errMsg to make wx.login fail; set to a function returning a code to override. */
    loginFailure: null,
    nextCode: null,
    calls: { request: [], uploadFile: [], downloadFile: [], login: 0 },
    storage,

    request(opts) {
      wx.calls.request.push({ url: opts.url, method: opts.method || 'GET', header: Object.assign({}, opts.header) });
      let url = opts.url;
      const method = (opts.method || 'GET').toUpperCase();
      const header = Object.assign({}, opts.header);
      let body = null;
      const data = opts.data;
      if (data !== undefined && data !== null) {
        const contentType = headerOf(header, 'content-type') || 'application/json';
        if (method === 'GET' || method === 'HEAD') {
          if (typeof data === 'object') {
            const query = new URLSearchParams(data).toString();
            if (query) url += (url.includes('?') ? '&' : '?') + query;
          }
        } else if (data instanceof ArrayBuffer) {
          body = Buffer.from(data);
        } else if (typeof data === 'string') {
          body = Buffer.from(data);
        } else if (contentType.startsWith('application/x-www-form-urlencoded')) {
          body = Buffer.from(new URLSearchParams(data).toString());
        } else {
          body = Buffer.from(JSON.stringify(data));
          if (!headerOf(header, 'content-type')) header['Content-Type'] = 'application/json';
        }
      }
      return exchange(url, method, header, body, opts, (response, buffer) => {
        let out;
        if (opts.responseType === 'arraybuffer') {
          out = buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength);
        } else {
          out = buffer.toString('utf8');
          if ((opts.dataType || 'json') === 'json') {
            try { out = JSON.parse(out); } catch (e) { /* stays a string, as on WeChat */ }
          }
        }
        return { statusCode: response.statusCode, data: out, header: presentHeaders(response), cookies: [] };
      });
    },

    uploadFile(opts) {
      wx.calls.uploadFile.push({ url: opts.url, header: Object.assign({}, opts.header) });
      const boundary = '----fakewx' + crypto.randomBytes(8).toString('hex');
      const parts = [];
      const formData = opts.formData || {};
      for (const key of Object.keys(formData)) {
        parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${key}"\r\n\r\n${formData[key]}\r\n`));
      }
      let file;
      try {
        file = fs.readFileSync(opts.filePath);
      } catch (e) {
        const task = { abort() {}, onHeadersReceived() {} };
        setImmediate(() => finish(opts, 'fail', { errMsg: 'uploadFile:fail file not found' }));
        return task;
      }
      parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${opts.name}"; ` +
        `filename="${path.basename(opts.filePath)}"\r\nContent-Type: application/octet-stream\r\n\r\n`));
      parts.push(file, Buffer.from(`\r\n--${boundary}--\r\n`));
      const header = Object.assign({}, opts.header, { 'Content-Type': `multipart/form-data; boundary=${boundary}` });
      return exchange(opts.url, 'POST', header, Buffer.concat(parts), opts, (response, buffer) =>
        ({ statusCode: response.statusCode, data: buffer.toString('utf8') }));
    },

    downloadFile(opts) {
      wx.calls.downloadFile.push({ url: opts.url, header: Object.assign({}, opts.header) });
      return exchange(opts.url, 'GET', Object.assign({}, opts.header), null, opts, (response, buffer) => {
        const tempFilePath = path.join(tempDir, 'download-' + crypto.randomBytes(6).toString('hex'));
        fs.writeFileSync(tempFilePath, buffer);
        return { statusCode: response.statusCode, tempFilePath };
      });
    },

    login(opts) {
      wx.calls.login += 1;
      setTimeout(() => {
        if (wx.loginFailure) return finish(opts, 'fail', { errMsg: wx.loginFailure });
        const code = wx.nextCode ? wx.nextCode() : wechat.issueCode(wx.openid);
        finish(opts, 'success', { code, errMsg: 'login:ok' });
      }, settings.loginDelayMs);
    },

    getStorageSync(key) {
      return storage.has(key) ? storage.get(key) : '';
    },
    setStorageSync(key, value) {
      storage.set(key, value);
    },
    removeStorageSync(key) {
      storage.delete(key);
    },

    getFileSystemManager() {
      return {
        readFileSync(file, encoding) {
          return fs.readFileSync(file, encoding);
        },
      };
    },

    /** Removes the temporary files of downloads. */
    cleanup() {
      fs.rmSync(tempDir, { recursive: true, force: true });
    },
  };

  /** Sends one request; `shape` turns the response into the success result. Returns a task. */
  function exchange(url, method, header, body, opts, shape) {
    const headersListeners = [];
    let settled = false;
    const timeoutMs = opts.timeout || DEFAULT_TIMEOUT_MS;
    const target = new URL(url);
    const headers = {};
    for (const key of Object.keys(header)) headers[key] = String(header[key]);
    if (body) headers['Content-Length'] = String(body.length);
    const req = http.request({
      host: target.hostname, port: target.port, path: target.pathname + target.search,
      method, headers, agent: false,
    });
    const timer = setTimeout(() => {
      req.destroy(new Error('timeout'));
    }, timeoutMs);
    const done = (kind, result) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      finish(opts, kind, result);
    };
    req.on('response', (response) => {
      const presented = presentHeaders(response);
      for (const listener of headersListeners) listener({ header: presented });
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => {
        const result = shape(response, Buffer.concat(chunks));
        result.errMsg = result.errMsg || 'ok';
        done('success', result);
      });
      response.on('error', (err) => done('fail', { errMsg: 'fail ' + err.message }));
    });
    req.on('error', (err) => done('fail', { errMsg: 'fail ' + err.message }));
    req.end(body || undefined);
    return {
      abort() { req.destroy(new Error('abort')); },
      onHeadersReceived(listener) { headersListeners.push(listener); },
    };
  }

  function presentHeaders(response) {
    const out = {};
    const raw = response.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      const name = wx.headerCase === 'lower' ? raw[i].toLowerCase() : raw[i];
      out[name] = name in out ? out[name] + ',' + raw[i + 1] : raw[i + 1];
    }
    return out;
  }

  return wx;
}

function headerOf(headers, name) {
  for (const key of Object.keys(headers || {})) {
    if (key.toLowerCase() === name) return String(headers[key]);
  }
  return '';
}

function finish(opts, kind, result) {
  if (kind === 'success' && opts.success) opts.success(result);
  if (kind === 'fail' && opts.fail) opts.fail(result);
  if (opts.complete) opts.complete(result);
}

module.exports = { createFakeWx };
