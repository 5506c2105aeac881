#!/usr/bin/env python3
"""A bounded loopback flood of unauthenticated cosignatures, for docs/PERFORMANCE.md.

Usage: flood.py PORT PID [CLIENTS] [SECONDS]

CLIENTS threads (default 64) post junk cosignature lines to http://127.0.0.1:PORT for SECONDS
(default 15): half the 13-byte line of issue 15 (`— nobody AAAA`), half well-formed lines by a
name that is no member. Meanwhile a probe times GET /v1/state, GET /v1/checkpoint and a
GET /readyz every 0.5 s, and the server's resident memory (PID) is sampled. Only 127.0.0.1.
"""
import base64, http.client, os, sys, threading, time, collections

port, pid = int(sys.argv[1]), int(sys.argv[2])
clients = int(sys.argv[3]) if len(sys.argv) > 3 else 64
seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 15.0
deadline = time.monotonic() + seconds
junk = ["\u2014 nobody AAAA".encode(),
        ("\u2014 nobody " + base64.b64encode(os.urandom(76)).decode()).encode()]
counts = collections.Counter()
lock = threading.Lock()

def flood(i):
    body = junk[i % 2]
    conn = None
    while time.monotonic() < deadline:
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("POST", "/v1/cosignatures", body, {"Content-Type": "text/plain"})
            status = conn.getresponse()
            status.read()
            with lock:
                counts[status.status] += 1
        except Exception as e:
            with lock:
                counts[type(e).__name__] += 1
            conn = None

def rss_kb():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

def timed(path):
    start = time.monotonic()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", path)
        r = conn.getresponse(); r.read()
        return r.status, time.monotonic() - start
    except Exception as e:
        return type(e).__name__, time.monotonic() - start

base_rss = rss_kb()
idle = {p: timed(p) for p in ("/v1/state", "/v1/checkpoint")}
threads = [threading.Thread(target=flood, args=(i,), daemon=True) for i in range(clients)]
for t in threads: t.start()
samples = collections.defaultdict(list)
peak = base_rss
while time.monotonic() < deadline:
    peak = max(peak, rss_kb())
    for p in ("/v1/state", "/v1/checkpoint", "/readyz"):
        samples[p].append(timed(p))
    time.sleep(0.5)
for t in threads: t.join(timeout=60)
peak = max(peak, rss_kb())
print(f"clients {clients}, {seconds:.0f} s; RSS {base_rss/1024:.0f} MB before, peak {peak/1024:.0f} MB")
print(f"cosignature answers: {dict(counts)} ({sum(v for k, v in counts.items() if isinstance(k, int))/seconds:.0f}/s)")
for p, (s, t) in idle.items():
    print(f"idle {p}: {s} in {t*1000:.0f} ms")
for p, xs in samples.items():
    times = sorted(t for _, t in xs)
    statuses = collections.Counter(s for s, _ in xs)
    med = times[len(times)//2] if times else 0
    print(f"under flood {p}: {dict(statuses)}; median {med*1000:.0f} ms, max {max(times)*1000:.0f} ms")
