"""A benchmark as data: ``BenchmarkSpec`` and its parts, read from a TOML file and checked before any work.

Every table's keys are the fields of its spec (attack keys: ``AttackOptions``' fields; a defense's keys:
its method's settings and the training keys of ``DefenseRun``), so an unknown key is found the same way
everywhere and a field added to a spec is a key at once. Nothing is loaded or built here: executors are
made when the run starts (``pipeline.run_benchmark``).
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textrobust.attacks import options as attack_options
from textrobust.attacks.options import AttackOptions
from textrobust.errors import ConfigError, ParameterError, TextrobustError, require_at_least
from textrobust.victims.resolve import SourceOptions

# A victim's ``model = "@mlm"`` is the benchmark's masked LM used as the encoder (the seed paper's setup:
# one Arabic BERT proposes the substitutes and, fine-tuned, is a victim).
MLM_MODEL = "@mlm"


@dataclass(frozen=True)
class ExecutorSpec:
    """Who attacks: ``kind`` (a registered executor), how many workers, and Ray's settings."""

    kind: str = "local"
    workers: int | None = None
    ray_address: str | None = None
    gpus_per_worker: float | None = None

    def build(self) -> Any:
        """The executor (``runs.executors.make_executor``), made when a run starts."""
        from textrobust.runs.executors import make_executor

        return make_executor(
            self.workers, kind=self.kind, ray_address=self.ray_address, gpus_per_worker=self.gpus_per_worker
        )

    def check(self) -> None:
        """What can be checked without building it (the kind, the counts, where Ray options apply)."""
        from textrobust.runs.executors import EXECUTORS

        require_at_least("workers", self.workers, 1)
        if self.kind not in EXECUTORS:
            raise ParameterError(
                "executor", f"must be one of {', '.join(EXECUTORS.names())}, got '{self.kind}'"
            )
        if self.kind == "local":
            for name in ("ray_address", "gpus_per_worker"):
                if getattr(self, name) is not None:
                    raise ParameterError(name, "applies only to the Ray executor")


@dataclass(frozen=True)
class VictimSpec:
    """A victim of the benchmark: one to train (or reuse) on its dataset — its name, kind (``type``) and
    training settings — or one that exists already (``victim``: any name ``--victim`` takes, a checkpoint
    folder, ``hf:``, ``py:``, ``sklearn:``, an endpoint URL, ``openai:``, ``llm:``), with what the user says
    about it besides its name (``source``: label map, prompt and verbalizers, HTTP settings)."""

    name: str
    type: str | None = None
    victim: str | None = None
    epochs: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    max_train_examples: int | None = None
    vectors: str | None = None  # word victims: "glove" (default), a vectors file, or "none"
    model: str | None = None  # bert: a Hub name or a folder; "@mlm": the benchmark's masked LM
    max_length: int | None = None
    seed: int | None = None  # default: the benchmark's
    source: SourceOptions = field(default_factory=SourceOptions)  # its keys are those of _source_keys()

    @property
    def trained(self) -> bool:
        """Whether the benchmark trains it (rather than attack a victim that exists already)."""
        return self.victim is None


# Keys of a [[victims]] table that describes a victim that exists already, besides its name and `victim`.
def _source_keys() -> dict[str, Any]:
    """Key → the options dataclass it belongs to (``None``: a field of ``SourceOptions`` itself)."""
    from textrobust.victims.prompting import PromptOptions
    from textrobust.victims.remote.options import RemoteOptions

    keys: dict[str, Any] = {"label_map": None, "trust_pickle": None}
    for options_type in (PromptOptions, RemoteOptions):
        keys.update({spec.name: options_type for spec in options_type.fields()})
    return keys


@dataclass(frozen=True)
class AttackSpec:
    """A recipe and the options it runs under."""

    recipe: str
    options: AttackOptions = field(default_factory=AttackOptions)

    @property
    def label(self) -> str:
        return self.options.label(self.recipe)


@dataclass(frozen=True)
class DefenseSpec:
    """A defense of one of the benchmark's victims, and how it is judged. ``table``: the method's settings
    and the training keys, as the config gives them (``defenses.settings.defense_from_mapping`` reads
    them)."""

    victim: str
    method: str
    name: str
    table: Mapping[str, Any] = field(default_factory=dict)
    recipes: tuple[str, ...] | None = None  # default: the benchmark's recipes
    n: int | None = None  # default: the benchmark's n
    budget_protocol: str | None = None


@dataclass(frozen=True)
class HumanEvalSpec:
    """Rating sheets of one victim's successful attacks with one recipe."""

    victim: str
    recipe: str
    n: int = 100
    raters: int = 4


