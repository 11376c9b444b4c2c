#!/usr/bin/env python3
"""Cost of gzip at the gateway: the same ~10 KiB JSON answer through a route with `gzip: false`
and with `gzip: true`, on loopback, bounded in time.

Usage: bench/gzip-cost.py [BINARY] [SECONDS] [CONNECTIONS]
       (defaults: .build/release/tokenjar, 10, 16)

nginx serves the JSON file (no compression of its own) on 127.0.0.1; the gateway runs with one
event loop, the memory store, no access log and one fixed benchmark token (adopt_client_tokens),
so every request is a plain proxied GET whose jar stays unchanged. wrk (1 thread) sends
`Accept-Encoding: gzip` in both runs. The gateway's CPU time per request comes from
/proc/<pid>/stat (utime + stime) before and after each wrk run.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

binary = sys.argv[1] if len(sys.argv) > 1 else ".build/release/tokenjar"
seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 10
connections = int(sys.argv[3]) if len(sys.argv) > 3 else 16
backend_port, gateway_port = 18601, 18602
ticks = os.sysconf("SC_CLK_TCK")


def wait_port(port, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.01)
    sys.exit(f"nothing listens on {port}")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime


def body_size(headers):
    out = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{content_type}"] + sum((["-H", h] for h in headers), [])
        + [f"http://127.0.0.1:{gateway_port}/data.json"], capture_output=True, text=True, check=True)
    return out.stdout


with tempfile.TemporaryDirectory() as tmp:
    items = [{"id": i, "name": f"item {i}", "tags": ["alpha", "beta", "gamma"], "price": i * 1.25, "ok": True}
             for i in range(110)]
    with open(f"{tmp}/data.json", "w") as f:
        json.dump(items, f)
    size = os.path.getsize(f"{tmp}/data.json")
    os.chmod(tmp, 0o755)  # nginx workers may run as another user
    os.chmod(f"{tmp}/data.json", 0o644)
    with open(f"{tmp}/nginx.conf", "w") as f:
        f.write(f"""worker_processes 1; pid {tmp}/nginx.pid; error_log {tmp}/nginx.err;
events {{ worker_connections 1024; }}
http {{ access_log off; types {{ application/json json; }} gzip off;
  server {{ listen 127.0.0.1:{backend_port}; root {tmp}; keepalive_requests 1000000; }} }}
""")
    nginx = subprocess.Popen([shutil.which("nginx") or "/usr/sbin/nginx", "-p", tmp, "-c", f"{tmp}/nginx.conf",
                              "-g", "daemon off;"], stderr=subprocess.DEVNULL)
    wait_port(backend_port)
    results = []
    try:
        for gzip in (False, True):
            with open(f"{tmp}/gw.yaml", "w") as f:
                f.write(f"""server:
  event_loops: 1
  adopt_client_tokens: true
store:
  url: memory
log:
  access_log: false
  level: warning
routes:
  - upstreams: ["http://127.0.0.1:{backend_port}"]
    gzip: {"true" if gzip else "false"}
""")
            gw = subprocess.Popen([binary, "serve", "--config", f"{tmp}/gw.yaml", "--listen", f"127.0.0.1:{gateway_port}"],
                                  stderr=subprocess.DEVNULL)
            try:
                wait_port(gateway_port)
                headers = ["Accept-Encoding: gzip", "X-Session-Token: bench-token-0001"]
                sent = body_size(headers)
                if not sent.startswith("200 "):
                    sys.exit(f"the gateway answered {sent}")
                sent = sent[4:]
                subprocess.run(["wrk", "-t1", "-c4", "-d1s"] + sum((["-H", h] for h in headers), [])
                               + [f"http://127.0.0.1:{gateway_port}/data.json"], capture_output=True)  # warm-up
                before = cpu_seconds(gw.pid)
                out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
                                     + sum((["-H", h] for h in headers), [])
                                     + [f"http://127.0.0.1:{gateway_port}/data.json"],
                                     capture_output=True, text=True, check=True).stdout
                cpu = cpu_seconds(gw.pid) - before
                requests = int(re.search(r"(\d+) requests in", out).group(1))
                rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
                p99 = re.search(r"99%\s+(\S+)", out).group(1)
                non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
                results.append((gzip, sent, rps, cpu / requests * 1e6, p99, non2xx.group(1) if non2xx else "0"))
            finally:
                gw.send_signal(signal.SIGTERM)
                gw.wait(timeout=20)
    finally:
        nginx.send_signal(signal.SIGQUIT)
        nginx.wait(timeout=10)

print(f"JSON body {size} bytes; wrk -t1 -c{connections} -d{seconds}s, Accept-Encoding: gzip")
print("gzip   bytes sent (content type)         req/s    gateway CPU/request   p99   non-2xx")
for gzip, sent, rps, cpu_us, p99, bad in results:
    print(f"{'on ' if gzip else 'off'}    {sent:<32} {rps:>8.0f}    {cpu_us:>8.1f} µs          {p99:>6} {bad}")
