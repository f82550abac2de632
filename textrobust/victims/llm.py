"""LLM victims: a local causal language model as a zero-shot classifier, ``llm:NAME_OR_PATH``.

``NAME_OR_PATH`` is a Hugging Face Hub name ``ORG/NAME[@REVISION]`` (loaded with the real ``from_pretrained``,
through Hugging Face's cache), a local folder a causal LM was saved in with ``save_pretrained``, a ``.gguf``
file, or the name of a model a registry package installed (``llm:smollm2-135m-instruct``: see
``textrobust.resources.llms``). A GGUF file is read by transformers (with the ``gguf`` package) and
dequantised to float32 once; the converted folder is cached under the textrobust cache, keyed by the file's
digest, so later loads read the folder (seconds, not the minute a conversion takes).

The model is asked with ``PromptOptions`` (``--prompt``, ``--verbalizer``, ``--system``): the user message
is the template with the text and the answers; a tokenizer with a chat template gets ``[system, user]`` and
the generation prompt (the assistant's turn), one without gets ``system``, a blank line, the user message
and a newline. A class's score is the log-probability of its verbalizer as the answer's continuation (the
sum over its tokens, so multi-token verbalizers are scored whole); the probabilities are the softmax of
the scores over the classes. The classes are the keys of ``--verbalizer``, which must therefore name every
class of the dataset (by the dataset's label names), e.g. ``negative="negative",positive="positive"``.

Speed: the prompt prefix (the tokens before the text, the same for every text) is run once and its keys
and values are reused for every text where the model's cache allows (plain per-layer key/value caches;
checked once against the full prompt, else full prompts are run); the texts are run in batches of similar
lengths, and each text once, whatever the number of classes (classes whose verbalizers share all but the
last token share a sequence). The model runs in float32 and is deterministic.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from textrobust.errors import ParameterError, TextrobustError, VictimError
from textrobust.victims.base import CONFIG_FILE, VICTIM_TYPE_KEY, validate_texts
from textrobust.victims.prompting import PromptOptions, parse_verbalizers, render
from textrobust.victims.resolve import SourceOptions, VictimRef
from textrobust.victims.usage import Usage

PREFIX = "llm:"
KIND = "llm"
# Sequences per forward pass: on a CPU, bigger batches of short prompts gain little and pad more.
BATCH_SIZE = 16
# Where converted GGUF files are cached, under the textrobust cache.
GGUF_CACHE = "llm-gguf"
HUB_ERROR = "cannot load it from the Hugging Face Hub (offline, or no such model)"
LOCAL_HINT = (
    "pass a local folder (save_pretrained) or a GGUF file: llm:path/to/model.gguf, or the installed "
    "llm:smollm2-135m-instruct"
)
# A Hub name: NAME or ORG/NAME (letters, digits, '-', '_', '.'), optionally @REVISION.
_HUB_NAME = re.compile(r"[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?")
# Stands for the text while the prompt prefix is found; no tokenizer or template changes it.
_SENTINEL = "TEXTROBUSTTEXTSENTINEL"
# Tokens a batch's prompts must share beyond the prompt prefix for them to be run once for the batch.
_MIN_SHARED = 4
# Agreement required between the prefix-cache path and the full prompt before the cache is used.
_CACHE_TOLERANCE = 1e-4


def _classes(options: PromptOptions, name: str) -> tuple[tuple[str, ...], dict[str, str]]:
    """The classes (the keys of ``--verbalizer``, in its order) and their answers."""
    if not options.verbalizer:
        raise VictimError(
            f"{name}: an LLM victim's classes are the classes --verbalizer names, with their answers "
            '(as the dataset names them): e.g. --verbalizer negative="negative",positive="positive"'
        )
    labels = tuple(parse_verbalizers(options.verbalizer))
    if len(labels) < 2:
        raise ParameterError("verbalizer", f"names one class ({labels[0]}); a classifier needs two or more")
    return labels, options.verbalizers(labels)


class LLMClassifier:
    """A causal LM that scores each class by the log-probability of its verbalizer as the answer."""

    victim_type = KIND
    trainable = False
    white_box = False
    wraps_base = False
    uses_gpu = True
    architecture = "transformer"

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        labels: Sequence[str],
        answers: Sequence[str],
        *,
        template: str,
        system: str,
        device: str = "auto",
        batch_size: int = BATCH_SIZE,
        prefix_cache: bool = True,
        name: str = "",
    ):
        import torch

        from textrobust.devices import select_device

        if len(answers) != len(labels):
            raise VictimError(f"{name}: {len(labels)} classes but {len(answers)} answers")
        self.labels = list(labels)
        self.answers = list(answers)
        self.template = template
        self.system = system
        self.name = name
        self.batch_size = batch_size
        self.device = select_device(device)
        self.model = model.to(self.device).eval()
        self.tokenizer = tokenizer
        self.chat = bool(getattr(tokenizer, "chat_template", None))
        self._torch = torch
        self._answer_ids = [self._tokens(answer, special=False) for answer in self.answers]
        for label, ids in zip(self.labels, self._answer_ids, strict=True):
            if not ids:
                raise VictimError(f"{name}: the answer of class '{label}' has no tokens")
        # Sequences to run per text: one per distinct answer stem (all tokens of an answer but its last).
        self._stems = sorted({tuple(ids[:-1]) for ids in self._answer_ids}, key=lambda s: (len(s), s))
        parameters = inspect.signature(model.forward).parameters
        self._cache_argument = "cache" if "cache" in parameters else "past_key_values"
        self._keeps_logits = "logits_to_keep" in parameters
        self._max_positions = int(getattr(model.config, "max_position_embeddings", 0) or 0)
        self._requests = 0
        self._tokens_in = 0
        self._prefix: tuple[list[int], list[tuple[Any, Any]]] | None = None
        self.prefix_cache = prefix_cache and self._build_prefix()

    # -- prompts -------------------------------------------------------------------------------------------

    def prompt(self, text: str) -> str:
        """The whole prompt for ``text``, up to where the answer begins: the chat template applied to the
        system message and the user message (then the assistant's turn), or the plain text of both."""
        user = render(self.template, text, self.answers)
        if not self.chat:
            return f"{self.system}\n\n{user}\n" if self.system else f"{user}\n"
        messages = [{"role": "user", "content": user}]
        if self.system:
            messages.insert(0, {"role": "system", "content": self.system})
        try:
            return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        except Exception:  # noqa: BLE001 - a template that refuses a system turn (Gemma's): put it in the user's
            if not self.system:
                raise
            folded = [{"role": "user", "content": f"{self.system}\n\n{user}"}]
            return self.tokenizer.apply_chat_template(folded, tokenize=False, add_generation_prompt=True)

    def _tokens(self, text: str, special: bool) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=special)["input_ids"])

    def prompt_tokens(self, texts: Sequence[str]) -> list[list[int]]:
        """The token ids of each text's whole prompt (a chat prompt's special tokens are in its text)."""
        prompts = [self.prompt(text) for text in texts]
        return [list(ids) for ids in self.tokenizer(prompts, add_special_tokens=not self.chat)["input_ids"]]

    # -- the prompt prefix's keys and values -------------------------------------------------------------

    def _build_prefix(self) -> bool:
        """Run the tokens before the text once and keep their keys and values; ``False`` (full prompts)
        where the template hides the text, the model's cache is not a plain key/value cache, or the cached
        path does not give the full prompt's probabilities."""
        whole = self.prompt(_SENTINEL)
        if whole.count(_SENTINEL) != 1:
            return False
        before = whole.split(_SENTINEL)[0]
        ids = self._tokens(before, special=not self.chat) if before else []
        if len(ids) < 2:
            return False
        torch = self._torch
        arguments: dict[str, Any] = {"input_ids": torch.tensor([ids], device=self.device), "use_cache": True}
        if self._keeps_logits:
            arguments["logits_to_keep"] = 1
        try:
            with torch.inference_mode():
                output = self.model(**arguments)
            cache = getattr(output, "cache", None) or getattr(output, "past_key_values", None)
            layers = _plain_layers(cache)
        except (TypeError, ValueError, AttributeError, RuntimeError):
            return False
        if layers is None:
            return False
        self._prefix = (ids, layers)
        probe = ["a probe sentence , checked both ways .", "another one"]
        cached = self._probabilities(probe, use_prefix=True)
        full = self._probabilities(probe, use_prefix=False)
        self._requests = self._tokens_in = 0  # the check is not the user's cost
        if not np.allclose(cached, full, atol=_CACHE_TOLERANCE, rtol=0):
            self._prefix = None
            return False
        return True

    def _shared_cache(self, prompts: list[list[int]]) -> tuple[int, list[tuple[Any, Any]] | None]:
        """How many leading tokens every prompt of a batch shares, and their keys and values (one row):
        the prompt prefix's, extended by a run over what the batch's texts share beyond it (an attack's
        candidates share their text up to the word they change) when that is worth a call."""
        assert self._prefix is not None
        prefix, layers = self._prefix
        shortest = min(len(ids) for ids in prompts) - 1  # each row keeps a token to read the answer after
        # The prompts' own tokens decide: the prefix's last token may merge with the text's first.
        skip = min([shortest, *(_common_prefix(ids, prefix) for ids in prompts)])
        if skip <= 0:
            return 0, None
        layers = [(keys[..., :skip, :], values[..., :skip, :]) for keys, values in layers]
        shared = min([shortest, *(_common_prefix(ids, prompts[0]) for ids in prompts[1:])])
        if shared - skip < _MIN_SHARED:
            return skip, layers
        torch = self._torch
        arguments: dict[str, Any] = {
            "input_ids": torch.tensor([prompts[0][skip:shared]], device=self.device),
            "use_cache": True,
            self._cache_argument: _dynamic_cache(layers, 1),
        }
        if self._keeps_logits:
            arguments["logits_to_keep"] = 1
        with torch.inference_mode():
            output = self.model(**arguments)
        self._requests += 1
        extended = _plain_layers(getattr(output, "cache", None) or getattr(output, "past_key_values", None))
        return (shared, extended) if extended is not None else (skip, layers)

    # -- scoring -------------------------------------------------------------------------------------------

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities for ``texts``: the softmax over classes of their answers' log-probabilities."""
        texts = validate_texts(texts)
        return self._probabilities(texts, use_prefix=self.prefix_cache)

    def answer_logprobs(self, texts: Sequence[str]) -> np.ndarray:
        """Each class's answer log-probability (summed over its tokens) for ``texts``, shape (n, classes)."""
        return self._scores(validate_texts(texts), use_prefix=self.prefix_cache)

    def _probabilities(self, texts: list[str], use_prefix: bool) -> np.ndarray:
        scores = self._scores(texts, use_prefix)
        if not len(scores):
            return np.zeros((0, len(self.labels)), dtype=np.float64)
        scores = scores - scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)

    def _scores(self, texts: list[str], use_prefix: bool) -> np.ndarray:
        unique = list(dict.fromkeys(texts))  # an attack may ask for the same text twice in one call
        prompts = dict(zip(unique, self.prompt_tokens(unique), strict=True))
        for text, ids in prompts.items():
            longest = len(ids) + max(len(answer) for answer in self._answer_ids)
            if self._max_positions and longest > self._max_positions:
                raise VictimError(
                    f"{self.name}: a prompt of {longest} tokens is longer than the model reads "
                    f"({self._max_positions}): {text[:60]!r}…"
                )
        self._tokens_in += sum(len(ids) for ids in prompts.values())

        # One sequence per (text, stem); sorted by length (in steps of 8 tokens: a batch pads little), then
        # by tokens, so that a batch's candidates share the longest start (run once, ``_shared_cache``).
        def order(job: tuple[str, tuple[int, ...]]) -> tuple[int, list[int]]:
            row = prompts[job[0]] + list(job[1])
            return len(row) // 8, row

        jobs = sorted(((text, stem) for text in unique for stem in self._stems), key=order)
        logprobs: dict[tuple[str, tuple[int, ...]], Any] = {}
        for start in range(0, len(jobs), self.batch_size):
            chunk = jobs[start : start + self.batch_size]
            rows = self._run(
                [prompts[text] for text, _stem in chunk], [stem for _text, stem in chunk], use_prefix
            )
            logprobs.update(zip(chunk, rows, strict=True))
        scores = {}
        for text in unique:
            row = []
            for answer in self._answer_ids:
                steps = logprobs[(text, tuple(answer[:-1]))]
                row.append(sum(float(steps[j][token]) for j, token in enumerate(answer)))
            scores[text] = row
        return np.asarray([scores[text] for text in texts], dtype=np.float64)

    def _run(self, prompts: list[list[int]], stems: list[tuple[int, ...]], use_prefix: bool) -> list[Any]:
        """One forward pass over prompts (each followed by its answer stem); for each row, the next-token
        log-probabilities after the prompt and after each stem token (a tensor, (len(stem) + 1, vocab))."""
        torch = self._torch
        skip, layers = self._shared_cache(prompts) if use_prefix and self._prefix is not None else (0, None)
        rows = [ids[skip:] + list(stem) for ids, stem in zip(prompts, stems, strict=True)]
        width = max(len(row) for row in rows)
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        # Padded on the right: a causal model's real tokens never see the padding after them.
        input_ids = torch.tensor([row + [pad] * (width - len(row)) for row in rows], device=self.device)
        # Positions whose next-token distribution is read: the prompt's last token, then each stem token.
        wanted = [
            list(range(len(ids) - skip - 1, len(ids) - skip + len(stem)))
            for ids, stem in zip(prompts, stems, strict=True)
        ]
        keep = sorted({position for positions in wanted for position in positions})
        arguments: dict[str, Any] = {"input_ids": input_ids, "use_cache": skip > 0}
        if layers is not None:
            arguments[self._cache_argument] = _dynamic_cache(layers, len(rows))
        if self._keeps_logits:
            arguments["logits_to_keep"] = torch.tensor(keep, device=self.device)
        with torch.inference_mode():
            logits = self.model(**arguments).logits.float()
        self._requests += 1
        index = {position: i for i, position in enumerate(keep)} if self._keeps_logits else None
        results = []
        for row, positions in enumerate(wanted):
            columns = [index[p] for p in positions] if index is not None else positions
            results.append(torch.log_softmax(logits[row, columns], dim=-1).cpu())
        return results

    def usage(self) -> Usage:
        """Model calls (forward passes) and prompt tokens (each text's whole prompt, as an endpoint would
        count it, whether or not its prefix was cached) since the victim was made; nothing is cached."""
        return Usage(requests=self._requests, tokens_in=self._tokens_in)

    @classmethod
    def load(
        cls, location: str | Path, device: str = "auto", config: Mapping[str, Any] | None = None
    ) -> LLMClassifier:
        """The victim a resolved ``llm:`` name describes (its config: where the model is, the prompting)."""
        if config is None:
            from textrobust.victims.resolve import resolve_victim

            loaded = resolve_victim(str(location)).load(device)
            if not isinstance(loaded, LLMClassifier):
                raise VictimError(f"{location} is a '{type(loaded).__name__}' victim, not an LLM")
            return loaded
        name = str(location)
        tokenizer, model = _from_pretrained(str(config["model"]), config.get("revision"), name)
        return cls(
            model,
            tokenizer,
            list(config["labels"]),
            list(config["answers"]),
            template=str(config["prompt"]),
            system=str(config["system"]),
            device=device,
            batch_size=int(config.get("batch_size", BATCH_SIZE)),
            prefix_cache=bool(config.get("prefix_cache", True)),
            name=name,
        )


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _dynamic_cache(layers: list[tuple[Any, Any]], batch: int) -> Any:
    """A fresh cache holding ``layers``' keys and values (one row) for ``batch`` rows (the model appends
    to it, so each call gets its own)."""
    from transformers import DynamicCache

    return DynamicCache(
        [(keys.expand(batch, -1, -1, -1), values.expand(batch, -1, -1, -1)) for keys, values in layers]
    )


