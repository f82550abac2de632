"""Continued masked-LM pretraining of an encoder on a corpus (or from scratch), with resumable checkpoints.

The run is deterministic for a seed on one device: batches are drawn from per-epoch seeded permutations,
masks from a generator seeded by (seed, micro-batch index), and checkpoints carry the model, optimizer,
scheduler, step and every random state, so a resumed run takes the same steps as an uninterrupted one.
The training-loop pieces (checkpoints, random state, accumulation, clipping, warm-up) are
``textrobust.fitting``'s, shared with the victim Trainer.
"""

from __future__ import annotations

import contextlib
import json
import math
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from textrobust.devices import select_device
from textrobust.errors import DataError, ParameterError, require_at_least
from textrobust.fitting import (
    CHECKPOINTS_DIR,
    STATE_FILE,
    OptimizerStep,
    linear_warmup,
    read_checkpoint,
    restore_rng_state,
    rng_state,
    save_checkpoint,
)
from textrobust.fitting import checkpoints as _checkpoints_under
from textrobust.lm import MLMError
from textrobust.lm.corpus import PackedCorpus, fingerprint, pack, read_corpus, split_heldout
from textrobust.lm.evaluate import heldout_loss
from textrobust.lm.masking import IGNORE_INDEX, Masker, batch_generator
from textrobust.lm.model import load_mlm, load_tokenizer, masked_logits, new_mlm, save_mlm
from textrobust.progress import progress_bar
from textrobust.resources.encoders import default_encoder
from textrobust.seeding import seed_everything

SUMMARY_FILE = "textrobust_mlm.json"
LOG_FILE = "train_log.jsonl"
HELDOUT_FILE = "heldout.txt"
MAX_HELDOUT_SEQUENCES = 512  # held-out loss on at most this many packed sequences (keeps evaluations quick)

# Options that may change when a run is resumed; every other option must match the checkpoint.
RUNTIME_OPTIONS = frozenset(
    {
        "out",
        "steps",
        "checkpoint_every",
        "keep_checkpoints",
        "eval_every",
        "log_every",
        "device",
        "save_dtype",
    }
)


@dataclass(frozen=True)
class AdaptConfig:
    """Everything that defines an adaptation run (CLI options map one to one)."""

    corpus: tuple[str, ...]
    out: str
    encoder: str | None = None  # Hub name or folder; None: the offline MiniLM, else its Hub name
    steps: int = 1000
    seq_len: int = 128
    batch_size: int = 32
    grad_accum: int = 1
    lr: float = 1e-4
    warmup: int | None = None  # None: 6% of the steps (RoBERTa's schedule)
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    mask_probability: float = 0.15
    whole_word: bool = False
    holdout: float = 0.05  # < 1: fraction of the corpus texts; ≥ 1: a count
    max_holdout: int = 2000  # cap on held-out texts, so that a big corpus does not lose much
    eval_corpus: tuple[str, ...] = ()  # held-out texts given explicitly (then the corpus is not split)
    text_column: str = "text"
    from_scratch: bool = False
    tokenizer: str | None = None  # with from_scratch: a tokenizer folder (textrobust mlm train-tokenizer)
    size: str | None = None  # with from_scratch and no encoder: tiny / mini / small / medium / base
    seed: int = 0
    checkpoint_every: int = 500
    keep_checkpoints: bool = False
    eval_every: int = 0
    log_every: int = 50
    device: str = "auto"
    save_dtype: str = "float32"

    def run_options(self) -> dict[str, Any]:
        """The options a resumed run must share with its checkpoint."""
        return {k: v for k, v in asdict(self).items() if k not in RUNTIME_OPTIONS}

    def validate(self) -> None:
        for name, minimum in (("steps", 1), ("batch_size", 1), ("grad_accum", 1), ("seq_len", 8)):
            require_at_least(name, getattr(self, name), minimum)
        require_at_least("warmup", self.warmup, 0)
        require_at_least("checkpoint_every", self.checkpoint_every, 0)
        checks = [
            (self.lr > 0, "lr", f"must be > 0, got {self.lr}"),
            (
                0 < self.mask_probability < 1,
                "mask_probability",
                f"must be in (0, 1), got {self.mask_probability}",
            ),
            (
                not (self.tokenizer and not self.from_scratch),
                "tokenizer",
                "only applies to a model from scratch",
            ),
            (
                not (self.from_scratch and not self.tokenizer),
                "tokenizer",
                "is needed for a model from scratch "
                "(make one with: textrobust mlm train-tokenizer --corpus FILE --out DIR)",
            ),
            (not (self.size and not self.from_scratch), "size", "only applies to a model from scratch"),
            (
                not (self.size and self.encoder and self.from_scratch),
                "size",
                "and encoder exclude each other",
            ),
        ]
        for ok, parameter, problem in checks:
            if not ok:
                raise ParameterError(parameter, problem)


