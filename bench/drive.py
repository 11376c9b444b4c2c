#!/usr/bin/env python3
"""Sends an exact number of requests through the gateway, for instruction counts per request.

Usage: bench/drive.py HOST:PORT REQUESTS [CONNECTIONS] [TOKENS]   (defaults: 8 connections, 1000 tokens)

Each connection is kept alive and sends GET / with `X-Session-Token: tok-NNNNNN`, the tokens
taken round-robin across all connections (the same tokens as bench/tokens.lua), and reads each
response in full (Content-Length bodies) before sending the next. Exits non-zero if any answer
is not 200 or carries no X-Echo-Cookie after the first pass over the tokens (a jar that did
not send its cookies). Prints `requests=N seconds=S failures=F`.
"""
import asyncio
import sys
import time

target, total = sys.argv[1], int(sys.argv[2])
conns = int(sys.argv[3]) if len(sys.argv) > 3 else 8
tokens = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
host, port = target.rsplit(":", 1)
next_index = 0
failures = 0


def claim():
    global next_index
    if next_index >= total:
        return None
    next_index += 1
    return next_index - 1


async def read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    if length:
        await reader.readexactly(length)
    return status, headers


async def connection():
    global failures
    reader, writer = await asyncio.open_connection(host, int(port))
    while (i := claim()) is not None:
        token = f"tok-{i % tokens + 1:06d}"
        writer.write(f"GET / HTTP/1.1\r\nHost: {target}\r\nX-Session-Token: {token}\r\n\r\n".encode())
        status, headers = await read_response(reader)
        if status != 200 or (i >= tokens + conns and "x-echo-cookie" not in headers):
            failures += 1
    writer.close()


async def main():
    start = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(conns)))
    print(f"requests={total} seconds={time.perf_counter() - start:.2f} failures={failures}")
    sys.exit(1 if failures else 0)


asyncio.run(main())