def _plain_layers(cache: Any) -> list[tuple[Any, Any]] | None:
    """Each layer's keys and values when ``cache`` is a cache of plain growing key/value layers (what a
    prefix can be cut from and shared); ``None`` for sliding windows, recurrent states and the like."""
    try:
        from transformers.cache_utils import DynamicLayer
    except ImportError:
        return None
    layers = getattr(cache, "layers", None)
    if not layers or any(type(layer) is not DynamicLayer for layer in layers):
        return None
    return [(layer.keys, layer.values) for layer in layers]


# -- loading -------------------------------------------------------------------------------------------------


def _from_pretrained(where: str, revision: str | None, name: str, **gguf: Any) -> tuple[Any, Any]:
    """Tokenizer and float32 causal LM as transformers loads them (never remote code); a one-line
    ``VictimError`` naming the victim otherwise."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from textrobust.hub import first_line, quiet_transformers

    with quiet_transformers():
        try:
            tokenizer = AutoTokenizer.from_pretrained(where, revision=revision, **gguf)
            model = AutoModelForCausalLM.from_pretrained(
                where, revision=revision, dtype=torch.float32, **gguf
            )
        except Exception as exc:  # noqa: BLE001 - transformers raises many kinds for a missing or broken model
            problem = HUB_ERROR if not Path(where).exists() else "cannot load the model"
            hint = f"; {LOCAL_HINT}" if not Path(where).exists() else ""
            raise VictimError(f"{name}: {problem}: {first_line(exc)}{hint}") from None
    return tokenizer, model


def converted_gguf(path: Path, digest: str, name: str) -> Path:
    """The folder a GGUF file was converted to (float32 weights, its tokenizer and chat template), made
    once and cached under the textrobust cache by the file's digest; later calls only find it."""
    from textrobust.files import atomic_directory
    from textrobust.paths import check_cache_dir

    target = check_cache_dir() / GGUF_CACHE / f"{path.stem}-{digest[:16]}"
    if (target / CONFIG_FILE).is_file() and (target / "source.json").is_file():
        return target
    tokenizer, model = _from_pretrained(str(path.parent), None, name, gguf_file=path.name)
    # The weights are dequantised already: transformers only still calls the model "quantised with gguf",
    # which would stop save_pretrained.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    from textrobust.hub import quiet_transformers

    with atomic_directory(target) as staging, quiet_transformers():
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        (staging / "source.json").write_text(
            json.dumps({"gguf": path.name, "sha256": digest}, indent=2) + "\n", encoding="utf-8"
        )
    return target


