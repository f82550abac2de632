"""Arguments several commands share, each defined once: dataset, store, seed, device, executor, lists."""

from __future__ import annotations

import argparse
import typing
from pathlib import Path
from typing import Any, NoReturn

from textrobust.errors import ParameterError


def add_dataset_arguments(parser: argparse.ArgumentParser, default: str | None = "mr") -> None:
    """The dataset options of every command that reads a labelled dataset."""
    parser.add_argument(
        "--dataset",
        default=default,
        required=default is None,
        help="'mr' (embedded sample), a .csv/.tsv/.jsonl file, or hf:NAME[:CONFIG] (default: %(default)s)",
    )
    parser.add_argument("--text-column", default="text", help="text column/field of a file dataset")
    parser.add_argument("--label-column", default="label", help="label column/field of a file dataset")
    parser.add_argument("--language", default=None, help="language code (default: detected, 'en' or 'ar')")
    parser.add_argument("--split-seed", type=int, default=0, help="seed of the train/validation/test split")


def dataset_from_args(args: argparse.Namespace) -> Any:
    from textrobust.data import load_dataset

    return load_dataset(
        args.dataset,
        text_column=args.text_column,
        label_column=args.label_column,
        language=args.language,
        seed=args.split_seed,
    )


VICTIM_HELP = (
    "a saved victim folder (from `textrobust train`), a Hugging Face sequence-classification folder "
    "(save_pretrained), hf:ORG/NAME[@REVISION], sklearn:FILE.skops (a fitted pipeline), py:MODULE:FACTORY "
    "/ py:FILE.py:FACTORY (any object with labels and predict_proba), an endpoint URL (http://…, "
    "https://…), openai:MODEL@BASE_URL (an OpenAI-compatible server) or llm:NAME_OR_PATH (a causal LM, "
    "zero-shot; a .gguf file too)"
)


# What commands that need a victim saved in a folder (defend, quantize) accept.
SAVED_VICTIM_HELP = (
    "a saved victim folder (from `textrobust train`) or a Hugging Face sequence-classification folder "
    "(save_pretrained)"
)


def add_victim_arguments(
    parser: argparse.ArgumentParser, help: str = VICTIM_HELP, remote: bool = True
) -> None:
    """``--victim`` and what a user may say about it besides its name; ``remote``: also the flags of LLM and
    HTTP victims (not for commands that need a victim saved in a folder)."""
    parser.add_argument("--victim", required=True, help=help)
    add_source_arguments(parser, remote)


def add_source_arguments(parser: argparse.ArgumentParser, remote: bool = True) -> None:
    """What a user may say about victims besides their names (``SourceOptions``): ``--label-map``,
    ``--trust-pickle`` and, with ``remote``, the flags of LLM and HTTP victims."""
    parser.add_argument(
        "--label-map",
        default=None,
        help="rename the victim's classes to the dataset's: LABEL_0=negative,LABEL_1=positive",
    )
    parser.add_argument(
        "--trust-pickle",
        action="store_true",
        help="allow a victim file whose loading runs code (pickle, joblib); only for files you trust",
    )
    if not remote:
        return
    from textrobust.victims.prompting import PromptOptions
    from textrobust.victims.remote.options import RemoteOptions

    add_option_flags(parser.add_argument_group("LLM victims (llm:, openai:)"), PromptOptions)
    add_option_flags(parser.add_argument_group("HTTP victims (URLs, openai:)"), RemoteOptions)


def source_options_from_args(args: argparse.Namespace) -> Any:
    """What the victim flags say besides the victim's name (``SourceOptions``)."""
    from textrobust.victims.prompting import PromptOptions
    from textrobust.victims.remote.options import RemoteOptions
    from textrobust.victims.resolve import SourceOptions

    return SourceOptions(
        label_map=label_map(args.label_map),
        trust_pickle=getattr(args, "trust_pickle", False),
        prompt=options_from_args(args, PromptOptions),
        remote=options_from_args(args, RemoteOptions),
    )


def victim_from_args(args: argparse.Namespace) -> Any:
    """The victim the flags name, resolved (``textrobust.victims.resolve_victim``)."""
    from textrobust.victims.resolve import resolve_victim

    return resolve_victim(args.victim, source_options_from_args(args))


def label_map(text: str | None) -> dict[str, str] | None:
    """``"LABEL_0=negative, LABEL_1=positive"`` → ``{"LABEL_0": "negative", "LABEL_1": "positive"}``."""
    if not text:
        return None
    pairs = {}
    for item in comma_list(text):
        key, equals, value = item.partition("=")
        if not equals or not key.strip() or not value.strip():
            raise ParameterError(
                "label_map", f"must be MODEL_LABEL=NAME pairs separated by commas, got '{item}'"
            )
        pairs[key.strip()] = value.strip()
    return pairs


def add_store_argument(parser: argparse.ArgumentParser) -> None:
    from textrobust.store import DEFAULT_STORE

    parser.add_argument(
        "--store",
        type=Path,
        default=DEFAULT_STORE,
        help="SQLite store of runs and results (default: %(default)s)",
    )


def add_seed_argument(parser: argparse.ArgumentParser, what: str = "random seed") -> None:
    parser.add_argument("--seed", type=int, default=0, help=f"{what} (default: %(default)s)")


