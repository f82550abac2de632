"""Hugging Face sequence classifiers as victims, as they were saved: a folder written by ``save_pretrained``
(a config.json with transformers' keys and none of ours, the weights and the tokenizer) or a Hub name,
``hf:ORG/NAME[@REVISION]`` (loaded through Hugging Face's own cache).

Both are loaded with ``AutoModelForSequenceClassification`` and ``AutoTokenizer`` and predict through
``BertClassifier``'s machinery, so the same weights give the same probabilities as a textrobust ``bert``
victim, whatever the family. The class names are the model's ``id2label`` in id order, renamed by
``--label-map`` (a checkpoint that never named its classes, ``LABEL_0``…, needs one). A folder is identified
by the digest of its files; a Hub model by its name and the commit of the snapshot that was loaded, which
every worker then loads too.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from textrobust.errors import TextrobustError, VictimError
from textrobust.hub import first_line, quiet_transformers
from textrobust.victims.base import CONFIG_FILE, VICTIM_TYPE_KEY
from textrobust.victims.bert import BertClassifier
from textrobust.victims.resolve import SourceOptions, VictimRef, apply_label_map

KIND = "checkpoint"
PREFIX = "hf:"
# The longest input a checkpoint reads (less where its position embeddings or tokenizer say so): how long
# the texts it was trained on were is not known, so it is not cut shorter than most encoders allow.
MAX_LENGTH = 512
# What save_pretrained writes: one weights file, or an index of shards (safetensors, or torch's format).
WEIGHT_FILES = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
    "vocab.json",
    "spiece.model",
    "sentencepiece.bpe.model",
)
_COMMIT = re.compile(r"[0-9a-f]{40}")
HUB_ERROR = "cannot load from the Hugging Face Hub (offline, or no such model)"


class CheckpointClassifier(BertClassifier):
    """A sequence classifier trained elsewhere: a ``save_pretrained`` folder or a Hub model. It predicts and
    gives word gradients as the ``bert`` victim does (the same class underneath); ``textrobust train``
    does not make one."""

    victim_type = KIND
    trainable = False
    white_box = True  # word gradients through the input embeddings, as for bert (A2T)
    wraps_base = False
    uses_gpu = True
    architecture = "transformer"

    @classmethod
    def retraining(cls, ref: VictimRef) -> tuple[str, dict[str, Any]]:
        """How a defense trains it further (co-tune, augment, embedding): as a ``bert`` victim whose encoder
        and head start from the checkpoint's weights (its head already has the classes in this order), and
        reads as long inputs as the checkpoint does."""
        return "bert", {"model": ref.location, "max_length": int(ref.config.get("max_length", MAX_LENGTH))}

    @classmethod
    def load(
        cls, location: str | Path, device: str = "auto", config: Mapping[str, Any] | None = None
    ) -> CheckpointClassifier:
        if config is None:  # named without being resolved (load_victim): resolve it, once, here
            from textrobust.victims.resolve import resolve_victim

            loaded = resolve_victim(location).load(device)
            if not isinstance(loaded, CheckpointClassifier):
                raise VictimError(f"{location} holds a '{type(loaded).__name__}' victim, not a checkpoint")
            return loaded
        location = str(location)
        if location.startswith(PREFIX):
            repo, _, revision = location[len(PREFIX) :].partition("@")
            # The commit resolution found: every worker loads that snapshot, even if the branch moved since.
            pinned = str(config.get("revision") or revision or "") or None
            tokenizer, model = _from_pretrained(repo, pinned, location, HUB_ERROR)
        else:
            tokenizer, model = _from_pretrained(location, None, location, "cannot load the checkpoint")
        victim = cls(
            model,
            tokenizer,
            list(config["labels"]),
            language=str(config.get("language") or ""),
            max_length=int(config.get("max_length", MAX_LENGTH)),
            device=device,
            source=location,
        )
        victim.training_info = dict(config.get("training") or {})
        # How the user renamed its classes: a wrapper saved around it (smooth, quantize) keeps the map.
        victim.label_map = dict(config.get("label_map") or {}) or None
        return victim


def _from_pretrained(where: str, revision: str | None, name: str, problem: str) -> tuple[Any, Any]:
    """Tokenizer and model, loaded by transformers as any user of the checkpoint would (never its remote
    code); a one-line ``VictimError`` naming the victim otherwise."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    with quiet_transformers():
        try:
            tokenizer = AutoTokenizer.from_pretrained(where, revision=revision)
            model = AutoModelForSequenceClassification.from_pretrained(where, revision=revision)
        except Exception as exc:  # noqa: BLE001 - transformers raises many kinds for a missing or broken model
            raise VictimError(f"{name}: {problem}: {first_line(exc)}") from None
    return tokenizer, model


def _transformers_config(where: str, revision: str | None, name: str, problem: str) -> Any:
    """The model's ``PretrainedConfig`` (a folder's, or the Hub snapshot's through its cache)."""
    from transformers import AutoConfig

    with quiet_transformers():
        try:
            return AutoConfig.from_pretrained(where, revision=revision)
        except Exception as exc:  # noqa: BLE001 - as above: an unknown model_type, a bad file, no network
            raise VictimError(f"{name}: {problem}: {first_line(exc)}") from None


