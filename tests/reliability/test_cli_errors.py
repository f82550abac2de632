# ruff: noqa: E501 - one command line per row reads best
"""Bad input, every command: one line on stderr that begins ``error:``, a non-zero exit, no traceback, and
nothing in the store or the output folder lost or half-written.

Each case is a command line run in a scratch folder that holds a small trained victim (``wc``), a store
with one finished run (``runs.sqlite``), a few data files and things in the way of outputs. The store's
bytes are compared before and after; an output path that did not exist must still not exist.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from tests.stand_ins import make_result, tiny_masked_lm
from textrobust.cli import main
from textrobust.cli.benchmark import DEMO_CONFIG

# (case id, command line; "{victim}" is the trained victim's folder)
CASES: list[tuple[str, list[str]]] = [
    # -- usage ---------------------------------------------------------------------------------------
    ("no such command", ["attak"]),
    ("unknown flag", ["evaluate", "--victim", "wc", "--bogus"]),
    ("missing required flag", ["attack", "--recipe", "textfooler"]),
    ("not a number", ["evaluate", "--victim", "wc", "--n", "ten"]),
    ("bad choice", ["train", "--victim", "svm", "--out", "new-victim"]),
    # -- numbers taken by Python's slicing rules -------------------------------------------------------
    ("evaluate --n 0", ["evaluate", "--victim", "wc", "--n", "0"]),
    ("evaluate --n -5", ["evaluate", "--victim", "wc", "--n", "-5"]),
    ("attack --n 0", ["attack", "--victim", "wc", "--recipe", "pwws", "--n", "0", "--store", "runs.sqlite"]),
    ("attack --budget 0", ["attack", "--victim", "wc", "--recipe", "pwws", "--budget", "0", "--store", "runs.sqlite"]),
    ("attack --workers 0", ["attack", "--victim", "wc", "--recipe", "pwws", "--workers", "0", "--store", "runs.sqlite"]),
    ("attack --batch-examples 0", ["attack", "--victim", "wc", "--recipe", "pwws", "--batch-examples", "0", "--store", "runs.sqlite"]),
    ("attack --beam-width 0", ["attack", "--victim", "wc", "--recipe", "pwws", "--beam-width", "0", "--store", "runs.sqlite"]),
    ("attack --max-words 0", ["attack", "--victim", "wc", "--recipe", "pwws", "--max-words", "0", "--store", "runs.sqlite"]),
    ("train --max-train 0", ["train", "--victim", "wordcnn", "--max-train", "0", "--out", "new-victim"]),
    ("train --max-train -1", ["train", "--victim", "wordcnn", "--max-train", "-1", "--out", "new-victim"]),
    ("train --max-length 0", ["train", "--victim", "wordcnn", "--max-length", "0", "--max-train", "40", "--vectors", "none", "--out", "new-victim"]),
    ("transfer --n 0", ["transfer", "--run", "1", "--targets", "wc", "--n", "0", "--store", "runs.sqlite"]),
    ("transfer --n without --matrix", ["transfer", "--run", "1", "--targets", "wc", "--n", "5", "--store", "runs.sqlite"]),
    ("transfer --workers 0", ["transfer", "--matrix", "--victims", "wc", "wc", "--recipe", "pwws", "--workers", "0", "--store", "runs.sqlite"]),
    # -- LoRA -----------------------------------------------------------------------------------------
    ("train --peft with a word victim", ["train", "--victim", "wordcnn", "--peft", "lora", "--out", "new-victim"]),
    ("train --lora-rank 0", ["train", "--victim", "bert", "--peft", "lora", "--lora-rank", "0", "--out", "new-victim"]),
    ("train --lora-dropout 1", ["train", "--victim", "bert", "--peft", "lora", "--lora-dropout", "1", "--out", "new-victim"]),
    # -- quantize -------------------------------------------------------------------------------------
    ("quantize a missing victim", ["quantize", "--victim", "nowhere", "--out", "int8"]),
    ("quantize --n 0", ["quantize", "--victim", "wc", "--out", "int8", "--n", "0"]),
    ("quantize --out is a file", ["quantize", "--victim", "wc", "--out", "data.csv"]),
    ("quantize --precision int3", ["quantize", "--victim", "wc", "--out", "int3", "--precision", "int3"]),
    # -- executors -------------------------------------------------------------------------------------
    ("attack --executor dask", ["attack", "--victim", "wc", "--recipe", "pwws", "--executor", "dask", "--store", "runs.sqlite"]),
    ("attack --ray-address nowhere", ["attack", "--victim", "wc", "--recipe", "pwws", "--executor", "ray", "--ray-address", "nowhere", "--store", "runs.sqlite"]),
    ("attack --gpus-per-worker -1", ["attack", "--victim", "wc", "--recipe", "pwws", "--executor", "ray", "--gpus-per-worker", "-1", "--store", "runs.sqlite"]),
    ("attack --gpus-per-worker, local", ["attack", "--victim", "wc", "--recipe", "pwws", "--gpus-per-worker", "1", "--store", "runs.sqlite"]),
    ("attack --executor ray --workers 0", ["attack", "--victim", "wc", "--recipe", "pwws", "--executor", "ray", "--workers", "0", "--store", "runs.sqlite"]),
    ("transfer --executor without --matrix", ["transfer", "--run", "1", "--targets", "wc", "--executor", "ray", "--store", "runs.sqlite"]),
    ("defend --workers 0", ["defend", "--victim", "wc", "--out", "defended", "--workers", "0", "--store", "runs.sqlite"]),
    ("benchmark --ray-address nowhere", ["benchmark", "--config", "bench.toml", "--executor", "ray", "--ray-address", "nowhere"]),
    ("humaneval --n 0", ["humaneval", "export", "--run", "1", "--n", "0", "--out", "sheets", "--store", "runs.sqlite"]),
    ("humaneval --raters 0", ["humaneval", "export", "--run", "1", "--raters", "0", "--out", "sheets", "--store", "runs.sqlite"]),
    # -- names and choices -------------------------------------------------------------------------------
    ("unknown recipe", ["attack", "--victim", "wc", "--recipe", "deepwordbug", "--store", "runs.sqlite"]),
    ("unknown constraint", ["attack", "--victim", "wc", "--recipe", "pwws", "--disable", "nope", "--store", "runs.sqlite"]),
    ("profile without textattack settings", ["attack", "--victim", "wc", "--recipe", "mlm-synonym", "--profile", "textattack", "--store", "runs.sqlite"]),
    ("victim-first with a budget", ["attack", "--victim", "wc", "--recipe", "textfooler", "--order", "victim-first", "--budget", "9", "--store", "runs.sqlite"]),
    ("unknown split", ["evaluate", "--victim", "wc", "--split", "holdout"]),
    ("unknown language code", ["train", "--victim", "wordcnn", "--language", "klingon", "--max-train", "40", "--out", "new-victim"]),
    ("unknown dataset name", ["evaluate", "--victim", "wc", "--dataset", "imdb-that-is-not-here"]),
    ("unknown leaderboard format", ["leaderboard", "--store", "runs.sqlite", "--format", "pdf"]),
    ("leaderboard --out without a format", ["leaderboard", "--store", "runs.sqlite", "--out", "report.bin"]),
    ("unknown run id", ["runs", "export", "99", "--out", "export.jsonl", "--store", "runs.sqlite"]),
    ("unknown transfer run", ["transfer", "--run", "99", "--targets", "wc", "--store", "runs.sqlite"]),
    ("unknown humaneval run", ["humaneval", "export", "--run", "99", "--out", "sheets", "--store", "runs.sqlite"]),
    ("unknown defense method", ["defend", "--victim", "wc", "--method", "dropout", "--out", "defended"]),
    # -- missing or wrong inputs ---------------------------------------------------------------------------
    ("victim folder missing", ["evaluate", "--victim", "no-such-victim"]),
    ("victim folder is a data file", ["evaluate", "--victim", "data.csv"]),
    ("victim folder without a config", ["evaluate", "--victim", "empty-folder"]),
    ("dataset file missing", ["evaluate", "--victim", "wc", "--dataset", "missing.csv"]),
    ("dataset without the label column", ["train", "--victim", "wordcnn", "--dataset", "no-label.csv", "--out", "new-victim"]),
    ("dataset that is empty", ["train", "--victim", "wordcnn", "--dataset", "empty.csv", "--out", "new-victim"]),
    ("dataset that is not UTF-8", ["train", "--victim", "wordcnn", "--dataset", "latin1.csv", "--out", "new-victim"]),
    ("one-class training data", ["train", "--victim", "wordcnn", "--dataset", "one-class.csv", "--vectors", "none", "--out", "new-victim"]),
    ("store that is not a database", ["attack", "--victim", "wc", "--recipe", "pwws", "--store", "data.csv"]),
    ("store that is a folder", ["attack", "--victim", "wc", "--recipe", "pwws", "--store", "empty-folder"]),
    ("no store for runs list", ["runs", "list", "--store", "nothing.sqlite"]),
    ("no store for the leaderboard", ["leaderboard", "--store", "nothing.sqlite"]),
    ("masked LM folder missing", ["attack", "--victim", "wc", "--recipe", "bae", "--mlm", "./no-such-mlm", "--store", "runs.sqlite"]),
    ("masked LM weights cut short", ["attack", "--victim", "wc", "--recipe", "bae", "--mlm", "./damaged-mlm", "--n", "2", "--store", "runs.sqlite"]),
    ("English victim on Arabic text", ["evaluate", "--victim", "wc", "--dataset", "arabic.csv"]),
    ("English masked LM on Arabic text", ["attack", "--victim", "wc", "--recipe", "mlm-synonym", "--dataset", "arabic.csv", "--mlm", "./english-mlm", "--store", "runs.sqlite"]),
    ("mlm eval on a corpus without words", ["mlm", "eval", "--mlm", "./english-mlm", "--corpus", "no-words.txt"]),
    ("mlm eval model missing", ["mlm", "eval", "--mlm", "./no-such-mlm", "--corpus", "data.csv"]),
    ("benchmark config missing", ["benchmark", "--config", "missing.toml"]),
    ("benchmark config is not TOML", ["benchmark", "--config", "data.csv"]),
    ("benchmark config with an unknown section", ["benchmark", "--config", "unknown-section.toml"]),
    ("humaneval import of a missing sheet", ["humaneval", "import", "missing.csv", "--store", "runs.sqlite"]),
    ("word list file missing", ["attack", "--victim", "wc", "--recipe", "pwws", "--word-list", "missing.dic", "--store", "runs.sqlite"]),
    ("transfer without a source", ["transfer", "--targets", "wc", "--store", "runs.sqlite"]),
    # -- outputs in the way --------------------------------------------------------------------------------
    ("train --out is a file", ["train", "--victim", "wordcnn", "--out", "data.csv"]),
    ("train --out under a file", ["train", "--victim", "wordcnn", "--out", "data.csv/victim"]),
    ("train --out not empty", ["train", "--victim", "wordcnn", "--max-train", "40", "--out", "wc"]),
    ("attack --export is a folder", ["attack", "--victim", "wc", "--recipe", "pwws", "--export", "empty-folder", "--store", "runs.sqlite"]),
    ("attack --export under a file", ["attack", "--victim", "wc", "--recipe", "pwws", "--export", "data.csv/x.jsonl", "--store", "runs.sqlite"]),
    ("leaderboard --out is a folder", ["leaderboard", "--store", "runs.sqlite", "--format", "md", "--out", "empty-folder"]),
    ("runs export --out is a folder", ["runs", "export", "1", "--out", "empty-folder", "--store", "runs.sqlite"]),
    ("runs export --out under a file", ["runs", "export", "1", "--out", "data.csv/x.jsonl", "--store", "runs.sqlite"]),
    ("defend --out is a file", ["defend", "--victim", "wc", "--method", "embedding", "--out", "data.csv"]),
    ("humaneval --out is a file", ["humaneval", "export", "--run", "1", "--out", "data.csv", "--store", "runs.sqlite"]),
    ("mlm eval --json is a folder", ["mlm", "eval", "--mlm", "./no-such-mlm", "--corpus", "data.csv", "--json", "empty-folder"]),
    ("mlm train-tokenizer --out is a file", ["mlm", "train-tokenizer", "--corpus", "data.csv", "--out", "data.csv"]),
    # -- victims from elsewhere (py:, sklearn:, --label-map) ------------------------------------------------
    ("py: factory missing", ["attack", "--victim", "py:team_model.py:missing", "--recipe", "pwws", "--store", "runs.sqlite"]),
    ("py: factory fails", ["attack", "--victim", "py:team_model.py:broken", "--recipe", "pwws", "--store", "runs.sqlite"]),
    ("py: file missing", ["evaluate", "--victim", "py:nowhere.py:make"]),
    ("py: wrong label map", ["evaluate", "--victim", "py:team_model.py:make", "--label-map", "LABEL_9=x"]),
    ("py: label map not pairs", ["evaluate", "--victim", "py:team_model.py:make", "--label-map", "positive"]),
    ("label map on a textrobust victim", ["evaluate", "--victim", "wc", "--label-map", "negative=neg"]),
    ("unsafe pickle without the flag", ["attack", "--victim", "sklearn:model.pkl", "--recipe", "pwws", "--store", "runs.sqlite"]),
    ("sklearn: file missing", ["evaluate", "--victim", "sklearn:nowhere.skops"]),
    # -- defend, quantize and transfer take any victim name, and say what they cannot do with one ---------------
    ("defend a victim not saved in a folder", ["defend", "--victim", "py:team_model.py:make", "--method", "smooth", "--out", "new-defended", "--no-evaluate"]),
    ("defend with a wrong label map", ["defend", "--victim", "wc", "--label-map", "LABEL_0=negative", "--out", "new-defended", "--no-evaluate"]),
    ("quantize a victim not saved in a folder", ["quantize", "--victim", "py:team_model.py:make", "--out", "new-quantized"]),
    ("quantize a missing checkpoint", ["quantize", "--victim", "no-such-model", "--out", "new-quantized"]),
    ("transfer to a missing factory", ["transfer", "--run", "1", "--targets", "py:team_model.py:missing", "--store", "runs.sqlite"]),
    ("transfer with a wrong label map", ["transfer", "--run", "1", "--targets", "py:team_model.py:make", "--label-map", "LABEL_9=x", "--store", "runs.sqlite"]),
    # -- devices ----------------------------------------------------------------------------------------------
    ("train on a TPU", ["train", "--victim", "wordcnn", "--device", "tpu", "--max-train", "40", "--out", "new-victim"]),
    ("train on a GPU that is not there", ["train", "--victim", "wordcnn", "--device", "cuda:7", "--max-train", "40", "--out", "new-victim"]),
]  # fmt: skip


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, tiny_wordcnn_dir: Path) -> Path:
    from textrobust.store import DatasetInfo, RunParameters, Store, VictimInfo

    root = tmp_path_factory.mktemp("reliability")
    shutil.copytree(tiny_wordcnn_dir, root / "wc")
    (root / "empty-folder").mkdir()
    (root / "data.csv").write_text(
        "text,label\na fine film,positive\na dull film,negative\n", encoding="utf-8"
    )
    (root / "no-label.csv").write_text("text,stars\na fine film,5\n", encoding="utf-8")
    (root / "empty.csv").write_text("text,label\n", encoding="utf-8")
    (root / "latin1.csv").write_bytes("text,label\ncaf\xe9 cr\xe8me,positive\n".encode("latin-1"))
    rows = "".join(f"film number {i},positive\n" for i in range(30))
    (root / "one-class.csv").write_text("text,label\n" + rows, encoding="utf-8")
    shutil.copy(DEMO_CONFIG, root / "bench.toml")
    (root / "unknown-section.toml").write_text("[victims]\n[nonsense]\nkey = 1\n", encoding="utf-8")
    mlm = tiny_masked_lm(["good", "film", "fine"], seed=0)
    mlm.model.save_pretrained(root / "damaged-mlm")
    mlm.tokenizer.save_pretrained(root / "damaged-mlm")
    (root / "no-words.txt").write_text("...\n!!!\n???\n", encoding="utf-8")
    mlm.model.save_pretrained(root / "english-mlm")
    mlm.tokenizer.save_pretrained(root / "english-mlm")
    arabic = ["فيلم جميل جدا", "فيلم سيء للغاية", "قصة رائعة", "تمثيل ضعيف", "اخراج ممتاز", "ممل جدا"] * 5
    (root / "arabic.csv").write_text(
        "text,label\n" + "".join(f"{t},{'pos' if i % 2 == 0 else 'neg'}\n" for i, t in enumerate(arabic)),
        encoding="utf-8",
    )
    (root / "team_model.py").write_text(
        "class Model:\n    labels = ['negative', 'positive']\n\n    def predict_proba(self, texts):\n"
        "        return [[0.5, 0.5] for _ in texts]\n\n\ndef make():\n    return Model()\n\n\n"
        "def broken():\n    raise RuntimeError('no GPU here')\n",
        encoding="utf-8",
    )
    (root / "model.pkl").write_bytes(b"not read: a pickle needs --trust-pickle before anything is loaded")
    weights = root / "damaged-mlm" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:2000])
    with Store(root / "runs.sqlite") as store:
        parameters = RunParameters(
            recipe="pwws",
            victim=VictimInfo.from_directory(root / "wc"),
            dataset=DatasetInfo.from_examples(
                "mr", "test", "en", ["negative", "positive"], ["a b", "c d"], [0, 1]
            ),
            seed=0,
            budget=None,
            options={"language": "en"},
            version="test",
        )
        run = store.start_run(parameters)
        store.add_result(run.id, 0, make_result("success", 2, changes=1, queries=3, similarity=0.9))
        store.add_result(run.id, 1, make_result("failed", 2, queries=4))
        store.set_status(run.id, "finished")
    return root


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): _digest(p) for p in sorted(root.rglob("*"))}


def assert_one_error_line(
    case: str,
    argv: list[str],
    workspace: Path,
    capsys: pytest.CaptureFixture[str],
    says: str = "",
    exit_code: int | None = None,
) -> str:
    """Run ``textrobust ARGV``: it must fail (non-zero exit, ``exit_code`` when given, no traceback) with one
    line on stderr that begins ``error:`` (and holds ``says``), leaving ``workspace`` as it was. The error
    line."""
    before = _snapshot(workspace)
    try:
        code = main(argv)
    except SystemExit as stop:  # usage errors leave through argparse
        code = stop.code
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert code not in (0, None), f"{case}: exit 0, stderr {captured.err!r}"
    assert exit_code is None or code == exit_code, f"{case}: exit {code}, not {exit_code}"
    assert "Traceback" not in captured.err
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert says in lines[0], lines[0]
    assert _snapshot(workspace) == before, f"{case} changed the workspace"
    return lines[0]


@pytest.mark.parametrize(("case", "argv"), CASES, ids=[case for case, _ in CASES])
def test_bad_input_is_one_error_line_and_changes_nothing(
    case: str,
    argv: list[str],
    workspace: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(workspace)
    assert_one_error_line(case, argv, workspace, capsys)


def test_the_suite_covers_every_command_with_at_least_sixty_cases() -> None:
    assert len(CASES) >= 60
    assert len({case for case, _ in CASES}) == len(CASES)
    commands = {argv[0] for _, argv in CASES}
    assert {"train", "evaluate", "attack", "defend", "transfer", "runs", "leaderboard", "humaneval",
            "benchmark", "mlm", "quantize"} <= commands  # fmt: skip


def test_debug_shows_the_traceback(workspace: Path, capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    monkeypatch.chdir(workspace)
    assert main(["--debug", "train", "--victim", "wordcnn", "--dataset", "one-class.csv", "--out", "x"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and err.strip().splitlines()[-1].startswith("error: ")


def test_a_cache_path_that_is_a_file_is_one_error_line_before_any_work(
    workspace: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(workspace)
    monkeypatch.setenv("TEXTROBUST_CACHE", str(workspace / "data.csv"))
    before = _snapshot(workspace)
    assert (
        main(["attack", "--victim", "wc", "--recipe", "textfooler", "--n", "2", "--store", "runs.sqlite"])
        == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: TEXTROBUST_CACHE")
    assert _snapshot(workspace) == before


READ_ONLY = Path("/proc")  # a read-only file system even for root (these sessions and CI run as root)


@pytest.mark.skipif(not (READ_ONLY / "self").exists(), reason="needs Linux /proc as a read-only place")
@pytest.mark.parametrize(
    ("case", "argv", "env"),
    [
        (
            "train --out on a read-only file system",
            ["train", "--victim", "wordcnn", "--out", "/proc/tr-victim"],
            {},
        ),
        (
            "attack --export to a read-only place",
            [
                "attack",
                "--victim",
                "wc",
                "--recipe",
                "pwws",
                "--export",
                "/proc/tr.jsonl",
                "--store",
                "runs.sqlite",
            ],
            {},
        ),
        (
            "leaderboard --out to a read-only place",
            ["leaderboard", "--store", "runs.sqlite", "--format", "md", "--out", "/proc/tr.md"],
            {},
        ),
        (
            "a read-only cache, for an attack that builds resources into it",
            ["attack", "--victim", "wc", "--recipe", "textfooler", "--n", "2", "--store", "runs.sqlite"],
            {"TEXTROBUST_CACHE": "/proc/textrobust-cache"},
        ),
        (
            "a read-only cache, for training that caches word vectors",
            ["train", "--victim", "wordcnn", "--max-train", "40", "--out", "new-victim"],
            {"TEXTROBUST_CACHE": "/proc/textrobust-cache"},
        ),
    ],
)
def test_read_only_places_are_one_error_line_before_any_work(
    case: str, argv: list[str], env: dict[str, str], workspace: Path, capsys, monkeypatch
) -> None:
    monkeypatch.chdir(workspace)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    before = _snapshot(workspace)
    assert main(argv) == 2, case
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "writ" in lines[0], lines
    assert _snapshot(workspace) == before


# Commands that only read stores, victims or data: they must neither create nor probe the cache.
CACHE_READERS: list[list[str]] = [
    ["runs", "list", "--store", "runs.sqlite"],
    ["runs", "show", "1", "--store", "runs.sqlite"],
    ["leaderboard", "--store", "runs.sqlite", "--format", "md"],
    ["evaluate", "--victim", "wc", "--n", "2"],
    ["resources", "status"],
]


@pytest.mark.parametrize("argv", CACHE_READERS, ids=[" ".join(argv[:2]) for argv in CACHE_READERS])
def test_commands_that_do_not_write_the_cache_leave_it_untouched(
    argv: list[str], workspace: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.chdir(workspace)
    absent = tmp_path / "absent-cache"
    monkeypatch.setenv("TEXTROBUST_CACHE", str(absent))
    assert main(argv) == 0, capsys.readouterr().err
    assert not absent.exists(), "the command created the cache"
    # An existing cache: a probe file written and deleted would still change the folder's modification time.
    existing = tmp_path / "cache"
    existing.mkdir()
    stamp = existing.stat().st_mtime_ns
    monkeypatch.setenv("TEXTROBUST_CACHE", str(existing))
    assert main(argv) == 0, capsys.readouterr().err
    assert existing.stat().st_mtime_ns == stamp and not any(existing.iterdir())


@pytest.mark.skipif(not (READ_ONLY / "self").exists(), reason="needs Linux /proc as a read-only place")
def test_a_read_only_cache_does_not_stop_commands_that_only_read(
    workspace: Path, capsys, monkeypatch
) -> None:
    monkeypatch.chdir(workspace)
    monkeypatch.setenv("TEXTROBUST_CACHE", "/proc/textrobust-cache")
    for argv in CACHE_READERS:
        assert main(argv) == 0, (argv, capsys.readouterr().err)
    assert main(["runs", "--help"]) == 0 and main(["--version"]) == 0


def test_every_cache_writing_command_is_a_real_command() -> None:
    from textrobust.cli import CACHE_WRITERS, build_parser

    parser = build_parser()
    groups = {a.dest: a for a in parser._actions if a.dest == "command"}
    commands = groups["command"].choices
    for name in CACHE_WRITERS:
        command, _, subcommand = name.partition(" ")
        assert command in commands, name
        if subcommand:
            leaves = {a.dest: a for a in commands[command]._actions if a.dest == f"{command}_command"}
            assert subcommand in leaves[f"{command}_command"].choices, name
