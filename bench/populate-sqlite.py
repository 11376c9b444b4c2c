#!/usr/bin/env python3
"""Fills a SQLite store with many sessions of 3 cookies each, for the scale benchmark.

Usage: bench/populate-sqlite.py BINARY DB SESSIONS

BINARY is the tokenjar binary: it is started once on DB so the store creates and migrates its
schema, then stopped. The sessions are those of the load tools' tokens (`tok-000001`, ...,
see bench/tokens.lua), so a gateway with `server.adopt_client_tokens` finds them; each holds
`sid` (expires 2037), `pref` (session cookie, HttpOnly) and `lang` for host 127.0.0.1, path /,
encoded as CookieCodec version 1 and sealed with AES-256-GCM under the first key of
TOKENJAR_STORE_ENCRYPTION_KEYS exactly as the store seals them (or stored plain when
TOKENJAR_STORE_ALLOW_PLAINTEXT=true and no key is set). Rows go in with one transaction per
100,000 sessions; a million sessions take about a minute.
"""
import base64
import hashlib
import os
import socket
import sqlite3
import struct
import subprocess
import sys
import time

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

binary, db_path, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
HOST = "127.0.0.1"
FORMAT_BYTE = 0xE5


def migrate():
    port = 18590
    proc = subprocess.Popen(
        [binary, "serve", "--listen", f"127.0.0.1:{port}", "--upstream", "http://127.0.0.1:9",
         "--store", f"sqlite:{db_path}"],
        env=dict(os.environ, TOKENJAR_LOG_LEVEL="warning"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    return
            if proc.poll() is not None:
                sys.exit("tokenjar serve exited; check the store URL and encryption keys")
            time.sleep(0.05)
        sys.exit("tokenjar serve did not start")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def leb(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def codec(name, value, expiry_us, http_only, now_us):
    flags = 0x01 | (0x04 if http_only else 0) | (0x08 if expiry_us is not None else 0)
    out = bytearray([1, flags, 0]) + struct.pack("<qq", now_us, now_us)
    if expiry_us is not None:
        out += struct.pack("<q", expiry_us)
    for s in (name, value, HOST, "/"):
        b = s.encode()
        out += leb(len(b)) + b
    return bytes(out)


def context(name):
    out = bytearray(b"tokenjar cookie")
    for part in (name, HOST, "/"):
        b = part.encode()
        out += struct.pack(">I", len(b)) + b
    return bytes(out)


keys = os.environ.get("TOKENJAR_STORE_ENCRYPTION_KEYS", "").strip()
if keys:
    key_id, key_b64 = keys.split(",")[0].split(":", 1)
    key_id = int(key_id)
    aes = AESGCM(base64.urlsafe_b64decode(key_b64.strip().replace("+", "-").replace("/", "_") + "=" * (-len(key_b64.strip()) % 4)))
else:
    aes = None


def seal(plain, name):
    if aes is None:
        return plain
    header = bytes([FORMAT_BYTE, key_id])
    nonce = os.urandom(12)
    sealed = aes.encrypt(nonce, plain, header + context(name))  # ciphertext + 16-byte tag
    return header + nonce + sealed


migrate()
db = sqlite3.connect(db_path)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=NORMAL")
now = int(time.time())
now_us = now * 1_000_000
expires = now + 7 * 86_400
sid_expiry = 2145916799  # Fri, 31 Dec 2037 23:59:59 GMT
contexts = {}
start = time.time()
batch = 100_000
for first in range(1, count + 1, batch):
    sessions, cookies = [], []
    for i in range(first, min(first + batch, count + 1)):
        token_hash = hashlib.sha256(f"tok-{i:06d}".encode()).digest()
        sessions.append((token_hash, now, now, expires))
        sid = hashlib.md5(token_hash).hexdigest()
        for name, value, exp, http_only in (("sid", sid, sid_expiry, False), ("pref", "dark", None, True),
                                            ("lang", "en", sid_expiry, False)):
            payload = seal(codec(name, value, None if exp is None else exp * 1_000_000, http_only, now_us), name)
            cookies.append((token_hash, name, HOST, "/", exp, payload))
    with db:
        db.executemany(
            "INSERT OR REPLACE INTO sessions (token_hash, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?)",
            sessions)
        db.executemany(
            "INSERT OR REPLACE INTO cookies (token_hash, name, domain, path, expires_at, payload) VALUES (?, ?, ?, ?, ?, ?)",
            cookies)
    print(f"{min(first + batch - 1, count)} sessions ({time.time() - start:.0f} s)", flush=True)
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
db.close()
print(f"done: {count} sessions, {3 * count} cookies in {time.time() - start:.0f} s")