@dataclass(frozen=True)
class BenchmarkSpec:
    """A whole benchmark: victims, attacks, transfer matrix, defenses, rating sheets and the report."""

    name: str
    dataset: str
    folder: Path
    victims: tuple[VictimSpec, ...]
    attacks: tuple[AttackSpec, ...] = ()
    n: int = 200
    split: str = "test"
    seed: int = 0
    report: str = "report.html"
    mlm: str | None = None
    executor: ExecutorSpec = field(default_factory=ExecutorSpec)
    shared_options: AttackOptions = field(default_factory=AttackOptions)  # every attack's (``[attacks]``)
    transfer_recipe: str | None = None
    transfer_n: int | None = None
    defenses: tuple[DefenseSpec, ...] = ()
    humaneval: HumanEvalSpec | None = None

    @property
    def recipes(self) -> list[str]:
        """The recipes run with the shared options (the plain attacks, not the variants)."""
        return [a.recipe for a in self.attacks if a.options == self.shared_options]


# -- reading a TOML file ------------------------------------------------------------------------------

_BENCHMARK_KEYS = ("name", "dataset", "folder", "seed", "report", "mlm", "workers", "executor", "ray_address",
                   "gpus_per_worker")  # fmt: skip
_ATTACK_KEYS = ("recipes", "n", "split", "variants")
_TRANSFER_KEYS = ("recipe", "n")
_DEFENSE_KEYS = ("victim", "method", "name", "recipes", "n", "budget_protocol")


def _option_keys() -> list[str]:
    # Read from the module each time: a field added to AttackOptions is a key at once.
    return [spec.name for spec in attack_options.AttackOptions.fields()]


def _field_keys(cls: type) -> list[str]:
    return [spec.name for spec in dataclasses.fields(cls)]


def _known_keys() -> dict[str, list[str]]:
    """Each section's keys (the ``[[defenses]]`` tables are checked against their method's settings)."""
    return {
        "benchmark": list(_BENCHMARK_KEYS),
        "attacks": [*_ATTACK_KEYS, *_option_keys()],
        "transfer": list(_TRANSFER_KEYS),
        "victims": [*(key for key in _field_keys(VictimSpec) if key != "source"), *_source_keys()],
        "humaneval": _field_keys(HumanEvalSpec),
        "defenses": [],
    }


