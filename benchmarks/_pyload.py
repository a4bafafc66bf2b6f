"""Fallback load generator when ``wrk`` is missing: N keep-alive connections on N threads.

``python _pyload.py URL PATH HEADERS_JSON CONNECTIONS SECONDS MAX_REQUESTS``; prints one JSON
line. Bounded by both the time and the request count.
"""

from __future__ import annotations

import http.client
import json
import statistics
import sys
import threading
import time
from urllib.parse import urlsplit


def main() -> None:
    url, path, headers = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    connections, seconds, max_requests = int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
    parts = urlsplit(url)
    if parts.hostname != "127.0.0.1":
        raise SystemExit("only 127.0.0.1")
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    budget = [max_requests]

    def worker() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        mine = []
        while time.monotonic() < deadline:
            with lock:
                if budget[0] <= 0:
                    break
                budget[0] -= 1
            start = time.perf_counter()
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            resp.read()
            mine.append(time.perf_counter() - start)
            if resp.status != 200:
                with lock:
                    errors[0] += 1
        conn.close()
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    print(
        json.dumps(
            {
                "requests": len(latencies),
                "seconds": elapsed,
                "rps": len(latencies) / elapsed,
                "p50_ms": statistics.median(latencies) * 1000 if latencies else 0.0,
                "errors": errors[0],
            }
        )
    )


if __name__ == "__main__":
    main()
