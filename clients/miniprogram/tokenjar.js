/*
 * TokenJar client for mini-programs (WeChat, uni-app, Taro).
 *
 * Keeps the one session token the gateway hands out, sends it on every request, and logs in
 * again through wx.login when the gateway says so. No dependencies; ES5 syntax plus Promise, so
 * the file runs on any base library without the "ES6 to ES5" build step.
 *
 * Uses only these calls of the platform object: request, uploadFile, downloadFile, login,
 * getStorageSync, setStorageSync, removeStorageSync — and, for downloadFile only, when the
 * platform has it, getFileSystemManager (to read the body of a 401).
 */
'use strict';

/** The gateway's error codes that mean: call wx.login, log in, retry. */
var LOGIN_AGAIN_CODES = ['login_required', 'session_key_stale'];

/** The gateway's error code for a session revoked while a request was under way. */
var SESSION_REVOKED = 'session_revoked';

/** Bodies larger than this are not read when looking for an error code. */
var MAX_ERROR_BODY = 16384;

var hasOwn = Object.prototype.hasOwnProperty;

function isLoginAgainCode(code) {
  return LOGIN_AGAIN_CODES.indexOf(code) !== -1;
}

/** The value of a header, whatever the letter case of its name; '' when absent. */
function headerValue(headers, name) {
  if (!headers || typeof headers !== 'object') return '';
  var wanted = name.toLowerCase();
  for (var key in headers) {
    if (!hasOwn.call(headers, key) || key.toLowerCase() !== wanted) continue;
    var value = headers[key];
    if (Object.prototype.toString.call(value) === '[object Array]') value = value[0];
    if (value === undefined || value === null) continue;
    value = String(value).replace(/^\s+|\s+$/g, '');
    if (value) return value;
  }
  return '';
}

/** A copy of `headers` without any header named `name` (in any case). */
function headersWithout(headers, name) {
  var out = {};
  var dropped = name.toLowerCase();
  if (headers && typeof headers === 'object') {
    for (var key in headers) {
      if (hasOwn.call(headers, key) && key.toLowerCase() !== dropped) out[key] = headers[key];
    }
  }
  return out;
}

