"""Counter-fitting (Mrkšić et al., NAACL 2016): inject synonym and antonym constraints into word vectors.

The objective has three terms over unit-normalised vectors, with cosine distance ``d(u, v) = 1 - u·v``:

- antonym repel (AR): for each antonym pair, ``max(0, delta - d(u, v))`` pushes the pair apart;
- synonym attract (SA): for each synonym pair, ``max(0, d(u, v) - gamma)`` pulls the pair together;
- vector space preservation (VSP): for each pair that was within ``rho`` in the *original* space,
  ``max(0, d'(u, v) - d(u, v))`` keeps neighbours from drifting apart.

Optimisation follows the released implementation (github.com/nmrksic/counter-fitting): full-batch steps
in which each word moves by the *average* of its active gradient terms (the authors found this converges
faster than summing), followed by renormalisation to unit length; 20 steps. Deviation: VSP is applied to
both words of a pair (the paper's sum over each word's neighbourhood); the released code moves only one.
A step is a few gathers and scatter-adds over the constraint pairs: well under a second for 65k words.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

from textrobust.resources._similarity import pairs_above
from textrobust.resources.lexical_pairs import LexicalPairs

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class CounterFitConfig:
    """The six hyperparameters of the paper plus the number of steps (defaults = the paper's values)."""

    delta: float = 1.0  # AR margin: repel until d >= 1 (orthogonal). Paper §3 and experiment_parameters.cfg
    gamma: float = 0.0  # SA margin: attract until d = 0. Paper §3 and experiment_parameters.cfg
    rho: float = 0.2  # VSP neighbourhood: original d <= 0.2, i.e. cosine >= 0.8. Paper §3 and the .cfg
    k_antonym: float = 0.1  # hyper_k1 in experiment_parameters.cfg (the paper weights the terms equally)
    k_synonym: float = 0.1  # hyper_k2
    k_vsp: float = 0.1  # hyper_k3
    epochs: int = 20  # paper: "SGD for 20 epochs"; the released code's max_iter = 20 full-batch steps

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


@dataclass(frozen=True)
class PairIndex:
    """Constraint pairs as row indices: ``first[i]``, ``second[i]`` (each unordered pair once)."""

    first: np.ndarray
    second: np.ndarray

    def __len__(self) -> int:
        return int(self.first.shape[0])

    @classmethod
    def from_words(cls, pairs: list[tuple[str, str]], index: dict[str, int]) -> PairIndex:
        kept = [(index[a], index[b]) for a, b in pairs if a in index and b in index and a != b]
        array = np.asarray(kept, dtype=np.int64).reshape(-1, 2)
        return cls(array[:, 0].copy(), array[:, 1].copy())


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float32); all-zero rows stay zero."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-6)


def vsp_pairs(
    vectors: np.ndarray, rho: float = 0.2, progress: Callable[[float], None] | None = None
) -> tuple[PairIndex, np.ndarray]:
    """Pairs within cosine distance ``rho`` of each other (``i < j``) and their original cosines.

    ``vectors`` must be unit-normalised; the scan goes block by block over the vocabulary.
    """
    first, second, cosine = pairs_above(vectors, 1.0 - rho, progress=progress)
    return PairIndex(first, second), cosine