def _check_causal(config: Any, name: str) -> None:
    """A ``VictimError`` for a model that is not a causal LM (a classifier, a masked LM, an encoder)."""
    architectures = [str(a) for a in (getattr(config, "architectures", None) or [])]
    if architectures and not any(a.endswith(("ForCausalLM", "LMHeadModel")) for a in architectures):
        raise VictimError(
            f"{name}: a {architectures[0]}, not a causal LM (an …ForCausalLM model); a sequence classifier "
            "is a victim by its folder or hf:NAME"
        )


def _where(rest: str, name: str) -> tuple[str, str, str | None, str, str]:
    """What ``rest`` names: ``(source, model, revision, identity, location)`` with source ``folder``,
    ``gguf`` or ``hub``; ``model`` is the folder to load (a GGUF file's converted folder) or the Hub name;
    ``location`` the victim's name with a file or folder made absolute."""
    from textrobust.files import directory_digest
    from textrobust.resources.llms import INSTALLED_LLMS, installed_llm

    if rest in INSTALLED_LLMS:
        try:
            path = installed_llm(rest)
        except TextrobustError as exc:
            raise VictimError(f"{name}: {exc}") from None
        return (*_gguf(path, name), name)
    path = Path(rest).expanduser()
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            raise VictimError(
                f"{name}: expected a .gguf file or a model folder, got '{path.suffix or path.name}'"
            )
        return (*_gguf(path.resolve(), name), f"{PREFIX}{path.resolve()}")
    if path.is_dir():
        if not (path / CONFIG_FILE).is_file():
            raise VictimError(
                f"{name}: the folder has no {CONFIG_FILE} (save the model with save_pretrained)"
            )
        identity = f"folder sha256:{directory_digest(path)}"
        return "folder", str(path.resolve()), None, identity, f"{PREFIX}{path.resolve()}"
    if rest.lower().endswith(".gguf") or rest.startswith((".", "/", "~")):
        raise VictimError(f"{name}: file not found")
    repo, _, revision = rest.partition("@")
    if not _HUB_NAME.fullmatch(repo) or rest.endswith("@"):
        raise VictimError(
            f"{name}: no such folder or file, and not a Hub name (ORG/NAME[@REVISION]); {LOCAL_HINT}"
        )
    return "hub", repo, revision or None, "", name