/** The bytes of a short ASCII/UTF-8 JSON body in an ArrayBuffer, as a string. */
function bufferText(buffer) {
  if (typeof ArrayBuffer === 'undefined' || !(buffer instanceof ArrayBuffer)) return null;
  if (buffer.byteLength > MAX_ERROR_BODY) return null;
  var bytes = new Uint8Array(buffer);
  var text = '';
  for (var i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
  return text;
}

/** `error.code` of a gateway error body (object, JSON text or ArrayBuffer); '' otherwise. */
function errorCodeOf(data) {
  var body = data;
  if (typeof body !== 'string') {
    var text = bufferText(body);
    if (text !== null) body = text;
  }
  if (typeof body === 'string') {
    if (body.length > MAX_ERROR_BODY) return '';
    try {
      body = JSON.parse(body);
    } catch (e) {
      return '';
    }
  }
  if (body && typeof body === 'object' && body.error && typeof body.error.code === 'string') {
    return body.error.code;
  }
  return '';
}

/** An Error for a platform `fail` result ({errMsg}), keeping errMsg and errno. */
function platformError(result, fallback) {
  var errMsg = (result && result.errMsg) || fallback;
  var error = new Error(errMsg);
  error.errMsg = errMsg;
  if (result && result.errno !== undefined) error.errno = result.errno;
  return error;
}

function shallowCopy(object) {
  var out = {};
  if (object) {
    for (var key in object) {
      if (hasOwn.call(object, key)) out[key] = object[key];
    }
  }
  return out;
}

/**
 * createClient({ baseURL, tokenHeader, storageKey, loginPath, platform }) → client.
 *
 * client.request(options), client.uploadFile(options), client.downloadFile(options) take the
 * options of wx.request / wx.uploadFile / wx.downloadFile (url may be a path under baseURL) and
 * return a Promise of the platform's success result ({ statusCode, data, header } for request).
 * client.login() logs in now; client.token() is the stored token; client.clearToken() forgets it.
 */
function createClient(config) {
  config = config || {};
  /* global wx */
  var platform = config.platform || (typeof wx !== 'undefined' ? wx : null);
  if (!platform) throw new TypeError('tokenjar: no platform; pass platform: wx (or uni, or Taro)');
  if (!config.baseURL || typeof config.baseURL !== 'string') {
    throw new TypeError('tokenjar: baseURL is required, such as https://gw.example.com');
  }
  var baseURL = config.baseURL.replace(/\/+$/, '');
  var tokenHeader = config.tokenHeader || 'X-Session-Token';
  var storageKey = config.storageKey || 'tokenjar_token';
  var loginPath = config.loginPath || '/_tokenjar/wx/login';

  // Logins that succeeded so far, and the one under way (shared by every caller that waits).
  var loginCount = 0;
  var pendingLogin = null;

  function readToken() {
    var value;
    try {
      value = platform.getStorageSync(storageKey);
    } catch (e) {
      return '';
    }
    return typeof value === 'string' ? value : '';
  }

  function saveToken(token) {
    if (token && token !== readToken()) platform.setStorageSync(storageKey, token);
  }

  function clearToken() {
    platform.removeStorageSync(storageKey);
  }

  function resolveURL(url) {
    url = String(url || '');
    if (/^[a-z][a-z0-9+.\-]*:\/\//i.test(url)) return url;
    return baseURL + (url.charAt(0) === '/' ? '' : '/') + url;
  }

  /** The token goes to the gateway only, never to another host a caller names. */
  function isGatewayURL(url) {
    if (url === baseURL) return true;
    var next = url.charAt(baseURL.length);
    return url.indexOf(baseURL) === 0 && (next === '/' || next === '?' || next === '#');
  }

  /**
   * One call of a platform API with the token. A token the answer carries is stored when it
   * replaces the one this call sent: an answer that arrives after a login (say, a new anonymous
   * session minted for a request sent with an expired token) does not undo the login. The
   * login's own answer always wins.
   */
  function send(api, options, isLogin) {
    var url = resolveURL(options.url);
    var toGateway = isGatewayURL(url);
    var sentToken = toGateway ? readToken() : '';
    var call = shallowCopy(options);
    delete call.success;
    delete call.fail;
    delete call.complete;
    call.url = url;
    call.header = headersWithout(options.header, tokenHeader);
    if (sentToken) call.header[tokenHeader] = sentToken;

    return new Promise(function (resolve, reject) {
      var receivedHeader = null;
      function keep(header) {
        var token = toGateway ? headerValue(header, tokenHeader) : '';
        if (token && (isLogin || readToken() === sentToken)) saveToken(token);
      }
      call.success = function (result) {
        result = result || {};
        if (!result.header && receivedHeader) result.header = receivedHeader;
        keep(result.header);
        resolve({ result: result, sentToken: sentToken, toGateway: toGateway });
      };
      call.fail = function (result) {
        reject(platformError(result, api + ':fail'));
      };
      var task;
      try {
        task = platform[api](call);
      } catch (e) {
        reject(e);
        return;
      }
      // uploadFile and downloadFile answer no header in `success` on WeChat: read it here.
      if (task && typeof task.onHeadersReceived === 'function') {
        task.onHeadersReceived(function (event) {
          receivedHeader = (event && event.header) || null;
          keep(receivedHeader);
        });
      }
      // Taro also returns a Promise; its rejection is handled through `fail` above.
      if (task && typeof task.then === 'function') task.then(null, function () {});
    });
  }

  /** The gateway's error code of a 401, read as the API delivers bodies. */
  function unauthorizedCode(api, result) {
    if (!result || result.statusCode !== 401) return '';
    if (api !== 'downloadFile') return errorCodeOf(result.data);
    // downloadFile writes the body to a file; read it when the platform lets us.
    var path = result.tempFilePath || result.filePath;
    if (!path || typeof platform.getFileSystemManager !== 'function') return '';
    try {
      return errorCodeOf(platform.getFileSystemManager().readFileSync(path, 'utf8'));
    } catch (e) {
      return '';
    }
  }

  /** wx.login, then POST the code to the gateway; the answer's token is stored by send(). */
  function runLogin() {
    return new Promise(function (resolve, reject) {
      platform.login({
        success: function (result) {
          if (result && result.code) resolve(result.code);
          else reject(platformError(result, 'login:fail no code'));
        },
        fail: function (result) {
          reject(platformError(result, 'login:fail'));
        }
      });
    }).then(function (code) {
      return send('request', {
        url: loginPath,
        method: 'POST',
        header: { 'Content-Type': 'application/json' },
        data: { code: code }
      }, true);
    }).then(function (answer) {
      var result = answer.result;
      var token = headerValue(result.header, tokenHeader);
      if (result.statusCode === 200 && token) return result.data;
      var code = errorCodeOf(result.data) || 'login_failed';
      var body = result.data && typeof result.data === 'object' ? result.data : null;
      var message = (body && body.error && body.error.message) ||
        'tokenjar: login answered ' + result.statusCode + (token ? '' : ' without a token');
      var error = new Error(message);
      error.code = code;
      error.statusCode = result.statusCode;
      error.data = result.data;
      throw error;
    });
  }

  /** Logs in; callers arriving while a login is under way share it. */
  function login() {
    if (pendingLogin) return pendingLogin;
    var attempt = runLogin().then(function (data) {
      loginCount += 1;
      pendingLogin = null;
      return data;
    }, function (error) {
      pendingLogin = null;
      throw error;
    });
    pendingLogin = attempt;
    return attempt;
  }

  /**
   * Sends, and on a "log in again" answer logs in (or joins the login under way, or sees that a
   * login already finished since this request was sent) and sends once more. Never twice.
   */
  function perform(api, options) {
    options = options || {};
    function attempt(isRetry) {
      var loginsBefore = loginCount;
      return send(api, options).then(function (answer) {
        var result = answer.result;
        // Another host's 401 is its own business.
        var code = answer.toGateway ? unauthorizedCode(api, result) : '';
        if (code === SESSION_REVOKED && answer.sentToken && answer.sentToken === readToken()) {
          clearToken();
        }
        if (isRetry || !isLoginAgainCode(code)) return result;
        var ready = pendingLogin || (loginCount !== loginsBefore ? Promise.resolve() : login());
        return ready.then(function () {
          return attempt(true);
        });
      });
    }
    var done = attempt(false);
    if (options.success || options.fail || options.complete) {
      done.then(function (result) {
        if (options.success) options.success(result);
        if (options.complete) options.complete(result);
      }, function (error) {
        if (options.fail) options.fail(error);
        if (options.complete) options.complete(error);
      });
      done.then(null, function () {});
    }
    return done;
  }

  return {
    request: function (options) {
      return perform('request', options);
    },
    uploadFile: function (options) {
      return perform('uploadFile', options);
    },
    downloadFile: function (options) {
      return perform('downloadFile', options);
    },
    login: login,
    token: readToken,
    clearToken: clearToken
  };
}

module.exports = {
  createClient: createClient,
  LOGIN_AGAIN_CODES: LOGIN_AGAIN_CODES.slice()
};
