#!/usr/bin/env python3
"""Cold start of the gateway: milliseconds from exec to the first accepted TCP connection.

Usage: bench/cold-start.py [BINARY] [RUNS]   (defaults: .build/release/tokenjar, 7)

Each run starts `tokenjar serve` on 127.0.0.1 with a SQLite store in a fresh temporary
directory, polls the port every millisecond, stops the process with SIGTERM, and prints the
times and their median. The first run also pays for a cold page cache.
"""
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

binary = sys.argv[1] if len(sys.argv) > 1 else ".build/release/tokenjar"
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 7
port = 18555
env = dict(os.environ, TOKENJAR_STORE_ALLOW_PLAINTEXT="true", TOKENJAR_LOG_LEVEL="warning")
times = []
for _ in range(runs):
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [binary, "serve", "--listen", f"127.0.0.1:{port}", "--upstream", "http://127.0.0.1:9",
             "--store", f"sqlite:{tmp}/jars.db"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while time.perf_counter() - start < 10:
                with socket.socket() as s:
                    try:
                        s.connect(("127.0.0.1", port))
                        break
                    except OSError:
                        time.sleep(0.001)
            else:
                sys.exit("the gateway did not listen within 10 s")
            times.append((time.perf_counter() - start) * 1000)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
print("cold start to first accepted connection (ms):", " ".join(f"{t:.1f}" for t in times))
print(f"median {statistics.median(times):.1f} ms over {runs} runs")