def _gguf(path: Path, name: str) -> tuple[str, str, str | None, str]:
    try:
        from textrobust.files import file_digest

        digest = file_digest(path)
    except OSError as exc:
        raise VictimError(f"{name}: cannot read it: {exc}") from None
    return "gguf", str(converted_gguf(path, digest, name)), None, f"gguf {path.name} sha256:{digest}"


def _hub_config(repo: str, revision: str | None, name: str) -> tuple[Any, str | None]:
    """The Hub model's config (fetched, or from Hugging Face's cache) and the commit of that snapshot."""
    from transformers import AutoConfig

    from textrobust.hub import first_line, quiet_transformers
    from textrobust.victims.checkpoint import snapshot_commit

    with quiet_transformers():
        try:
            config = AutoConfig.from_pretrained(repo, revision=revision)
        except Exception as exc:  # noqa: BLE001 - no network, no such model, an unknown model type
            raise VictimError(f"{name}: {HUB_ERROR}: {first_line(exc)}; {LOCAL_HINT}") from None
    return config, snapshot_commit(repo, revision)


def resolve_llm(rest: str, options: SourceOptions) -> VictimRef:
    """The ``VictimRef`` of ``llm:REST``: the model is found (a GGUF file converted, once), its config
    checked to be a causal LM and the prompting checked (classes from ``--verbalizer``) before any work;
    the model itself is loaded by the victim's ``load`` (in each worker)."""
    from transformers import AutoConfig

    from textrobust.hub import first_line, quiet_transformers

    name = f"{PREFIX}{rest}"
    if not rest.strip():
        raise VictimError(
            f"'{name}' names no model: write {PREFIX}ORG/NAME, {PREFIX}FOLDER or {PREFIX}FILE.gguf"
        )
    if options.label_map:
        raise VictimError(f"{name}: an LLM's classes are named by --verbalizer, not --label-map")
    labels, answers = _classes(options.prompt, name)
    source, model, revision, identity, location = _where(rest, name)
    if source == "hub":
        config, commit = _hub_config(model, revision, name)
        revision = commit or revision
        identity = f"hub {model}@{commit}" if commit else f"hub {model}@{revision or 'main'} (commit unknown)"
    else:
        with quiet_transformers():
            try:
                config = AutoConfig.from_pretrained(model)
            except Exception as exc:  # noqa: BLE001 - an unreadable config or an unknown model type
                raise VictimError(f"{name}: its {CONFIG_FILE} is not a model's: {first_line(exc)}") from None
    _check_causal(config, name)
    prompting = options.prompt.identity(labels)
    victim_config = {
        VICTIM_TYPE_KEY: KIND,
        "source": source,
        "model": model,
        "revision": revision,
        "identity": identity,
        "labels": list(labels),
        "answers": [answers[label] for label in labels],
        "prompt": prompting["prompt"],
        "system": prompting["system"],
        "batch_size": BATCH_SIZE,
        "prefix_cache": True,
    }
    digest = hashlib.sha256(
        json.dumps({"model": identity, **prompting}, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()
    return VictimRef(
        kind=KIND,
        location=location,
        config=victim_config,
        digest=digest,
        language=None,  # a causal LM does not say which languages it reads
        labels=labels,
        family=str(getattr(config, "model_type", "") or "unknown"),
        trainable=LLMClassifier.trainable,
        white_box=LLMClassifier.white_box,
        wraps_base=LLMClassifier.wraps_base,
        uses_gpu=LLMClassifier.uses_gpu,
        architecture=LLMClassifier.architecture,
    )