@dataclass(frozen=True)
class AdaptResult:
    """What a finished run did and how the held-out masked-LM loss moved."""

    out: Path
    steps: int
    seconds: float
    device: str
    head_added: bool
    n_train_texts: int
    n_heldout_texts: int
    n_train_sequences: int
    tokens_seen: int
    train_loss: float  # mean over the last logging window
    heldout_loss_before: float | None
    heldout_loss_after: float | None
    resumed_from: int | None = None
    log: list[dict[str, Any]] = field(default_factory=list)


def checkpoints(out: Path) -> list[Path]:
    """Finished checkpoints of a run, oldest first."""
    return _checkpoints_under(Path(out) / CHECKPOINTS_DIR)


def stored_options(out: str | Path) -> dict[str, Any]:
    """The run options saved in the newest checkpoint under ``out`` (``--resume`` need not repeat them)."""
    found = checkpoints(Path(out))
    if not found:
        if started_without_checkpoint(Path(out)):
            return {}  # killed before its first checkpoint: the run starts again with the given options
        raise MLMError(
            f"no checkpoint under {Path(out) / CHECKPOINTS_DIR} to resume; start a new run instead"
        )
    state = json.loads((found[-1] / STATE_FILE).read_text(encoding="utf-8"))
    return dict(state["options"])


# What a run writes into its output folder before its first checkpoint.
EARLY_FILES = frozenset({HELDOUT_FILE, LOG_FILE, CHECKPOINTS_DIR})


def started_without_checkpoint(out: Path) -> bool:
    """Whether ``out`` holds only what a run writes before its first checkpoint (it was stopped early)."""
    return out.is_dir() and not checkpoints(out) and {p.name for p in out.iterdir()} <= EARLY_FILES