def add_device_argument(parser: argparse.ArgumentParser, default: str | None = "auto") -> None:
    parser.add_argument(
        "--device", default=default, help="auto (CUDA when present), cpu, cuda or cuda:N (default: auto)"
    )


def add_executor_arguments(parser: argparse.ArgumentParser, config_key: bool = False) -> None:
    """Who attacks: this machine's processes (``local``) or Ray actors (``ray``), and how many."""
    default = " (default: the config's, else local)" if config_key else " (default: local)"
    parser.add_argument(
        "--executor",
        choices=("local", "ray"),
        default=None,
        help="local: this process or --workers local processes; ray: Ray actors on a local Ray instance or "
        "the cluster at --ray-address (needs the 'distributed' extra)" + default,
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes or Ray actors (default: local 1, in-process; ray: as many as fit)",
    )
    parser.add_argument(
        "--ray-address",
        default=None,
        help="with --executor ray: 'auto' or HOST:PORT of a running cluster (default: start a local one)",
    )
    parser.add_argument(
        "--gpus-per-worker",
        type=float,
        default=None,
        help="with --executor ray: GPUs per worker of a transformer victim, fractions share a GPU "
        "(default: 1 when the cluster has GPUs)",
    )


def executor_options(args: argparse.Namespace) -> dict[str, Any]:
    """The executor flags as given (``None`` where not given)."""
    return {
        "executor": args.executor,
        "workers": args.workers,
        "ray_address": args.ray_address,
        "gpus_per_worker": args.gpus_per_worker,
    }


def executor_from_args(args: argparse.Namespace) -> Any:
    """The executor the flags choose (checked now, before any work; Ray is started by the first run)."""
    from textrobust.runs.executors import make_executor

    options = executor_options(args)
    return make_executor(
        options["workers"],
        kind=options["executor"] or "local",
        ray_address=options["ray_address"],
        gpus_per_worker=options["gpus_per_worker"],
    )


def add_option_flags(parser: argparse.ArgumentParser, options_type: Any, skip: tuple[str, ...] = ()) -> None:
    """A flag for every field of an options dataclass (``AttackOptions``), made from the field: its name
    (``max_words`` → ``--max-words``), type (a yes/no field is a switch, a tuple of names a
    comma-separated list, a number is typed), names it may take and help. Every flag defaults to "not
    given", so the dataclass keeps its own defaults (``options_from_args``)."""
    for spec in options_type.fields():
        if spec.name in skip:
            continue
        flag = "--" + spec.name.replace("_", "-")
        names = list(spec.choices) if spec.choices is not None else None
        if spec.type is bool:
            parser.add_argument(flag, action="store_true", default=None, help=spec.help)
        elif typing.get_origin(spec.type) is tuple:  # a comma-separated list
            parser.add_argument(
                flag, default=None, help=choices_help(spec.help, names) if names else spec.help
            )
        elif spec.type in (int, float):
            parser.add_argument(flag, type=spec.type, default=None, help=spec.help)
        else:
            parser.add_argument(flag, choices=names, default=None, help=spec.help)


def options_from_args(args: argparse.Namespace, options_type: Any) -> Any:
    """The options dataclass from the flags ``add_option_flags`` made (only those given; a list flag's
    comma-separated names as a list)."""
    given: dict[str, Any] = {}
    for spec in options_type.fields():
        value = getattr(args, spec.name, None)
        if value is not None:
            given[spec.name] = comma_list(value) if typing.get_origin(spec.type) is tuple else value
    return options_type.from_mapping(given)


def add_progress_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def comma_list(value: str | None) -> list[str]:
    """``"a, b,,c"`` → ``["a", "b", "c"]``."""
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def choices_help(prefix: str, names: Any) -> str:
    """A help text ending in the names a registry knows: ``prefix: a, b or c``."""
    names = list(names)
    listed = ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else "".join(names)
    return f"{prefix}: {listed}"


def add_command_group(
    subparsers: argparse._SubParsersAction, name: str, **parser_options: Any
) -> tuple[argparse.ArgumentParser, argparse._SubParsersAction]:
    """A command with subcommands (``textrobust runs list``); alone, it prints its help and exits with 2."""
    parser = subparsers.add_parser(name, **parser_options)
    commands = parser.add_subparsers(dest=f"{name}_command", metavar="SUBCOMMAND")

    def show_help(_args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    parser.set_defaults(func=show_help)
    return parser, commands


def output_file(value: str) -> Path:
    """An argparse type: a file path that can be written (checked before any work starts)."""
    from textrobust.files import output_problem

    problem = output_problem(value, "file")
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return Path(value)


def output_dir(value: str) -> Path:
    """An argparse type: a directory path that can be created or written (checked before any work)."""
    from textrobust.files import output_problem

    problem = output_problem(value, "directory")
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return Path(value)


class OneLineParser(argparse.ArgumentParser):
    """Usage mistakes as one line, ``error: …`` (exit 2), like every other error; ``--help`` shows usage."""

    def error(self, message: str) -> NoReturn:
        message = message.removeprefix("argument ")  # "argument --out: ..." reads "--out: ..."
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")
