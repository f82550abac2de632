"""``textrobust benchmark --config FILE.toml``: one command from victims to the report.

It trains (or reuses) the listed victims, attacks each with every listed recipe, builds the transfer matrix,
makes and judges the listed defenses, and writes the report (HTML with plots, markdown, JSON) from the
store. A second call reuses every victim, run, transfer and defense that is already finished, so an
interrupted benchmark continues where it stopped. The whole config is checked before any work starts.
``textrobust demo`` is this command on ``demo.toml`` (beside this module).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textrobust.cli.arguments import add_executor_arguments
from textrobust.cli.tables import print_table
from textrobust.errors import ParameterError, TextrobustError, require_at_least

DEMO_CONFIG = Path(__file__).with_name("demo.toml")

_SECTIONS = {
    "benchmark": {
        "name",
        "dataset",
        "folder",
        "seed",
        "report",
        "mlm",
        "workers",
        "executor",
        "ray_address",
        "gpus_per_worker",
    },  # fmt: skip
    "attacks": {"recipes", "n", "split", "disable", "variants"},
    "transfer": {"recipe", "n"},
    "victims": {
        "name",
        "type",
        "epochs",
        "batch_size",
        "learning_rate",
        "max_train_examples",
        "vectors",
        "model",
        "max_length",
        "seed",
    },
    "humaneval": {"victim", "recipe", "n", "raters"},
    "defenses": {
        "victim",
        "method",
        "name",
        "recipe",
        "epochs",
        "clean_epochs",
        "adv_share",
        "adv_weight",
        "label_source",
        "steps",
        "epsilon",
        "step_size",
        "copies",
        "ratio",
        "neighbours",
        "recipes",
        "n",
        "max_train_examples",
        "budget_protocol",
    },
}


@dataclass
class Config:
    """A benchmark, as its TOML file says (checked)."""

    path: Path
    name: str
    dataset: str
    folder: Path
    seed: int
    report: str
    mlm: str | None
    workers: int
    recipes: list[str]
    n: int
    split: str
    transfer_recipe: str | None
    transfer_n: int
    victims: list[dict[str, Any]] = field(default_factory=list)
    defenses: list[dict[str, Any]] = field(default_factory=list)
    attack_options: dict[str, Any] = field(default_factory=dict)  # for every attack (``disable``)
    humaneval: dict[str, Any] | None = None  # rating sheets of one victim's successes
    executor: Any = None  # who attacks (runs.executor.Executor): built from workers / executor / ray_address
    variants: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (recipe, options) runs

    def attacks(self) -> list[tuple[str, dict[str, Any]]]:
        """Every attack run per victim: each recipe with the shared options, then each variant."""
        return [(recipe, dict(self.attack_options)) for recipe in self.recipes] + self.variants


# Keys of an [[attacks.variants]] table besides ``recipe``: build_attack options.
_VARIANT_KEYS = {"recipe", "max_words", "disable", "word_list", "budget_protocol", "profile", "order"}
# A victim's ``model = "@mlm"`` is the benchmark's masked LM used as the encoder (the seed paper's setup:
# one Arabic BERT proposes the substitutes and, fine-tuned, is a victim).
MLM_MODEL = "@mlm"


def _disable_sorted(options: dict[str, Any]) -> dict[str, Any]:
    """Attack options with ``disable`` as a sorted list of names (so equal settings give one run key)."""
    if "disable" in options:
        return {**options, "disable": sorted({str(name) for name in options["disable"]})}
    return options


def load_config(
    path: str | Path,
    mlm: str | None = None,
    dataset: str | None = None,
    folder: str | Path | None = None,
    executor: dict[str, Any] | None = None,
) -> Config:
    """Read and check a benchmark config; every mistake is one error naming the file and the key.
    ``mlm``, ``dataset`` and ``folder`` override the config's values, and so do the entries of
    ``executor`` (``executor``, ``workers``, ``ray_address``, ``gpus_per_worker``)."""
    from textrobust.attacks.recipes import RECIPES
    from textrobust.defenses import METHODS
    from textrobust.runs.jobs import check_recipe
    from textrobust.victims import TRAINABLE_TYPES

    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TextrobustError(f"benchmark config not found: {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TextrobustError(f"{path} is not valid TOML: {exc}") from None

    def fail(where: str, problem: str) -> TextrobustError:
        return TextrobustError(f"{path}: {where}: {problem}")

    for section, value in raw.items():
        if section not in _SECTIONS:
            raise fail(section, f"unknown section; known: {', '.join(_SECTIONS)}")
        items = value if isinstance(value, list) else [value]
        for number, item in enumerate(items, start=1):
            if not isinstance(item, dict):
                raise fail(section, "expected a table")
            unknown = sorted(set(item) - _SECTIONS[section])
            if unknown:
                where = f"[[{section}]] #{number}" if isinstance(value, list) else f"[{section}]"
                raise fail(
                    where, f"unknown key '{unknown[0]}'; known: {', '.join(sorted(_SECTIONS[section]))}"
                )
    bench = raw.get("benchmark", {})
    attacks = raw.get("attacks", {})
    transfer = raw.get("transfer", {})
    victims = raw.get("victims", [])
    defenses = raw.get("defenses", [])
    if not isinstance(victims, list) or not victims:
        raise fail("victims", "list at least one [[victims]] table")
    names = [str(v.get("name", v.get("type", ""))) for v in victims]
    for v, name in zip(victims, names, strict=True):
        if v.get("type") not in TRAINABLE_TYPES:
            raise fail(f"victim '{name}'", f"type must be one of {', '.join(TRAINABLE_TYPES)}")
    if len(set(names)) != len(names):
        raise fail("victims", "two victims share a name; give each a distinct name")
    recipes = [str(r) for r in attacks.get("recipes", ["textfooler"])]
    attack_options = _disable_sorted({"disable": attacks["disable"]} if "disable" in attacks else {})
    for recipe in recipes:
        try:
            check_recipe(recipe, None, attack_options)
        except ParameterError as exc:
            raise fail("attacks.recipes", str(exc)) from None
    variants: list[tuple[str, dict[str, Any]]] = []
    for number, variant in enumerate(attacks.get("variants", []), start=1):
        where = f"[[attacks.variants]] #{number}"
        if not isinstance(variant, dict) or "recipe" not in variant:
            raise fail(where, "a variant is a table with a 'recipe' key")
        unknown = sorted(set(variant) - _VARIANT_KEYS)
        if unknown:
            raise fail(where, f"unknown key '{unknown[0]}'; known: {', '.join(sorted(_VARIANT_KEYS))}")
        options = _disable_sorted({**attack_options, **{k: v for k, v in variant.items() if k != "recipe"}})
        try:
            check_recipe(str(variant["recipe"]), None, options)
        except ParameterError as exc:
            raise fail(where, str(exc)) from None
        variants.append((str(variant["recipe"]), options))
    transfer_recipe = transfer.get("recipe")
    if transfer_recipe is not None and transfer_recipe not in RECIPES:
        raise fail("transfer.recipe", f"'{transfer_recipe}' is unknown; choose one of {', '.join(RECIPES)}")
    if transfer_recipe is not None and len(victims) < 2:
        raise fail("transfer", "a transfer matrix needs at least two victims")
    for d in defenses:
        if d.get("victim") not in names:
            raise fail(
                "defenses", f"victim '{d.get('victim')}' is not one of the [[victims]] ({', '.join(names)})"
            )
        if d.get("method") not in METHODS:
            raise fail(f"defense of '{d.get('victim')}'", f"method must be one of {', '.join(METHODS)}")
    config = Config(
        path=path,
        name=str(bench.get("name", path.stem)),
        dataset=dataset or str(bench.get("dataset", "mr")),
        folder=Path(folder or str(bench.get("folder", Path("runs") / path.stem))),
        seed=int(bench.get("seed", 0)),
        report=str(bench.get("report", "report.html")),
        mlm=mlm or bench.get("mlm") or os.environ.get("TEXTROBUST_MLM"),
        workers=int(bench.get("workers", 1)),
        recipes=recipes,
        n=int(attacks.get("n", 200)),
        split=str(attacks.get("split", "test")),
        transfer_recipe=transfer_recipe,
        transfer_n=int(transfer.get("n", attacks.get("n", 200))),
        victims=[{**v, "name": name} for v, name in zip(victims, names, strict=True)],
        defenses=list(defenses),
        attack_options=attack_options,
        variants=variants,
    )
    humaneval = raw.get("humaneval")
    if humaneval is not None:
        if humaneval.get("victim") not in names:
            raise fail("humaneval.victim", f"name one of the [[victims]] ({', '.join(names)})")
        recipe = humaneval.get("recipe", recipes[0] if recipes else None)
        if recipe not in recipes:
            raise fail("humaneval.recipe", f"name one of attacks.recipes ({', '.join(recipes)})")
        config.humaneval = {
            "victim": humaneval["victim"],
            "recipe": recipe,
            "n": int(humaneval.get("n", 100)),
            "raters": int(humaneval.get("raters", 4)),
        }
        require_at_least("humaneval.n", config.humaneval["n"], 1)
        require_at_least("humaneval.raters", config.humaneval["raters"], 2)
    if any(v.get("model") == MLM_MODEL for v in config.victims) and not config.mlm:
        raise fail("victims", f"model = '{MLM_MODEL}' needs a masked LM: set benchmark.mlm or pass --mlm")
    require_at_least("n", config.n, 1)
    require_at_least("workers", config.workers, 1)
    chosen = {key: bench.get(key) for key in ("executor", "ray_address", "gpus_per_worker")}
    chosen["workers"] = bench.get("workers")
    chosen.update({key: value for key, value in (executor or {}).items() if value is not None})
    from textrobust.runs.executor import make_executor

    config.executor = make_executor(
        chosen["workers"],
        kind=str(chosen["executor"] or "local"),
        ray_address=chosen["ray_address"],
        gpus_per_worker=chosen["gpus_per_worker"],
    )
    if not config.report.endswith(".html"):
        raise fail("benchmark.report", "name an .html file (markdown and JSON are written beside it)")
    return config


def _victim(config: Config, spec: dict[str, Any], dataset: Any, retrain: bool, say: Any) -> tuple[Path, dict]:
    from textrobust.victims import load_victim
    from textrobust.victims.evaluation import evaluate_victim
    from textrobust.victims.training import TrainConfig, train_victim

    directory = config.folder / spec["name"]
    started = time.perf_counter()
    if (directory / "config.json").exists() and not retrain:
        victim, note = load_victim(directory), "reused"
    else:
        say(f"training {spec['name']} ({spec['type']})")
        options = {k: spec[k] for k in ("vectors", "model", "max_length") if k in spec}
        if options.get("vectors") == "none":
            options["vectors"] = None
        if options.get("model") == MLM_MODEL:
            options["model"] = config.mlm
        train_config = TrainConfig(
            epochs=spec.get("epochs"),
            batch_size=spec.get("batch_size"),
            learning_rate=spec.get("learning_rate"),
            seed=int(spec.get("seed", config.seed)),
            max_train_examples=spec.get("max_train_examples"),
        )
        victim, report = train_victim(spec["type"], dataset, directory, train_config, **options)
        note = f"trained {report.epochs_run} epoch{'s' if report.epochs_run != 1 else ''}"
    test = evaluate_victim(victim, dataset, config.split)
    row = {
        "victim": spec["name"],
        f"{config.split} accuracy": test.accuracy,
        "seconds": f"{time.perf_counter() - started:.1f}",
        "note": note,
    }
    return directory, row


def run_benchmark(config: Config, *, retrain: bool = False, progress: bool = True) -> Path:
    """Do everything the config lists (reusing what is finished); returns the HTML report's path."""
    from textrobust.data import load_dataset
    from textrobust.defenses.defend import DefenseSettings, defend, defense_of
    from textrobust.defenses.evaluate import evaluate_defense
    from textrobust.leaderboard.publish import write_report
    from textrobust.leaderboard.report import build_report
    from textrobust.runs.jobs import attack_saved_victim
    from textrobust.runs.transfer import transfer_matrix
    from textrobust.store import Store

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    dataset = load_dataset(config.dataset)
    dataset.split(config.split)
    config.folder.mkdir(parents=True, exist_ok=True)
    store_path = config.folder / "textrobust.sqlite"
    directories, rows = {}, []
    for spec in config.victims:
        directories[spec["name"]], row = _victim(config, spec, dataset, retrain, say)
        rows.append(row)
    print_table(rows, title=f"{config.name}: victims on {dataset.name}/{config.split}")
    with Store(store_path) as store:
        run_ids: dict[tuple[str, str], int] = {}  # (victim, recipe) → run id, for the rating sheets
        for name, directory in directories.items():
            for recipe, options in config.attacks():
                variant = f" {options}" if options else ""
                say(f"attacking {name} with {recipe}{variant} (first {config.n} {config.split} examples)")
                outcome = attack_saved_victim(
                    directory,
                    recipe,
                    dataset=dataset,
                    split=config.split,
                    n=config.n,
                    seed=config.seed,
                    mlm=config.mlm,
                    attack_options=options,
                    store=store,
                    resume=True,
                    progress=progress,
                    executor=config.executor,
                )
                if options == config.attack_options:
                    run_ids[(name, recipe)] = outcome.run.id
        # A kit already written is left alone: raters may be filling its sheets in.
        if config.humaneval is not None and not (config.folder / "humaneval" / "key.json").exists():
            from textrobust.leaderboard.humaneval import export_kit

            wanted = config.humaneval
            kit = export_kit(
                store,
                run_ids[(wanted["victim"], wanted["recipe"])],
                config.folder / "humaneval",
                n=wanted["n"],
                raters=wanted["raters"],
                seed=config.seed,
            )
            say(f"rating sheets ({kit.items} items, {kit.raters} raters, {kit.language}): {kit.directory}")
        if config.transfer_recipe is not None:
            say(f"transfer matrix: {config.transfer_recipe} over {', '.join(directories)}")
            transfer_matrix(
                list(directories.values()),
                config.transfer_recipe,
                dataset,
                store,
                split=config.split,
                n=config.transfer_n,
                seed=config.seed,
                mlm=config.mlm,
                progress=progress,
                attack_options=config.attack_options,
                executor=config.executor,
            )
        for spec in config.defenses:
            base = directories[spec["victim"]]
            out = config.folder / spec.get("name", f"{spec['victim']}-{spec['method']}")
            # The [[defenses]] keys that are DefenseSettings fields (the rest say what to evaluate).
            keys = _SECTIONS["defenses"] - {"victim", "method", "name", "recipes", "n", "budget_protocol"}
            settings = DefenseSettings(
                method=spec["method"],
                seed=config.seed,
                mlm=config.mlm,
                progress=progress,
                executor=config.executor,
                attack_options=dict(config.attack_options),
                **{k: spec[k] for k in sorted(keys) if k in spec},
            )
            if (out / "config.json").exists() and not retrain:
                record = defense_of(out)
            else:
                say(f"defending {spec['victim']} with {spec['method']}")
                record = defend(base, dataset, out, settings, notify=say).record()
            evaluate_defense(
                out,
                base,
                dataset,
                recipes=spec.get("recipes", config.recipes),
                n=int(spec.get("n", config.n)),
                seed=config.seed,
                store=store,
                mlm=config.mlm,
                budget_protocol=spec.get("budget_protocol"),
                progress=progress,
                executor=config.executor,
                defense=record,
                attack_options=config.attack_options,
            )
        report = build_report(store, dataset.name)
    html = config.folder / config.report
    write_report(report, "html", html)
    write_report(report, "md", html.with_suffix(".md"))
    write_report(report, "json", html.with_suffix(".json"))
    from textrobust.cli.leaderboard import print_report

    print_report(report)
    return html


def benchmark_command(args: argparse.Namespace) -> int:
    from textrobust.cli.arguments import executor_options

    config = load_config(args.config, args.mlm, args.dataset, args.folder, executor_options(args))
    started = time.perf_counter()
    html = run_benchmark(config, retrain=args.retrain, progress=not args.no_progress)
    print(f"\nreport: {html.resolve()}  ({(time.perf_counter() - started) / 60:.1f} min)")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "benchmark",
        help="victims, attacks, transfer matrix, defenses and the report, from one TOML file",
        description=__doc__.split("\n\n")[1].replace("\n", " ") if __doc__ else None,
    )
    p.add_argument("--config", required=True, help=f"the benchmark's TOML file (example: {DEMO_CONFIG.name})")
    p.add_argument("--mlm", default=None, help="fill-mask model for MLM recipes (overrides the config)")
    p.add_argument("--dataset", default=None, help="run the config on another dataset (overrides the config)")
    p.add_argument("--folder", default=None, help="where to write (overrides the config's folder)")
    p.add_argument("--retrain", action="store_true", help="train victims and defenses again")
    add_executor_arguments(p, config_key=True)
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=benchmark_command)