def read_benchmark(
    path: str | Path,
    *,
    mlm: str | None = None,
    dataset: str | None = None,
    folder: str | Path | None = None,
    executor: Mapping[str, Any] | None = None,
    default_mlm: str | None = None,
) -> BenchmarkSpec:
    """Read and check a benchmark config; every mistake is one error naming the file and the key.
    ``mlm``, ``dataset`` and ``folder`` override the config's values, and so do the entries of
    ``executor`` that are not None (``executor``, ``workers``, ``ray_address``, ``gpus_per_worker``).
    ``default_mlm``: the masked LM when neither ``mlm`` nor the config names one."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TextrobustError(f"benchmark config not found: {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TextrobustError(f"{path} is not valid TOML: {exc}") from None
    try:
        return _read(raw, path, mlm, dataset, folder, dict(executor or {}), default_mlm)
    except ConfigError as exc:  # raised below without the file's name
        raise ConfigError(exc.where, exc.problem, path) from None


def _at(where: str, call: Any, *args: Any, **kwargs: Any) -> Any:
    """``call(*args, **kwargs)``, its ``ParameterError`` reported as a mistake at ``where``."""
    try:
        return call(*args, **kwargs)
    except ParameterError as exc:
        raise ConfigError(where, str(exc)) from None


def _tables(raw: Mapping[str, Any]) -> None:
    known = _known_keys()
    for section, value in raw.items():
        if section not in known:
            raise ConfigError(section, f"unknown section; known: {', '.join(known)}")
        items = value if isinstance(value, list) else [value]
        for number, item in enumerate(items, start=1):
            if not isinstance(item, dict):
                raise ConfigError(section, "expected a table")
            if section == "defenses":
                continue
            unknown = sorted(set(item) - set(known[section]))
            if unknown:
                where = f"[[{section}]] #{number}" if isinstance(value, list) else f"[{section}]"
                raise ConfigError(
                    where, f"unknown key '{unknown[0]}'; known: {', '.join(sorted(known[section]))}"
                )


def _read(
    raw: Mapping[str, Any],
    path: Path,
    mlm: str | None,
    dataset: str | None,
    folder: str | Path | None,
    executor: dict[str, Any],
    default_mlm: str | None,
) -> BenchmarkSpec:
    from textrobust.attacks.recipes import RECIPES
    from textrobust.runs.specs import check_attack

    _tables(raw)
    bench = raw.get("benchmark", {})
    attacks_table = raw.get("attacks", {})
    transfer = raw.get("transfer", {})
    victim_tables = raw.get("victims", [])
    if not isinstance(victim_tables, list) or not victim_tables:
        raise ConfigError("victims", "list at least one [[victims]] table")
    victims = tuple(_victim(table, number) for number, table in enumerate(victim_tables, start=1))
    names = [v.name for v in victims]
    if len(set(names)) != len(names):
        raise ConfigError("victims", "two victims share a name; give each a distinct name")

    shared_table = {k: v for k, v in attacks_table.items() if k not in _ATTACK_KEYS}
    shared = _at("[attacks]", attack_options.AttackOptions.from_mapping, shared_table)
    recipes = [str(r) for r in attacks_table.get("recipes", ["textfooler"])]
    attacks = []
    for recipe in recipes:
        _at("attacks.recipes", check_attack, recipe, shared)
        attacks.append(AttackSpec(recipe, shared))
    for number, variant in enumerate(attacks_table.get("variants", []), start=1):
        where = f"[[attacks.variants]] #{number}"
        if not isinstance(variant, dict) or "recipe" not in variant:
            raise ConfigError(where, "a variant is a table with a 'recipe' key")
        unknown = sorted(set(variant) - {"recipe", *_option_keys()})
        if unknown:
            known = ", ".join(sorted({"recipe", *_option_keys()}))
            raise ConfigError(where, f"unknown key '{unknown[0]}'; known: {known}")
        table = {**shared.to_json(with_budget=True), **{k: v for k, v in variant.items() if k != "recipe"}}
        options = _at(where, attack_options.AttackOptions.from_mapping, table)
        _at(where, check_attack, str(variant["recipe"]), options)
        attacks.append(AttackSpec(str(variant["recipe"]), options))

    transfer_recipe = transfer.get("recipe")
    if transfer_recipe is not None and transfer_recipe not in RECIPES:
        raise ConfigError(
            "transfer.recipe", f"'{transfer_recipe}' is unknown; choose one of {', '.join(RECIPES.names())}"
        )
    if transfer_recipe is not None and len(victims) < 2:
        raise ConfigError("transfer", "a transfer matrix needs at least two victims")

    n = _at("attacks.n", _whole, attacks_table.get("n", 200), "n")
    _at("attacks.n", require_at_least, "n", n, 1)
    chosen = {key: bench.get(key) for key in ("executor", "workers", "ray_address", "gpus_per_worker")}
    chosen.update({key: value for key, value in executor.items() if value is not None})
    executor_spec = ExecutorSpec(
        kind=str(chosen["executor"] or "local"),
        workers=chosen["workers"],
        ray_address=chosen["ray_address"],
        gpus_per_worker=chosen["gpus_per_worker"],
    )
    _at("benchmark", executor_spec.check)
    report = str(bench.get("report", "report.html"))
    if not report.endswith(".html"):
        raise ConfigError("benchmark.report", "name an .html file (markdown and JSON are written beside it)")
    spec = BenchmarkSpec(
        name=str(bench.get("name", path.stem)),
        dataset=dataset or str(bench.get("dataset", "mr")),
        folder=Path(folder or str(bench.get("folder", Path("runs") / path.stem))),
        victims=victims,
        attacks=tuple(attacks),
        n=n,
        split=str(attacks_table.get("split", "test")),
        seed=_at("benchmark.seed", _whole, bench.get("seed", 0), "seed"),
        report=report,
        mlm=mlm or bench.get("mlm") or default_mlm,
        executor=executor_spec,
        shared_options=shared,
        transfer_recipe=transfer_recipe,
        transfer_n=_at("transfer.n", _whole, transfer["n"], "n") if "n" in transfer else None,
        defenses=tuple(
            _defense(table, names, number) for number, table in enumerate(raw.get("defenses", []), 1)
        ),
    )
    humaneval = raw.get("humaneval")
    if humaneval is not None:
        if humaneval.get("victim") not in names:
            raise ConfigError("humaneval.victim", f"name one of the [[victims]] ({', '.join(names)})")
        recipe = humaneval.get("recipe", recipes[0] if recipes else None)
        if recipe not in recipes:
            raise ConfigError("humaneval.recipe", f"name one of attacks.recipes ({', '.join(recipes)})")
        rating = HumanEvalSpec(
            str(humaneval["victim"]),
            str(recipe),
            int(humaneval.get("n", 100)),
            int(humaneval.get("raters", 4)),
        )
        _at("humaneval.n", require_at_least, "humaneval.n", rating.n, 1)
        _at("humaneval.raters", require_at_least, "humaneval.raters", rating.raters, 2)
        spec = dataclasses.replace(spec, humaneval=rating)
    if any(v.model == MLM_MODEL for v in victims) and not spec.mlm:
        raise ConfigError(
            "victims", f"model = '{MLM_MODEL}' needs a masked LM: set benchmark.mlm or pass --mlm"
        )
    return spec


def _whole(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(name, f"must be a whole number, got {value!r}")
    return value


def _victim(table: Mapping[str, Any], number: int) -> VictimSpec:
    from textrobust.victims.kinds import VICTIM_KINDS, capability

    name = str(table.get("name", table.get("type", "")))
    kind = table.get("type")
    where = f"victim '{name}'" if name else f"[[victims]] #{number}"
    if "victim" in table:
        return _given_victim(table, where)
    source = sorted(set(table) & set(_source_keys()))
    if source:
        raise ConfigError(
            where, f"'{source[0]}' applies to a victim given by `victim = NAME`, not a trained one"
        )
    if not isinstance(kind, str) or kind not in VICTIM_KINDS:
        raise ConfigError(
            where,
            f"type must be one of {', '.join(VICTIM_KINDS.names())} (a victim to train), or give `victim = "
            "NAME` (one that exists: a folder, hf:, py:, sklearn:, a URL, openai:, llm:)",
        )
    if not capability(kind, "trainable"):
        raise ConfigError(where, f"type '{kind}' is not trained from data; make it from a trained victim")
    try:
        return VictimSpec(**{**table, "name": name})
    except TypeError as exc:
        raise ConfigError(where, str(exc)) from None


def _given_victim(table: Mapping[str, Any], where: str) -> VictimSpec:
    """A victim that exists already: ``victim = NAME`` (as ``--victim`` takes it) and what the user says
    about it; training keys do not apply."""
    from textrobust.victims.prompting import PromptOptions
    from textrobust.victims.remote.options import RemoteOptions

    name, given = table.get("name"), table.get("victim")
    if not isinstance(given, str) or not given:
        raise ConfigError(
            where, "victim must name a victim (a folder, hf:, py:, sklearn:, a URL, openai:, llm:)"
        )
    if not isinstance(name, str) or not name:
        raise ConfigError(where, "a victim given by `victim = NAME` needs a name")
    if "type" in table:
        raise ConfigError(where, "give type (a victim to train) or victim (one that exists), not both")
    keys = _source_keys()
    training = sorted(set(table) - {"name", "victim"} - set(keys))
    if training:
        raise ConfigError(where, f"'{training[0]}' applies to a trained victim (type = …), not a given one")
    label_map = table.get("label_map")
    if label_map is not None and (
        not isinstance(label_map, dict) or not all(isinstance(v, str) for v in label_map.values())
    ):
        raise ConfigError(where, 'label_map must be a table of MODEL_LABEL = "name"')
    trust = table.get("trust_pickle", False)
    if not isinstance(trust, bool):
        raise ConfigError(where, f"trust_pickle must be true or false, got {trust!r}")
    grouped = {
        options_type: {key: value for key, value in table.items() if keys.get(key) is options_type}
        for options_type in (PromptOptions, RemoteOptions)
    }
    source = SourceOptions(
        label_map=dict(label_map) if label_map else None,
        trust_pickle=trust,
        prompt=_at(where, PromptOptions.from_mapping, grouped[PromptOptions]),
        remote=_at(where, RemoteOptions.from_mapping, grouped[RemoteOptions]),
    )
    return VictimSpec(name=name, victim=given, source=source)


def _defense(table: Mapping[str, Any], victims: Sequence[str], number: int) -> DefenseSpec:
    from textrobust.defenses.registry import DEFENSES
    from textrobust.defenses.spec import defense_from_mapping

    victim = table.get("victim")
    if victim not in victims:
        raise ConfigError(
            f"[[defenses]] #{number}",
            f"victim '{victim}' is not one of the [[victims]] ({', '.join(victims)})",
        )
    method = table.get("method")
    where = f"defense of '{victim}'"
    if not isinstance(method, str) or method not in DEFENSES:
        raise ConfigError(where, f"method must be one of {', '.join(DEFENSES.names())}")
    settings = {k: v for k, v in table.items() if k not in _DEFENSE_KEYS}
    _at(where, defense_from_mapping, method, settings)  # the method's keys, checked now
    recipes = table.get("recipes")
    budget_protocol = table.get("budget_protocol")
    if budget_protocol is not None:
        _at(where, attack_options.AttackOptions, budget_protocol=budget_protocol)
    return DefenseSpec(
        victim=str(victim),
        method=method,
        name=str(table.get("name", f"{victim}-{method}")),
        table=settings,
        recipes=tuple(str(r) for r in recipes) if recipes is not None else None,
        n=_at(where, _whole, table["n"], "n") if "n" in table else None,
        budget_protocol=budget_protocol,
    )