def counter_fit(
    vectors: np.ndarray,
    words: list[str],
    pairs: LexicalPairs,
    config: CounterFitConfig | None = None,
    vsp: tuple[PairIndex, np.ndarray] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Counter-fitted copy of ``vectors`` (rows of ``words``), unit-normalised float32.

    ``vsp`` may pass precomputed preservation pairs (from ``vsp_pairs`` on the normalised vectors);
    ``progress(step, total)`` is called after each step.
    """
    import torch

    config = config or CounterFitConfig()
    current = normalise(vectors).copy()
    index = {word: i for i, word in enumerate(words)}
    antonyms = PairIndex.from_words(pairs.antonyms, index)
    synonyms = PairIndex.from_words(pairs.synonyms, index)
    terms = [
        # AR: active while d < delta, i.e. cos > 1 - delta; moves u along +grad d(u, v), away from v.
        _Term.of(antonyms, config.k_antonym, lower=1.0 - config.delta),
        # SA: active while d > gamma, i.e. cos < 1 - gamma; moves u along -grad d(u, v), towards v.
        _Term.of(synonyms, -config.k_synonym, upper=1.0 - config.gamma),
    ]
    if config.k_vsp > 0:
        if vsp is None:
            vsp = vsp_pairs(current, config.rho)
        preserved, original = _without(vsp, antonyms)  # the reference drops antonym pairs from VSP
        # VSP: active when a pair has drifted further apart than originally (cos below its original).
        terms.append(_Term.of(preserved, -config.k_vsp, upper=original))
    with _one_thread():
        plan = _Plan.build(terms)
        fitted = torch.from_numpy(current)
        for step in range(config.epochs):
            update = torch.zeros_like(fitted)
            count = torch.zeros(fitted.shape[0], dtype=torch.float32)
            plan.accumulate(fitted, update, count)
            moved = count > 0
            # Each word moves by the average of its active terms (the reference's per-word scaling).
            fitted[moved] += update[moved] / count[moved].unsqueeze(1)
            fitted = torch.nn.functional.normalize(fitted, dim=1)
            if progress is not None:
                progress(step + 1, config.epochs)
    return fitted.numpy()


@dataclass(frozen=True)
class _Term:
    """Directed pairs (u moves, v is the other word) with a step scale and an active cosine band."""

    u: np.ndarray
    v: np.ndarray
    scale: float
    lower: np.ndarray  # active when lower < cos < upper
    upper: np.ndarray

    @classmethod
    def of(
        cls, pairs: PairIndex, scale: float, lower: float = -np.inf, upper: float | np.ndarray = np.inf
    ) -> _Term:
        u = np.concatenate([pairs.first, pairs.second])
        v = np.concatenate([pairs.second, pairs.first])
        n = u.shape[0]
        upper_array = np.concatenate([upper, upper]) if isinstance(upper, np.ndarray) else np.full(n, upper)
        return cls(u, v, scale, np.full(n, lower, dtype=np.float32), upper_array.astype(np.float32))


_CHUNK = 1 << 20  # directed pairs per block: bounds the gathered (pairs x dim) tensors


@dataclass(frozen=True)
class _Plan:
    """All terms' directed pairs as tensors, in blocks: a step is a gather, a masked gradient and a
    scatter-add per block."""

    blocks: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]]

    @classmethod
    def build(cls, terms: list[_Term]) -> _Plan:
        import torch

        columns = [np.concatenate([getattr(t, name) for t in terms]) for name in ("u", "v", "lower", "upper")]
        scale = np.concatenate([np.full(t.u.shape[0], t.scale, dtype=np.float32) for t in terms])
        u, v = (torch.from_numpy(c.astype(np.int64)) for c in columns[:2])
        lower, upper = (torch.from_numpy(c.astype(np.float32)) for c in columns[2:])
        scales = torch.from_numpy(scale)
        blocks = [
            (u[s : s + _CHUNK], v[s : s + _CHUNK], scales[s : s + _CHUNK], lower[s : s + _CHUNK],
             upper[s : s + _CHUNK])
            for s in range(0, u.shape[0], _CHUNK)
        ]  # fmt: skip
        return cls(blocks)

    def accumulate(self, current: torch.Tensor, update: torch.Tensor, count: torch.Tensor) -> None:
        """Adds each active pair's ``scale * (u (u·v) - v)`` (the gradient of ``1 - u·v`` on the unit
        sphere) to ``update[u]`` and counts it in ``count[u]``."""
        for u_ids, v_ids, scale, lower, upper in self.blocks:
            u, v = current[u_ids], current[v_ids]
            cos = (u * v).sum(dim=1)
            active = ((cos > lower) & (cos < upper)).float()
            update.index_add_(0, u_ids, (u * cos.unsqueeze(1) - v) * (scale * active).unsqueeze(1))
            count.index_add_(0, u_ids, active)


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Runs torch on one thread: the steps are small memory-bound gathers, which gain nothing from a second
    thread and slow down 5x when OpenMP threads compete with other processes for the cores."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _without(vsp: tuple[PairIndex, np.ndarray], excluded: PairIndex) -> tuple[PairIndex, np.ndarray]:
    if not len(excluded) or not len(vsp[0]):
        return vsp
    size = int(max(vsp[0].first.max(initial=0), vsp[0].second.max(initial=0), excluded.first.max(),
                   excluded.second.max())) + 1  # fmt: skip
    key = np.minimum(vsp[0].first, vsp[0].second) * size + np.maximum(vsp[0].first, vsp[0].second)
    banned = np.minimum(excluded.first, excluded.second) * size + np.maximum(excluded.first, excluded.second)
    keep = ~np.isin(key, banned)
    return PairIndex(vsp[0].first[keep], vsp[0].second[keep]), vsp[1][keep]
