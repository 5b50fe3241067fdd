# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""N sequential GETs on one keep-alive connection; prints JSON with the
statuses and the client's own timings. usage: keepalive_client.py HOST:PORT N"""
import http.client
import json
import sys
import time

host, port = sys.argv[1].rsplit(":", 1)
n = int(sys.argv[2])
conn = http.client.HTTPConnection(host, int(port), timeout=60)
statuses, times = [], []
for i in range(n):
    t0 = time.monotonic()
    conn.request("GET", f"/?i={i}")
    r = conn.getresponse()
    r.read()
    times.append(time.monotonic() - t0)
    statuses.append(r.status)
conn.close()
print(json.dumps({"statuses": statuses, "max_seconds": max(times),
                  "total_seconds": sum(times)}))