class _BatchOrder:
    """Sequence indices of micro-batch k: consecutive slices of permutations seeded (seed, epoch)."""

    def __init__(self, n: int, batch_size: int, seed: int) -> None:
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self._permutations: dict[int, np.ndarray] = {}

    def _permutation(self, epoch: int) -> np.ndarray:
        if epoch not in self._permutations:
            if len(self._permutations) > 2:
                self._permutations.pop(min(self._permutations))
            self._permutations[epoch] = np.random.default_rng([self.seed, epoch]).permutation(self.n)
        return self._permutations[epoch]

    def __call__(self, k: int) -> np.ndarray:
        positions = np.arange(k * self.batch_size, (k + 1) * self.batch_size)
        return np.array([self._permutation(int(p // self.n))[p % self.n] for p in positions])


def _optimizer(model: Any, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        # Biases and normalisation weights are not decayed (BERT, RoBERTa).
        (no_decay if param.ndim < 2 or "norm" in name.lower() else decay).append(param)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.98), eps=1e-6)


def _write_text_lines(path: Path, texts: list[str]) -> None:
    path.write_text("".join(" ".join(t.split()) + "\n" for t in texts), encoding="utf-8")


class _Run:
    """One adaptation run: model, data, optimizer and the loop; split out so that each part stays short."""

    def __init__(self, config: AdaptConfig, console: Any, show_progress: bool) -> None:
        from rich.console import Console

        config.validate()
        self.config = config
        self.console = console or Console(stderr=True)
        self.show_progress = show_progress
        self.out = Path(config.out)
        self.device = select_device(config.device)
        self.log: list[dict[str, Any]] = []

    def say(self, message: str) -> None:
        self.console.print(message, highlight=False, soft_wrap=True)

    # -- setup -------------------------------------------------------------------------------------------
    def prepare_out(self, resume: bool) -> Path | None:
        if resume:
            found = checkpoints(self.out)
            if found:
                return found[-1]
            if not started_without_checkpoint(self.out):
                raise MLMError(
                    f"no checkpoint under {self.out / CHECKPOINTS_DIR} to resume; start a new run instead"
                )
            self.say(f"no checkpoint in {self.out} yet (stopped early): starting the run from the beginning")
            for leftover in self.out.iterdir():
                shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
            return None
        if self.out.exists() and (not self.out.is_dir() or any(self.out.iterdir())):
            raise ParameterError(
                "out", f"{self.out} is not empty: resume its run, or choose a new output folder"
            )
        self.out.mkdir(parents=True, exist_ok=True)
        return None

    def check_resumable(self, state: dict[str, Any]) -> None:
        stored = state["options"]
        for key, value in self.config.run_options().items():
            mine = list(value) if isinstance(value, tuple) else value
            if key in stored and stored[key] != mine:
                raise ParameterError(
                    key,
                    f"is {mine!r} but the checkpoint was trained with {stored[key]!r}; "
                    "resume with the same options or start a new run",
                )
        if self.config.steps < state["step"]:
            raise ParameterError("steps", f"must be at least {state['step']}, the step of the checkpoint")

    def build_model(self, checkpoint: Path | None) -> tuple[Any, Any, bool]:
        config = self.config
        if checkpoint is not None:
            loaded = load_mlm(str(checkpoint))
            return loaded.model, loaded.tokenizer, False
        if config.from_scratch:
            assert config.tokenizer is not None
            tokenizer = load_tokenizer(config.tokenizer)
            model = new_mlm(
                tokenizer, size=config.size, like=config.encoder, max_positions=max(512, config.seq_len)
            )
            self.say(
                f"new {model.config.model_type} masked LM from scratch: {model.num_parameters() / 1e6:.1f}M "
                f"parameters, vocabulary {len(tokenizer)}"
            )
            return model, tokenizer, True
        loaded = load_mlm(config.encoder or default_encoder())
        if loaded.head_added:
            self.say(
                f"{loaded.source} has no masked-LM head: added one, decoder tied to the input embeddings"
            )
        return loaded.model, loaded.tokenizer, loaded.head_added

    def read_texts(self) -> tuple[list[str], list[str]]:
        config = self.config
        texts = read_corpus(config.corpus, text_column=config.text_column)
        if config.eval_corpus:
            return texts, read_corpus(config.eval_corpus, text_column=config.text_column)
        holdout = config.holdout
        if 0 < holdout < 1:
            holdout = min(float(round(holdout * len(texts))), float(config.max_holdout)) or 1.0
        if holdout == 0:
            return texts, []
        return split_heldout(texts, holdout, config.seed)

    # -- checkpoints ---------------------------------------------------------------------------------------
    def save_checkpoint(self, step: int, rng: dict[str, Any], extra: dict[str, Any]) -> Path:
        state = {"step": step, "options": _jsonable(self.config.run_options()), **extra}
        return save_checkpoint(
            self.out / CHECKPOINTS_DIR,
            step,
            state,
            {**self.stepper.state_dict(), "rng": rng},
            write=lambda folder: save_mlm(self.model, self.tokenizer, folder),  # resume loads it as a model
        )

    def load_trainer_state(self, checkpoint: Path) -> dict[str, Any]:
        _state, trainer = read_checkpoint(checkpoint, error=MLMError)
        self.stepper.load_state_dict(trainer)
        return trainer["rng"]

    # -- the loop ------------------------------------------------------------------------------------------
    def autocast(self) -> Any:
        if self.device.type == "cuda":
            return torch.autocast("cuda", dtype=self.amp_dtype)
        return contextlib.nullcontext()

    def micro_batch(self, k: int) -> torch.Tensor:
        packed = self.train_packed
        rows = self.order(k)
        ids = torch.from_numpy(packed.input_ids[rows])
        attention = torch.from_numpy(packed.attention_mask[rows])
        starts = torch.from_numpy(packed.word_starts[rows])
        inputs, labels = self.masker(ids, attention, starts, batch_generator(self.config.seed, k))
        where = labels != IGNORE_INDEX
        self.tokens_seen += int(attention.sum())
        if not bool(where.any()):
            return torch.zeros((), device=self.device)
        with self.autocast():
            logits = masked_logits(
                self.model, inputs.to(self.device), attention.to(self.device), where.to(self.device)
            )
        return torch.nn.functional.cross_entropy(logits.float(), labels[where].to(self.device))

    def evaluate_heldout(self) -> float | None:
        if self.heldout_packed is None or len(self.heldout_packed) == 0:
            return None
        value = heldout_loss(
            self.model,
            self.heldout_packed,
            self.masker,
            seed=self.config.seed,
            batch_size=self.config.batch_size,
            device=self.device,
            autocast=self.autocast,
        )
        self.model.train()
        return value

    def record(self, entry: dict[str, Any]) -> None:
        self.log.append(entry)
        with (self.out / LOG_FILE).open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")

    def setup(self, resume: bool) -> dict[str, Any]:
        """Model, data, optimizer and schedule, fresh or from the newest checkpoint; returns its state."""
        config = self.config
        self.checkpoint = self.prepare_out(resume)
        state: dict[str, Any] = {}
        if self.checkpoint is not None:
            state = json.loads((self.checkpoint / STATE_FILE).read_text(encoding="utf-8"))
            self.check_resumable(state)
        train_texts, heldout_texts = self.read_texts()  # before the model: a bad corpus fails fast
        self.n_texts = (len(train_texts), len(heldout_texts))
        corpus_print = fingerprint(train_texts)
        if state and state.get("corpus_fingerprint") != corpus_print:
            raise MLMError(
                "the corpus differs from the one the checkpoint was trained on; resume with the same texts"
            )
        seed_everything(config.seed)  # the new MLM head (or the model from scratch) depends on it
        self.model, self.tokenizer, head_added = self.build_model(self.checkpoint)
        positions = int(getattr(self.model.config, "max_position_embeddings", config.seq_len))
        if config.seq_len > positions:
            raise ParameterError("seq_len", f"{config.seq_len} exceeds the model's {positions} positions")
        self.model.to(self.device)
        cuda = self.device.type == "cuda"
        self.amp_dtype = torch.bfloat16 if cuda and torch.cuda.is_bf16_supported() else torch.float16
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=cuda and self.amp_dtype == torch.float16)

        if self.checkpoint is None and heldout_texts:
            _write_text_lines(self.out / HELDOUT_FILE, heldout_texts)
        self.say(f"corpus: {len(train_texts)} training texts, {len(heldout_texts)} held out")
        self.train_packed = pack(self.tokenizer, train_texts, config.seq_len)
        if len(self.train_packed) == 0:
            raise DataError("the corpus has no tokens after tokenisation")
        self.heldout_packed = None
        if heldout_texts:
            packed = pack(self.tokenizer, heldout_texts, config.seq_len)
            arrays = (packed.input_ids, packed.attention_mask, packed.word_starts)
            self.heldout_packed = PackedCorpus(*(a[:MAX_HELDOUT_SEQUENCES] for a in arrays))
        self.masker = Masker(
            mask_id=int(self.tokenizer.mask_token_id),
            vocab_size=len(self.tokenizer),
            special_ids=tuple(self.tokenizer.all_special_ids),
            probability=config.mask_probability,
            whole_word=config.whole_word,
        )
        self.order = _BatchOrder(len(self.train_packed), config.batch_size, config.seed)

        warmup = (
            config.warmup if config.warmup is not None else state.get("warmup", round(0.06 * config.steps))
        )
        self.optimizer = _optimizer(self.model, config.lr, config.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, linear_warmup(warmup, config.steps)
        )
        self.stepper = OptimizerStep(
            self.optimizer,
            parameters=self.model.parameters(),
            max_grad_norm=config.max_grad_norm,
            scheduler=self.scheduler,
            scaler=self.scaler,
        )
        self.tokens_seen = int(state.get("tokens_seen", 0))
        before = state["heldout_loss_before"] if state else self.evaluate_heldout()
        if self.checkpoint is not None:
            restore_rng_state(self.load_trainer_state(self.checkpoint))
            self.say(f"resuming from {self.checkpoint.name} (step {state['step']} of {config.steps})")
        elif before is not None:
            self.say(f"held-out masked-LM loss before: {before:.4f}")
            self.record({"step": 0, "heldout_loss": before})
        self.stored = {
            "head_added": bool(state.get("head_added", head_added)),
            "corpus_fingerprint": corpus_print,
            "warmup": warmup,
            "heldout_loss_before": before,
        }
        return state

    def train(self, start_step: int, previous_seconds: float) -> tuple[int, list[float]]:
        """Optimizer steps from ``start_step`` to the end; on Ctrl-C, checkpoint the last finished step."""
        config = self.config
        started = time.perf_counter()

        def extras() -> dict[str, Any]:
            seconds = previous_seconds + time.perf_counter() - started
            return {**self.stored, "tokens_seen": self.tokens_seen, "seconds": seconds}

        self.extras = extras
        losses: list[float] = []
        step, step_rng, updating = start_step, rng_state(), False
        self.model.train()
        try:
            with _progress(self.console, self.show_progress, config.steps, start_step) as advance:
                window_start = time.perf_counter()
                while step < config.steps:
                    step_rng = rng_state()
                    total = 0.0
                    for part in range(config.grad_accum):
                        loss = self.micro_batch(step * config.grad_accum + part)
                        total += float(self.stepper.backward(loss, config.grad_accum))
                    updating = True
                    self.stepper.step()
                    step, updating = step + 1, False
                    losses.append(total)
                    advance(total)
                    if (config.log_every and step % config.log_every == 0) or step == config.steps:
                        window = losses[-(config.log_every or 1) :]
                        self.log_window(step, window, time.perf_counter() - window_start)
                        window_start = time.perf_counter()
                    if config.eval_every and step % config.eval_every == 0 and step < config.steps:
                        value = self.evaluate_heldout()
                        if value is not None:
                            self.record({"step": step, "heldout_loss": value})
                            self.say(f"step {step}: held-out masked-LM loss {value:.4f}")
                    if (
                        config.checkpoint_every
                        and step % config.checkpoint_every == 0
                        and step < config.steps
                    ):
                        self.save_checkpoint(step, rng_state(), extras())
        except KeyboardInterrupt:
            if not updating and step > start_step:
                saved = self.save_checkpoint(step, step_rng, extras())
                self.say(f"interrupted: saved {saved}; resume the run to continue")
            raise
        return step, losses[-(config.log_every or 1) :]

    def log_window(self, step: int, window: list[float], seconds: float) -> None:
        entry = {
            "step": step,
            "loss": float(np.mean(window)),
            "lr": self.scheduler.get_last_lr()[0],
            "seconds_per_step": seconds / max(1, len(window)),
        }
        self.record(entry)
        self.say(
            f"step {step}/{self.config.steps}  loss {entry['loss']:.4f}  lr {entry['lr']:.2e}  "
            f"{entry['seconds_per_step']:.2f} s/step"
        )

    def run(self, resume: bool) -> AdaptResult:
        config = self.config
        state = self.setup(resume)
        start_step = int(state.get("step", 0))
        step, last_window = self.train(start_step, float(state.get("seconds", 0.0)))
        after = self.evaluate_heldout()
        if after is not None:
            self.record({"step": step, "heldout_loss": after})
            self.say(f"held-out masked-LM loss after {step} steps: {after:.4f}")
        if config.keep_checkpoints:
            self.save_checkpoint(step, rng_state(), self.extras())
        save_mlm(self.model, self.tokenizer, self.out, dtype=config.save_dtype)
        result = AdaptResult(
            out=self.out,
            steps=step,
            seconds=self.extras()["seconds"],
            device=str(self.device),
            head_added=self.stored["head_added"],
            n_train_texts=self.n_texts[0],
            n_heldout_texts=self.n_texts[1],
            n_train_sequences=len(self.train_packed),
            tokens_seen=self.tokens_seen,
            train_loss=float(np.mean(last_window)) if last_window else math.nan,
            heldout_loss_before=self.stored["heldout_loss_before"],
            heldout_loss_after=after,
            resumed_from=start_step if self.checkpoint is not None else None,
            log=self.log,
        )
        summary = {k: v for k, v in asdict(result).items() if k not in ("log", "out")}
        summary.update(options=_jsonable(asdict(config)), torch_threads=torch.get_num_threads())
        (self.out / SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        if not config.keep_checkpoints:
            shutil.rmtree(self.out / CHECKPOINTS_DIR, ignore_errors=True)
        return result


@contextlib.contextmanager
def _progress(console: Any, show: bool, total: int, completed: int) -> Iterator[Callable[[float], None]]:
    with progress_bar("loss {task.fields[loss]}", enabled=show, transient=True, console=console) as progress:
        task = progress.add_task("mlm adapt", total=total, completed=completed, loss="-")
        recent: list[float] = []

        def advance(loss: float) -> None:
            recent.append(loss)
            del recent[:-20]
            progress.update(task, advance=1, loss=f"{np.mean(recent):.3f}")

        yield advance


def _jsonable(options: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in options.items()}


def adapt(
    config: AdaptConfig, *, resume: bool = False, console: Any = None, show_progress: bool = True
) -> AdaptResult:
    """Run (or resume) masked-LM adaptation; the fill-mask model is written to ``config.out``."""
    if not config.from_scratch and not config.encoder:
        config = replace(config, encoder=default_encoder())
    return _Run(config, console, show_progress).run(resume)


def config_from_options(options: dict[str, Any]) -> AdaptConfig:
    """An AdaptConfig from a dict of options (unknown keys ignored, lists made tuples)."""
    names = {f.name for f in fields(AdaptConfig)}
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in options.items() if k in names}
    return AdaptConfig(**values)


__all__ = [
    "AdaptConfig",
    "AdaptResult",
    "adapt",
    "checkpoints",
    "config_from_options",
    "stored_options",
]
