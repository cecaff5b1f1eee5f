"""Benchmark: 500 webhook deliveries from 20 concurrent clients against a real `fovea serve` on loopback.

Run: .venv/bin/python benchmarks/webhook_load.py [--deliveries 500] [--clients 20]

20% of the deliveries repeat an event already in the list, 5% carry a bad signature. The events are
`appointment.scheduled` (the placeholder handler until prior_auth exists), so the run measures intake and
the worker queue, not a graph or Crystal PM. Checks: zero 5xx; every bad signature answered 401 and not stored; every valid unique event
stored once and processed once (status done, one attempt). Prints throughput and the p50/p95 latency of
the 202 answers. Bounded: a fixed number of requests, and a deadline for the worker to drain.
"""

import argparse
import asyncio
import json
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import httpx

from api.routes.webhooks import sign

SECRET = "bench-webhook-secret-0123456789"
REPO = Path(__file__).resolve().parents[1]
DRAIN_SECONDS = 120.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def deliveries(total: int, rng: random.Random) -> tuple[list[tuple[str, bytes, bool]], set[str]]:
    """(event id, body, signed correctly) per delivery, shuffled; and the valid unique ids."""
    bad, duplicates = round(total * 0.05), round(total * 0.20)
    unique = total - bad - duplicates
    events = [
        (
            f"evt_bench_{number:05d}",
            json.dumps(
                {
                    "id": f"evt_bench_{number:05d}",
                    "type": "appointment.scheduled",
                    "practice_id": "prac-1",
                    "occurred_at": "2025-03-04T15:00:00Z",
                    "data": {"appointment_id": f"APT-{number:05d}"},
                }
            ).encode(),
            True,
        )
        for number in range(unique)
    ]
    forged = [
        (f"evt_forged_{number:04d}", body, False) for number, (_id, body, _ok) in enumerate(events[:bad])
    ]
    planned = events + [rng.choice(events) for _ in range(duplicates)] + forged
    rng.shuffle(planned)
    return planned, {event_id for event_id, _body, _ok in events}


async def deliver(
    url: str, planned: list[tuple[str, bytes, bool]], clients: int
) -> list[tuple[int, float, bool]]:
    """(status, seconds, signed correctly) per delivery, sent by `clients` concurrent clients."""
    queue: asyncio.Queue[tuple[str, bytes, bool]] = asyncio.Queue()
    for delivery in planned:
        queue.put_nowait(delivery)
    results: list[tuple[int, float, bool]] = []

    async def client_loop() -> None:
        async with httpx.AsyncClient(timeout=30) as client:
            while not queue.empty():
                _event_id, body, genuine = queue.get_nowait()
                stamp = str(int(time.time()))
                signature = sign(SECRET if genuine else "not-the-secret", stamp, body)
                headers = {
                    "content-type": "application/json",
                    "X-CrystalPM-Timestamp": stamp,
                    "X-CrystalPM-Signature": signature,
                }
                started = time.perf_counter()
                answer = await client.post(f"{url}/webhooks/crystalpm", content=body, headers=headers)
                results.append((answer.status_code, time.perf_counter() - started, genuine))

    await asyncio.gather(*(client_loop() for _ in range(clients)))
    return results


def stored(database: Path) -> dict[str, tuple[str, int]]:
    with closing(sqlite3.connect(database)) as connection:
        return {
            row[0]: (row[1], row[2]) for row in connection.execute("SELECT id, status, attempts FROM events")
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=500)
    parser.add_argument("--clients", type=int, default=20)
    args = parser.parse_args()
    planned, unique_ids = deliveries(args.deliveries, random.Random(7))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="fovea-bench-") as folder:
        data_dir = Path(folder) / "var"
        env = {key: value for key, value in os.environ.items() if not key.startswith("FOVEA_")}
        env |= {"FOVEA_DATA_DIR": str(data_dir), "FOVEA_WEBHOOK_SECRET": SECRET, "FOVEA_LOG_LEVEL": "WARNING"}
        log_path = Path(folder) / "serve.log"
        with log_path.open("wb") as log_file:
            service = subprocess.Popen(
                [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
                cwd=REPO,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if service.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the service did not start; see\n{log_path.read_text()[-2000:]}")
                time.sleep(0.2)
            started = time.perf_counter()
            results = asyncio.run(deliver(url, planned, args.clients))
            elapsed = time.perf_counter() - started
            drain_deadline = time.monotonic() + DRAIN_SECONDS
            while True:
                rows = stored(data_dir / "fovea.db")
                if all(status in ("done", "failed", "skipped") for status, _attempts in rows.values()):
                    break
                if time.monotonic() > drain_deadline:
                    states = sorted({status for status, _attempts in rows.values()})
                    raise SystemExit(
                        f"the worker did not drain the queue in time ({len(rows)} events: {states})"
                    )
                time.sleep(0.2)
            drained = time.perf_counter() - started
        finally:
            service.terminate()
            service.wait(timeout=30)

    accepted = sorted(seconds for status, seconds, _genuine in results if status == 202)
    server_errors = sum(1 for status, _seconds, _genuine in results if status >= 500)
    forged_refused = sum(1 for status, _seconds, genuine in results if not genuine and status == 401)
    forged_total = sum(1 for _status, _seconds, genuine in results if not genuine)
    p95 = accepted[max(0, int(len(accepted) * 0.95) - 1)]
    once = set(rows) == unique_ids and all(row == ("done", 1) for row in rows.values())
    print(f"deliveries: {len(results)} from {args.clients} clients in {elapsed:.2f} s")
    print(f"throughput: {len(results) / elapsed:.0f} deliveries/s")
    print(f"202 latency: p50 {statistics.median(accepted) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms")
    print(f"5xx answers: {server_errors}")
    print(f"bad signatures refused: {forged_refused}/{forged_total}")
    print(f"valid unique events: {len(unique_ids)}, stored: {len(rows)}, processed exactly once: {once}")
    print(f"queue drained {drained:.2f} s after the first delivery")
    if server_errors or forged_refused != forged_total or not once:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
