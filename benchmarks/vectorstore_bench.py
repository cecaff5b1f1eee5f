"""Vector store numbers: full icd10_index ingest time and filtered top-5 query latency (bars: 3 min, 50 ms).

Run: `.venv/bin/python benchmarks/vectorstore_bench.py [--queries 200]`. It works in a temporary folder and
prints its numbers; it is not a test.
"""

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from billing.settings import Settings
from knowledge.vectorstore import ICD10_INDEX, get_collection, ingest_icd10_index, load_minilm, open_chroma
from knowledge.vectorstore.collections import search_icd10
from knowledge.vectorstore.embeddings import embed_texts

INGEST_BAR_SECONDS = 180.0
QUERY_BAR_MS = 50.0

# (what a note says, the code prefix a caller would narrow to)
QUERIES = [
    ("primary open angle glaucoma both eyes mild", "H40"),
    ("glaucoma suspect ocular hypertension right eye", "H40.0"),
    ("dry age related macular degeneration intermediate left eye", "H35.3"),
    ("wet AMD with active CNV right eye", "H35.32"),
    ("nuclear sclerosis cataract both eyes", "H25"),
    ("posterior vitreous detachment left eye", "H43"),
    ("allergic conjunctivitis both eyes", "H10"),
    ("dry eye syndrome bilateral lacrimal glands", "H04"),
    ("type 2 diabetes with mild nonproliferative retinopathy without macular edema", "E11.3"),
    ("blepharitis right upper and lower lid", "H01"),
    ("chalazion left upper eyelid", "H00"),
    ("myopia with astigmatism both eyes", "H52"),
    ("presbyopia", "H52"),
    ("corneal abrasion right eye initial encounter", "S05"),
    ("foreign body in cornea left eye", "T15"),
    ("long term use of hydroxychloroquine", "Z79"),
    ("pseudophakia", "Z96"),
    ("retinal detachment with single break right eye", "H33"),
    ("keratoconus stable both eyes", "H18"),
    ("demodex blepharitis", "B88"),
]


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=200)
    arguments = parser.parse_args()

    started = time.perf_counter()
    load_minilm()
    print(f"MiniLM load: {time.perf_counter() - started:.1f} s")
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"load average before: {load} ({os.cpu_count()} CPUs)")

    with tempfile.TemporaryDirectory(prefix="fovea-bench-") as folder:
        client = open_chroma(Settings(_env_file=None, data_dir=Path(folder)))
        result = ingest_icd10_index(client)
        verdict = "ok" if result.seconds < INGEST_BAR_SECONDS else "OVER"
        print(
            f"icd10_index full ingest: {result.added} codes in {result.seconds:.1f} s "
            f"({result.added / result.seconds:.0f} docs/s) [bar {INGEST_BAR_SECONDS:.0f} s: {verdict}]"
        )
        rerun = ingest_icd10_index(client)
        print(
            f"icd10_index re-run: {rerun.unchanged} unchanged, {rerun.added + rerun.updated} written, "
            f"{rerun.seconds:.2f} s"
        )

        search_icd10(client, "warm-up", prefix="H40")
        latencies_ms = []
        for number in range(arguments.queries):
            text, prefix = QUERIES[number % len(QUERIES)]
            began = time.perf_counter()
            hits = search_icd10(client, text, k=5, prefix=prefix)
            latencies_ms.append((time.perf_counter() - began) * 1000)
            assert hits and all(hit.code.replace(".", "").startswith(prefix.replace(".", "")) for hit in hits)
        p50, p95 = _percentile(latencies_ms, 0.50), _percentile(latencies_ms, 0.95)
        verdict = "ok" if p95 < QUERY_BAR_MS else "OVER"
        print(
            f"filtered top-5 search_icd10 (query embedding included), {arguments.queries} queries over "
            f"{get_collection(client, ICD10_INDEX).count()} codes: p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
            f"mean {statistics.fmean(latencies_ms):.1f} ms [bar {QUERY_BAR_MS:.0f} ms: {verdict}]"
        )
        collection = get_collection(client, ICD10_INDEX)
        vectors = {text: embed_texts([text])[0].tolist() for text, _ in QUERIES}
        store_ms = []
        for number in range(arguments.queries):
            text, prefix = QUERIES[number % len(QUERIES)]
            began = time.perf_counter()
            collection.query(
                query_embeddings=[vectors[text]],
                n_results=5,
                where={"prefixes": {"$contains": prefix.replace(".", "")}},
            )
            store_ms.append((time.perf_counter() - began) * 1000)
        print(
            f"  of which Chroma alone (precomputed query vectors): p50 {_percentile(store_ms, 0.5):.1f} ms, "
            f"p95 {_percentile(store_ms, 0.95):.1f} ms"
        )
    print(f"load average after: {' '.join(f'{value:.2f}' for value in os.getloadavg())}")


if __name__ == "__main__":
    main()
