"""Word vectors trained here from a victim's own training texts, for languages without pretrained ones.

Positive pointwise mutual information over a symmetric window, factorised by a truncated SVD (Levy,
Goldberg & Dagan 2015, "Improving distributional similarity with lessons learned from word
embeddings": context distribution smoothing α = 0.75 and the eigenvalue weighting p = 0.5 come from
there). Seconds on tens of thousands of tweets, deterministic for a seed, and a far better start for
a word victim than random vectors when no GloVe exists for the language (Arabic here).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import torch

CONTEXT_SMOOTHING = 0.75  # α of Levy et al. 2015
EIGENVALUE_WEIGHT = 0.5  # U · Σ^p with p = 0.5 (Levy et al. 2015)


def train_ppmi_vectors(
    token_lists: Sequence[Sequence[str]],
    words: Sequence[str],
    dim: int,
    *,
    window: int = 5,
    min_count: int = 2,
    max_words: int = 30_000,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Vectors for ``words`` (rows in that order) and a boolean mask of the rows that were trained.

    Only words seen ``min_count`` times, at most the ``max_words`` most frequent, get a vector (rarer
    co-occurrence statistics are noise); the other rows are zero and their mask entry is False.
    Rows are unit length.
    """
    counts = Counter(token for tokens in token_lists for token in tokens)
    ranked = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    ranked = ranked[:max_words]
    index = {word: i for i, word in enumerate(ranked)}
    size = len(index)
    matrix = np.zeros((len(words), dim), dtype=np.float32)
    trained = np.zeros(len(words), dtype=bool)
    if size <= dim:  # too little text for a factorisation of this rank
        return matrix, trained
    pairs: Counter[tuple[int, int]] = Counter()
    for tokens in token_lists:
        ids = [index.get(token, -1) for token in tokens]
        for position, center in enumerate(ids):
            if center < 0:
                continue
            for offset in range(1, window + 1):
                if position + offset >= len(ids):
                    break
                context = ids[position + offset]
                if context >= 0:
                    pairs[(center, context)] += (
                        1.0 / offset
                    )  # nearer words weigh more (word2vec's dynamic window)
                    pairs[(context, center)] += 1.0 / offset
    if not pairs:
        return matrix, trained
    keys = np.array(list(pairs.keys()), dtype=np.int64)
    values = np.array(list(pairs.values()), dtype=np.float64)
    rows, cols = keys[:, 0], keys[:, 1]
    row_sums = np.bincount(rows, weights=values, minlength=size)
    context_mass = np.bincount(cols, weights=values, minlength=size) ** CONTEXT_SMOOTHING
    pmi = np.log(values * context_mass.sum() / (row_sums[rows] * context_mass[cols]))
    keep = pmi > 0
    sparse = torch.sparse_coo_tensor(
        torch.from_numpy(np.stack([rows[keep], cols[keep]])),
        torch.from_numpy(pmi[keep].astype(np.float32)),
        (size, size),
        check_invariants=True,
    ).coalesce()
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)  # svd_lowrank draws a random projection
    try:
        u, s, _v = torch.svd_lowrank(sparse, q=dim, niter=4)
    finally:
        torch.random.set_rng_state(generator_state)
    vectors = (u * s.pow(EIGENVALUE_WEIGHT)).numpy()
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-8)
    for row, word in enumerate(words):
        found = index.get(word)
        if found is not None:
            matrix[row] = vectors[found]
            trained[row] = True
    return matrix, trained
