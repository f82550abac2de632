"""The report's plots, drawn with matplotlib (its Agg backend, no screen) as PNG bytes: the same report
gives the same bytes (no date or software stamp is written into the files).

- ``accuracy_under_attack``: accuracy under attack per victim × recipe (grouped bars, 95 % intervals);
- ``transfer_heatmap``: transfer success rate, source × target, one panel per recipe;
- ``accuracy_curves``: accuracy under attack against the share of words the attacker may change;
- ``defense_deltas``: accuracy before and after each defense, clean and under each recipe.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from textrobust.errors import ResourceMissingError
from textrobust.leaderboard.report import Report

WIDTH = 7.0  # inches at 100 dpi: 700 pixels, readable on a phone when scaled to the screen


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise ResourceMissingError(
            "plots need matplotlib: pip install 'textrobust[report]' (or pass no plots)"
        ) from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.hashsalt": "textrobust", "font.size": 9})
    return plt


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight", metadata={"Software": None})
    _pyplot().close(figure)
    return buffer.getvalue()


def accuracy_under_attack(report: Report) -> bytes | None:
    entries = report.entries
    if not entries:
        return None
    plt = _pyplot()
    victims = sorted({e.victim.name for e in entries})
    recipes = sorted({e.recipe for e in entries})
    figure, axis = plt.subplots(figsize=(WIDTH, 3.2))
    width = 0.8 / len(recipes)
    for r, recipe in enumerate(recipes):
        xs, ys, errors = [], [], [[], []]
        for v, victim in enumerate(victims):
            found = [e for e in entries if e.victim.name == victim and e.recipe == recipe]
            if not found:
                continue
            interval = found[-1].accuracy_under_attack
            xs.append(v + (r - (len(recipes) - 1) / 2) * width)
            ys.append(100 * (interval.mean or 0.0))
            errors[0].append(100 * ((interval.mean or 0.0) - (interval.low or 0.0)))
            errors[1].append(100 * ((interval.high or 0.0) - (interval.mean or 0.0)))
        axis.bar(xs, ys, width, yerr=errors, capsize=2, label=recipe)
    axis.set_xticks(range(len(victims)), victims, rotation=20, ha="right")
    axis.set_ylabel("accuracy under attack (%)")
    axis.set_ylim(0, 100)
    axis.legend(fontsize=8, ncols=min(3, len(recipes)))
    axis.set_title("Accuracy under attack (95 % intervals)")
    return _png(figure)


def robustness_by_size(report: Report) -> bytes | None:
    """Worst-case accuracy under attack against parameter count (log scale), one point per victim and set of
    examples, marked by precision and fine-tuning: does the smaller, cheaper model stay as robust?"""
    points = [
        (r, (r.victim.details or {}).get("parameters"))
        for r in report.rankings
        if r.victim.details is not None
    ]
    points = [(r, p) for r, p in points if isinstance(p, int) and p > 0]
    if not points:
        return None
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(WIDTH, 3.2))
    styles: dict[str, str] = {}
    markers = "osD^vP*X"
    for ranking, parameters in points:
        d = ranking.victim.details or {}
        style = f"{d.get('precision') or '?'}, {d.get('fine_tuning') or '?'}"
        marker = styles.setdefault(style, markers[len(styles) % len(markers)])
        interval = ranking.worst_accuracy
        mean = 100 * (interval.mean or 0.0)
        error = [[mean - 100 * (interval.low or 0.0)], [100 * (interval.high or 0.0) - mean]]
        axis.errorbar([parameters], [mean], yerr=error, fmt=marker, capsize=2, color="C0")
        axis.annotate(
            ranking.victim.name, (parameters, mean), fontsize=7, xytext=(4, 3), textcoords="offset points"
        )
    for style, marker in styles.items():
        axis.plot([], [], marker, color="C0", label=style)
    axis.set_xscale("log")
    axis.set_xlabel("parameters")
    axis.set_ylabel("worst-case accuracy under attack (%)")
    axis.set_ylim(0, 100)
    axis.legend(fontsize=8)
    axis.set_title("Robustness against size, precision and fine-tuning (95 % intervals)")
    return _png(figure)


def transfer_heatmap(report: Report) -> bytes | None:
    cells = report.transfers
    if not cells:
        return None
    plt = _pyplot()
    recipes = sorted({c.recipe for c in cells})
    figure, axes = plt.subplots(1, len(recipes), figsize=(WIDTH, 3.4), squeeze=False)
    for axis, recipe in zip(axes[0], recipes, strict=True):
        chosen = [c for c in cells if c.recipe == recipe]
        names = sorted({c.source.name for c in chosen} | {c.target.name for c in chosen})
        grid = [[float("nan")] * len(names) for _ in names]
        for c in chosen:
            grid[names.index(c.source.name)][names.index(c.target.name)] = 100 * (
                c.scores.success_rate.mean or 0.0
            )
        image = axis.imshow(grid, vmin=0, vmax=100, cmap="viridis")
        for i in range(len(names)):
            for j in range(len(names)):
                if grid[i][j] == grid[i][j]:  # not nan
                    axis.text(j, i, f"{grid[i][j]:.0f}", ha="center", va="center", color="white", fontsize=8)
        axis.set_xticks(range(len(names)), names, rotation=30, ha="right")
        axis.set_yticks(range(len(names)), names)
        axis.set_xlabel("target")
        axis.set_ylabel("source")
        axis.set_title(f"transfer success (%) — {recipe}")
    figure.colorbar(image, ax=axes[0].tolist(), shrink=0.8)
    return _png(figure)


def accuracy_curves(report: Report) -> bytes | None:
    entries = [e for e in report.entries if e.curve]
    if not entries:
        return None
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(WIDTH, 3.2))
    for entry in entries:
        xs = [100 * t for t, _a in entry.curve]
        ys = [100 * a for _t, a in entry.curve]
        axis.plot(xs, ys, marker="o", markersize=2, label=f"{entry.victim.name} / {entry.recipe}")
    axis.set_xlabel("share of words the attacker may change (%)")
    axis.set_ylabel("accuracy under attack (%)")
    axis.set_ylim(0, 100)
    axis.legend(fontsize=7, ncols=2)
    axis.set_title("Accuracy against the perturbation budget")
    return _png(figure)


def defense_deltas(report: Report) -> bytes | None:
    defenses = [d for d in report.defenses if d.measures]
    if not defenses:
        return None
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(WIDTH, 3.2))
    labels, before, after = [], [], []
    for d in defenses:
        for m in d.measures:
            labels.append(f"{d.method}/{d.base.name}\n{m.name}")
            before.append(100 * m.base)
            after.append(100 * m.defended)
    positions = range(len(labels))
    axis.bar([p - 0.2 for p in positions], before, 0.4, label="before")
    axis.bar([p + 0.2 for p in positions], after, 0.4, label="after")
    axis.set_xticks(list(positions), labels, rotation=30, ha="right", fontsize=7)
    axis.set_ylabel("accuracy (%)")
    axis.set_ylim(0, 100)
    axis.legend(fontsize=8)
    axis.set_title("Defenses: accuracy before and after")
    return _png(figure)


PLOTS: dict[str, tuple[str, Callable[[Report], bytes | None]]] = {
    "accuracy-under-attack": ("Accuracy under attack per victim and recipe", accuracy_under_attack),
    "robustness-by-size": (
        "Worst-case accuracy against parameters, precision and fine-tuning",
        robustness_by_size,
    ),
    "transfer-heatmap": ("Transfer success rate, source × target", transfer_heatmap),
    "accuracy-curves": ("Accuracy against the share of words changed", accuracy_curves),
    "defense-deltas": ("Defenses: before and after", defense_deltas),
}


def draw_all(report: Report) -> dict[str, tuple[str, bytes]]:
    """name → (title, PNG bytes) for every plot the report has data for."""
    drawn = {}
    for name, (title, draw) in PLOTS.items():
        png = draw(report)
        if png is not None:
            drawn[name] = (title, png)
    return drawn