def is_transformers_config(config: Mapping[str, Any]) -> bool:
    """Whether a config.json was written by transformers (it names a model type or architectures)."""
    return isinstance(config.get("model_type"), str) or isinstance(config.get("architectures"), list)


def _class_names(config: Any, name: str) -> list[str]:
    """The classes of a sequence classifier's config, in the order of its outputs; a ``VictimError`` for a
    model of another head (a bare encoder, a masked LM) or a regression head."""
    architectures = list(getattr(config, "architectures", None) or [])
    if architectures and not any(str(a).endswith("ForSequenceClassification") for a in architectures):
        raise VictimError(
            f"{name}: a Hugging Face {architectures[0]}, not a sequence classifier "
            "(an …ForSequenceClassification model); fine-tune it first, or train one with textrobust train"
        )
    id2label = {int(key): str(value) for key, value in dict(getattr(config, "id2label", {}) or {}).items()}
    if sorted(id2label) != list(range(len(id2label))):
        raise VictimError(f"{name}: its id2label does not number the classes 0…n-1 ({sorted(id2label)})")
    if len(id2label) < 2:
        raise VictimError(
            f"{name}: it has {len(id2label)} output (a regression head?), not two or more classes"
        )
    return [id2label[i] for i in range(len(id2label))]


def _ref(
    location: str, config: Any, options: SourceOptions, digest: str, revision: str | None = None
) -> VictimRef:
    """The ``VictimRef`` of a checkpoint: its labels renamed by the user's map, which the config carries to
    workers in other processes."""
    labels = apply_label_map(_class_names(config, location), options.label_map, location)
    family = str(getattr(config, "model_type", "") or "unknown")
    victim_config = {
        VICTIM_TYPE_KEY: KIND,
        "labels": list(labels),
        "label_map": dict(options.label_map) if options.label_map else None,
        "model_type": family,
        "max_length": MAX_LENGTH,
        **({"revision": revision} if revision else {}),
    }
    return VictimRef(
        kind=KIND,
        location=location,
        config=victim_config,
        digest=digest,
        language=None,  # a checkpoint does not say which language it reads
        labels=labels,
        family=family,
        trainable=CheckpointClassifier.trainable,
        white_box=CheckpointClassifier.white_box,
        wraps_base=CheckpointClassifier.wraps_base,
        uses_gpu=CheckpointClassifier.uses_gpu,
        architecture=CheckpointClassifier.architecture,
    )


def resolve_folder(directory: Path, raw: Mapping[str, Any], options: SourceOptions) -> VictimRef | None:
    """The ``VictimRef`` of a folder a transformers model was saved in (``raw``: its config.json, read), or
    ``None`` when the config is not transformers'. Its files are checked now, before any work; the model is
    loaded by the victim's ``load`` (in each worker)."""
    from textrobust.files import directory_digest

    if not is_transformers_config(raw):
        return None
    name = str(directory)
    if not any((directory / weights).is_file() for weights in WEIGHT_FILES):
        raise VictimError(f"{name} is incomplete: no weights ({' or '.join(WEIGHT_FILES[::2])})")
    if not any((directory / tokenizer).is_file() for tokenizer in TOKENIZER_FILES):
        raise VictimError(f"{name} is incomplete: no tokenizer files (save the tokenizer beside the model)")
    config = _transformers_config(name, None, name, f"its {CONFIG_FILE} is corrupt")
    return _ref(str(directory.resolve()), config, options, directory_digest(directory))


def resolve_hub(rest: str, options: SourceOptions) -> VictimRef:
    """The ``VictimRef`` of ``hf:ORG/NAME[@REVISION]``: its config is fetched now (or read from the cache)
    for its classes and the commit it is at."""
    repo, _, revision = rest.partition("@")
    name = f"{PREFIX}{rest}"
    if not repo or any(c.isspace() for c in repo) or rest.endswith("@"):
        raise VictimError(f"'{name}' names no model: write {PREFIX}ORG/NAME or {PREFIX}ORG/NAME@REVISION")
    config = _transformers_config(repo, revision or None, name, HUB_ERROR)
    commit = snapshot_commit(repo, revision or None)
    # The identity is the snapshot's commit; where the cache does not tell it, the digest says so rather
    # than pass the branch name off as a fixed model.
    identity = (
        f"{PREFIX}{repo}@{commit}" if commit else f"{PREFIX}{repo}@{revision or 'main'} (commit unknown)"
    )
    digest = hashlib.sha256(identity.encode()).hexdigest()
    return _ref(name, config, options, digest, revision=commit or revision or None)


def snapshot_commit(repo: str, revision: str | None) -> str | None:
    """The commit of the snapshot the config was just loaded from: the name of its folder in Hugging Face's
    cache (``…/snapshots/<commit>/config.json``), or the revision itself when it is a commit."""
    if revision and _COMMIT.fullmatch(revision):
        return revision
    from huggingface_hub import try_to_load_from_cache

    try:
        cached = try_to_load_from_cache(repo, CONFIG_FILE, revision=revision)
    except (TextrobustError, OSError, ValueError):
        return None
    if isinstance(cached, str) and Path(cached).parent.parent.name == "snapshots":
        commit = Path(cached).parent.name
        return commit if _COMMIT.fullmatch(commit) else None
    return None
