"""The report in every format: tables as rows (the terminal's), markdown, JSON, CSV and one HTML file.

Each format is a pure function of a ``Report``; the same store gives the same bytes. The HTML file is
self-contained (styles, a small sorting script and the plots inlined; nothing is fetched), readable on a
phone (tables scroll sideways) and in print.

JSON (``format: textrobust-leaderboard``, ``format_version: 1``) holds one record per entry,
RobustBench-style: ``entries`` (a finished attack run: ``run_id``, ``key`` — the hash of every setting that
decides its results —,
``version``, ``victim`` {``name``, ``type``, ``path``, ``fingerprint``, ``defense``}, ``recipe``, ``dataset``,
``split``, ``n``, ``seed``, ``budget``, ``options``, ``clean_accuracy``, ``accuracy_under_attack``,
``success_rate`` — each {``mean``, ``low``, ``high``, ``n``}, a bootstrap 95 % interval —,
``perturbed_words``, ``queries``, ``similarity``, ``seconds_per_example``), ``rankings`` (worst case per
victim), ``defenses`` (``measures``: base, defended, difference with its interval), ``transfers``
(``success_rate``, ``agreement``, ``probability_drop``, ``unchanged``), ``human_evaluations`` and ``answers``.

In HTML, every element that shows dataset text carries the dataset's language and direction (``lang``
and ``dir="rtl"`` for Arabic and other right-to-left scripts, ``dir="auto"`` otherwise); the page around
it stays English and left-to-right.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import re
from collections.abc import Sequence
from typing import Any

from tabulate import tabulate

from textrobust.data.text import word_diff
from textrobust.leaderboard.report import Entry, Report, ReportVictim
from textrobust.statistics import Interval

FORMAT_VERSION = 1
FORMATS = ("terminal", "md", "html", "json", "csv")


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}"


def _ci(interval: Interval) -> str:
    return interval.percent()


def _delta(interval: Interval) -> str:
    return interval.percent(signed=True)


def _number(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _victim(victim: ReportVictim) -> str:
    return f"{victim.name} ({victim.type}{', ' + victim.defense if victim.defense else ''})"


# -- tables as rows -------------------------------------------------------------------------------


def _millions(count: Any) -> str:
    return "?" if not isinstance(count, int) else f"{count / 1e6:.2f} M" if count >= 10_000 else str(count)


def victim_detail_cells(victim: ReportVictim) -> dict[str, str]:
    """What the victim is: the columns that make robustness comparable across size, precision and
    fine-tuning method ("?" where the store does not know, e.g. victims stored by an older textrobust)."""
    d = victim.details or {}
    return {
        "family": str(d.get("family") or "?"),
        "parameters": _millions(d.get("parameters")),
        "trainable": _millions(d.get("trainable_parameters")),
        "precision": str(d.get("precision") or "?"),
        "fine-tuning": str(d.get("fine_tuning") or "?"),
        "tokens / text": "?" if d.get("tokens_per_text") is None else f"{d['tokens_per_text']:.1f}",
    }


def ranking_rows(report: Report) -> list[dict[str, str]]:
    return [
        {
            "rank": str(i),
            "victim": _victim(r.victim),
            **victim_detail_cells(r.victim),
            "examples": f"{r.dataset}/{r.split} first {r.n}",
            "clean accuracy %": _ci(r.clean_accuracy),
            "worst-case accuracy %": _ci(r.worst_accuracy),
            "worst recipe": r.worst_recipe,
            "recipes": ", ".join(r.recipes),
        }
        for i, r in enumerate(report.rankings, start=1)
    ]


def _cost_cells(entry: Any, shown: bool) -> dict[str, str]:
    """Requests and tokens an attack cost (victims behind an endpoint, LLMs); no columns when no entry has
    a victim that counts them."""
    if not shown:
        return {}
    usage = entry.usage
    if usage is None:
        return {"requests": "", "tokens in/out": ""}
    requests = f"{usage['requests']:,}"
    if usage.get("cache_hits"):
        requests += f" (+{usage['cache_hits']:,} cached)"
    return {"requests": requests, "tokens in/out": f"{usage['tokens_in']:,} / {usage['tokens_out']:,}"}


def entry_rows(report: Report) -> list[dict[str, str]]:
    costs = any(e.usage is not None for e in report.entries)
    return [
        {
            "victim": _victim(e.victim),
            "recipe": e.recipe,
            "examples": f"{e.dataset}/{e.split} {e.n}",
            "clean acc %": _ci(e.clean_accuracy),
            "acc under attack %": _ci(e.accuracy_under_attack),
            "success rate %": _ci(e.success_rate),
            "perturbed %": _pct(e.perturbed_words),
            "queries": _number(e.queries, 1),
            "similarity": _number(e.similarity, 3),
            "s/example": _number(e.seconds_per_example),
            **_cost_cells(e, costs),
            "run": str(e.run_id),
            "settings": e.key[:12],
        }
        for e in report.entries
    ]


def defense_rows(report: Report) -> list[dict[str, str]]:
    rows = []
    for d in report.defenses:
        for m in d.measures:
            rows.append(
                {
                    "defense": f"{d.method} #{d.id}",
                    "base → defended": f"{d.base.name} → {d.defended.name}",
                    "accuracy": m.name,
                    "before %": _pct(m.base),
                    "after %": _pct(m.defended),
                    "difference (points) [95 %]": _delta(m.difference),
                    "training cost": "n/a" if d.cost_ratio is None else f"{d.cost_ratio:.2f}× clean",
                    "forward passes": str(d.forward_passes),
                }
            )
    return rows


def transfer_rows(report: Report) -> list[dict[str, str]]:
    return [
        {
            "recipe": c.recipe,
            "source": c.source.name,
            "target": c.target.name,
            "replayed": str(c.scores.replayed),
            "target right on original": str(c.scores.correct_on_original),
            "transfer success %": _ci(c.scores.success_rate),
            "agreement % (pred. changed)": _ci(c.scores.agreement),
            "true-class prob. drop": _number(c.scores.probability_drop.mean, 3),
            "unchanged %": _ci(c.scores.unchanged),
        }
        for c in report.transfers
    ]


def human_rows(report: Report) -> list[dict[str, str]]:
    rows = []
    for h in report.human:
        s = h.summary
        rows.append(
            {
                "run": str(h.run_id),
                "victim / recipe": f"{h.victim.name} / {h.recipe}",
                "items": str(h.items),
                "raters": str(h.raters),
                "grammar (adv.)": _number(s.get("grammar_adversarial")),
                "grammar (orig.)": _number(s.get("grammar_original")),
                "meaning preserved": _number(s.get("meaning")),
                "human-validated success %": _pct(s.get("validated_success_rate")),
                "Fleiss κ (labels)": _number(s.get("fleiss_kappa"), 3),
            }
        )
    return rows


def matrix(report: Report, recipe: str, dataset: str) -> tuple[list[str], list[list[str]]]:
    """The transfer matrix of one recipe as a grid: names, and per source a row of success rates."""
    cells = [c for c in report.transfers if c.recipe == recipe and c.dataset == dataset]
    names = sorted({c.source.name for c in cells} | {c.target.name for c in cells})
    own = {e.victim.name: e for e in report.entries if e.recipe == recipe and e.dataset == dataset}
    grid = []
    for source in names:
        row = []
        for target in names:
            if source == target:
                entry = own.get(source)
                row.append(f"({_ci(entry.success_rate)})" if entry else "—")
            else:
                cell = next((c for c in cells if c.source.name == source and c.target.name == target), None)
                row.append(_ci(cell.scores.success_rate) if cell else "—")
        grid.append(row)
    return names, grid


def _matrices(report: Report) -> list[tuple[str, str, list[str], list[list[str]]]]:
    keys = sorted({(c.recipe, c.dataset) for c in report.transfers})
    return [(recipe, dataset, *matrix(report, recipe, dataset)) for recipe, dataset in keys]


# Identity entries shown beside a victim from elsewhere (the rest stay in the JSON report).
_IDENTITY_SHOWN = ("model", "revision", "served_model", "url", "label_map", "answers", "prompt", "system")


def _identity_text(identity: dict[str, Any]) -> str:
    parts = []
    for key in _IDENTITY_SHOWN:
        value = identity.get(key)
        if value in (None, "", [], {}):
            continue
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        parts.append(f"{key}: {text if len(text) <= 80 else text[:77] + '…'}")
    return "; ".join(parts)


def identity_rows(report: Report) -> list[dict[str, str]]:
    """The victims that came from elsewhere (checkpoints, Python factories, pipelines, endpoints, LLMs) and
    what identifies each exactly: where it is, the digest of its files or settings, its model, prompt and
    verbalizers."""
    victims = {e.victim.fingerprint: e.victim for e in report.entries}
    for d in report.defenses:
        victims.setdefault(d.base.fingerprint, d.base)
    rows = []
    for victim in sorted(victims.values(), key=lambda v: v.name):
        identity = (victim.details or {}).get("identity")
        if not isinstance(identity, dict):
            continue
        rows.append(
            {
                "victim": _victim(victim),
                "where": str(identity.get("location", victim.path)),
                "digest": str(identity.get("digest", victim.fingerprint))[:12],
                "identity": _identity_text(identity),
            }
        )
    return rows


SECTIONS = (
    ("Robustness ranking (worst case over recipes)", ranking_rows),
    ("Victim × recipe", entry_rows),
    ("Defenses: before and after, same examples", defense_rows),
    ("Transfer", transfer_rows),
    ("Human evaluation", human_rows),
    ("Victims from elsewhere: what was attacked", identity_rows),
)

ANSWER_TITLES = {
    "most_susceptible": "Which victim is most susceptible?",
    "transfers_most": "Which victim's adversarial examples transfer most?",
    "receives_most": "Which victim receives the most transferred attacks?",
    "transformer_vs_word": "Are BERT-type victims more susceptible than word victims?",
    "defense_regains": "How much does a defense regain?",
}


# -- markdown, JSON, CSV ----------------------------------------------------------------------------


def to_markdown(report: Report, plots: dict[str, tuple[str, str]] | None = None) -> str:
    """Markdown tables; ``plots``: name → (title, file name) of PNGs written beside the file."""
    lines = [f"# textrobust leaderboard{f' — {report.dataset}' if report.dataset else ''}", ""]
    lines.append(f"textrobust {report.version}; every number is a mean with its bootstrap 95 % interval.")
    lines.append("")
    for key, title in ANSWER_TITLES.items():
        if key in report.answers:
            lines += [f"- **{title}** {report.answers[key]}"]
    for title, rows_of in SECTIONS:
        rows = rows_of(report)
        if rows:
            lines += [
                "",
                f"## {title}",
                "",
                tabulate(rows, headers="keys", tablefmt="github", disable_numparse=True),
            ]
    for recipe, dataset, names, grid in _matrices(report):
        lines += ["", f"## Transfer matrix: {recipe} on {dataset} (success %, source ↓ target →)", ""]
        table = [[name, *row] for name, row in zip(names, grid, strict=True)]
        lines.append(
            tabulate(table, headers=["source \\ target", *names], tablefmt="github", disable_numparse=True)
        )
    for _name, (title, file) in (plots or {}).items():
        lines += ["", f"![{title}]({file})"]
    return "\n".join(lines) + "\n"


def _interval_record(interval: Interval) -> dict[str, Any]:
    return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in interval.as_dict().items()}


def _victim_record(victim: ReportVictim) -> dict[str, Any]:
    return {
        "name": victim.name,
        "type": victim.type,
        "path": victim.path,
        "fingerprint": victim.fingerprint,
        "defense": victim.defense,
        "details": victim.details,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def to_records(report: Report) -> dict[str, Any]:
    """The report as plain data (what ``to_json`` writes)."""
    return {
        "format": "textrobust-leaderboard",
        "format_version": FORMAT_VERSION,
        "textrobust_version": report.version,
        "dataset": report.dataset,
        "answers": dict(report.answers),
        "entries": [
            {
                "run_id": e.run_id, "key": e.key, "version": e.version, "victim": _victim_record(e.victim),
                "recipe": e.recipe, "dataset": e.dataset, "split": e.split, "n": e.n, "seed": e.seed,
                "budget": e.budget, "options": e.options,
                "clean_accuracy": _interval_record(e.clean_accuracy),
                "accuracy_under_attack": _interval_record(e.accuracy_under_attack),
                "success_rate": _interval_record(e.success_rate),
                "perturbed_words": _round(e.perturbed_words), "queries": _round(e.queries),
                "similarity": _round(e.similarity), "seconds_per_example": _round(e.seconds_per_example),
                "usage": e.usage,
            }
            for e in report.entries
        ],
        "rankings": [
            {
                "victim": _victim_record(r.victim), "dataset": r.dataset, "split": r.split, "n": r.n,
                "clean_accuracy": _interval_record(r.clean_accuracy),
                "worst_accuracy": _interval_record(r.worst_accuracy), "worst_recipe": r.worst_recipe,
                "recipes": list(r.recipes),
            }
            for r in report.rankings
        ],
        "defenses": [
            {
                "id": d.id, "method": d.method, "base": _victim_record(d.base),
                "defended": _victim_record(d.defended), "dataset": d.dataset, "parameters": d.parameters,
                "train_seconds": _round(d.train_seconds),
                "clean_train_seconds": _round(d.clean_train_seconds),
                "cost_ratio": _round(d.cost_ratio), "forward_passes": d.forward_passes,
                "measures": [
                    {"name": m.name, "base": _round(m.base), "defended": _round(m.defended),
                     "difference": _interval_record(m.difference)}
                    for m in d.measures
                ],
            }
            for d in report.defenses
        ],
        "transfers": [
            {
                "recipe": c.recipe, "dataset": c.dataset, "source": _victim_record(c.source),
                "target": _victim_record(c.target), "run_id": c.run_id, "transfer_id": c.transfer_id,
                "replayed": c.scores.replayed, "correct_on_original": c.scores.correct_on_original,
                "success_rate": _interval_record(c.scores.success_rate),
                "agreement": _interval_record(c.scores.agreement),
                "probability_drop": _interval_record(c.scores.probability_drop),
                "unchanged": _interval_record(c.scores.unchanged),
            }
            for c in report.transfers
        ],
        "human_evaluations": [
            {"run_id": h.run_id, "victim": _victim_record(h.victim), "recipe": h.recipe, "raters": h.raters,
             "items": h.items, "summary": h.summary}
            for h in report.human
        ],
    }  # fmt: skip


def to_json(report: Report) -> str:
    return json.dumps(to_records(report), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


CSV_COLUMNS = (
    "run_id", "key", "version", "victim", "victim_type", "defense", "recipe", "dataset", "split", "n", "seed",
    "clean_accuracy", "clean_accuracy_low", "clean_accuracy_high", "accuracy_under_attack",
    "accuracy_under_attack_low", "accuracy_under_attack_high", "success_rate", "success_rate_low",
    "success_rate_high", "perturbed_words", "queries", "similarity", "seconds_per_example",
)  # fmt: skip


def to_csv(report: Report) -> str:
    """One row per entry (numbers as fractions, intervals in ``_low`` / ``_high`` columns)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for e in report.entries:
        values: list[Any] = [e.run_id, e.key, e.version, e.victim.name, e.victim.type, e.victim.defense or "",
                             e.recipe, e.dataset, e.split, e.n, e.seed]  # fmt: skip
        for interval in (e.clean_accuracy, e.accuracy_under_attack, e.success_rate):
            values += [_round(interval.mean), _round(interval.low), _round(interval.high)]
        values += [
            _round(e.perturbed_words),
            _round(e.queries),
            _round(e.similarity),
            _round(e.seconds_per_example),
        ]
        writer.writerow(["" if v is None else v for v in values])
    return buffer.getvalue()


# -- HTML -------------------------------------------------------------------------------------------

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1100px;padding:1rem;
color:#1a1a1a;line-height:1.45}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;white-space:nowrap}
th{background:#f3f3f3;cursor:pointer;user-select:none}th[aria-sort]::after{content:" ↕";color:#999}
tr:nth-child(even) td{background:#fafafa}
.answers li{margin:.3rem 0}.example{margin:.5rem 0 1rem;font-size:.9rem;white-space:normal}
.example .text{margin:.1rem 0 .3rem;padding:0 .5rem;border-inline-start:3px solid #ddd}
del{background:#fdd;text-decoration:line-through}ins{background:#dfd;text-decoration:none}
figure{margin:1rem 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
.muted{color:#666;font-size:.85rem}
@media print{th{cursor:auto}.scroll{overflow:visible}td,th{white-space:normal}h2{break-after:avoid}
figure{break-inside:avoid}}
"""

# Click a column header to sort by it (numbers by value); no library, no network.
_SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, column) {
    th.setAttribute("aria-sort", "none");
    th.addEventListener("click", function () {
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var ascending = th.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("th").forEach(function (other) { other.setAttribute("aria-sort", "none"); });
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      function key(row) {
        var text = row.cells[column].textContent.trim();
        var number = parseFloat(text.replace(/[^0-9.+-].*$/, ""));
        return isNaN(number) ? text : number;
      }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        var numbers = typeof x === "number" && typeof y === "number";
        var order = numbers ? x - y : String(x).localeCompare(String(y));
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


def _table(rows: Sequence[dict[str, str]], table_id: str) -> str:
    if not rows:
        return '<p class="muted">nothing stored yet</p>'
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row.values()) + "</tr>" for row in rows
    )
    return (
        f'<div class="scroll"><table class="sortable" id="{table_id}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


# Languages written right to left (ISO 639 codes): their texts get dir="rtl", the others dir="auto".
RTL_LANGUAGES = frozenset({"ar", "arz", "ckb", "dv", "fa", "he", "ps", "sd", "ug", "ur", "yi"})
_LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{1,8})*")


def text_attributes(language: str) -> str:
    """``dir`` and ``lang`` for an element showing dataset text in ``language`` (a store's language code);
    ``lang`` only when the code looks like a language tag, so a browser never gets a made-up one."""
    primary = language.split("-")[0].lower()
    direction = "rtl" if primary in RTL_LANGUAGES else "auto"
    lang = f' lang="{html.escape(language)}"' if _LANGUAGE_TAG.fullmatch(language) else ""
    return f'dir="{direction}"{lang}'


def _diff_html(original: str, adversarial: str) -> tuple[str, str]:
    """Both texts as HTML, the replaced words in ``<del>`` and their replacements in ``<ins>`` (whole words,
    Arabic short vowels included: ``word_diff`` cuts texts as ``segment_text`` does)."""
    before, after = [], []
    for same, old, new in word_diff(original, adversarial):
        before.append(html.escape(old) if same or not old else f"<del>{html.escape(old)}</del>")
        after.append(html.escape(new) if same or not new else f"<ins>{html.escape(new)}</ins>")
    return "".join(before), "".join(after)


def _examples_html(entries: Sequence[Entry]) -> str:
    parts = []
    for e in entries:
        if not e.examples:
            continue
        parts.append(f"<h3>{html.escape(e.victim.name)} / {html.escape(e.recipe)} (run {e.run_id})</h3>")
        attributes = text_attributes(e.language)
        for x in e.examples:
            before, after = _diff_html(x.original, x.adversarial)
            # Label names are dataset text too (Arabic in some datasets): <bdi> keeps them from reordering
            # the English line around them.
            parts.append(
                f'<div class="example"><div>#{x.index} <bdi>{html.escape(x.label)}</bdi>:</div>'
                f'<div class="text original" {attributes}>{before}</div>'
                f"<div>→ <bdi>{html.escape(x.adversarial_prediction)}</bdi>:</div>"
                f'<div class="text adversarial" {attributes}>{after}</div>'
                f'<div class="muted">{x.words_changed} of {x.num_words} words changed</div></div>'
            )
    return "\n".join(parts) or '<p class="muted">no successful attack stored yet</p>'


def to_html(report: Report, plots: dict[str, tuple[str, bytes]] | None = None) -> str:
    """One self-contained HTML page: answers, sortable tables, transfer matrices, plots, examples."""
    title = f"textrobust leaderboard{f' — {report.dataset}' if report.dataset else ''}"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="muted">textrobust {html.escape(report.version)}. Every number is a mean over the listed '
        "examples with its bootstrap 95 % interval in brackets; each run's settings hash names exactly how "
        "it was made.</p>",
    ]
    if report.answers:
        out.append('<section id="answers"><h2>Answers</h2><ul class="answers">')
        for key, question in ANSWER_TITLES.items():
            if key in report.answers:
                out.append(f"<li><b>{html.escape(question)}</b> {html.escape(report.answers[key])}</li>")
        out.append("</ul></section>")
    ids = ("ranking", "entries", "defenses", "transfers", "human", "identities")
    for (section, rows_of), table_id in zip(SECTIONS, ids, strict=True):
        rows = rows_of(report)
        if table_id == "identities" and not rows:  # only textrobust's own victims: nothing to say
            continue
        out.append(f'<section id="{table_id}-section"><h2>{html.escape(section)}</h2>')
        out.append(_table(rows, table_id))
        if table_id == "transfers":
            for recipe, dataset, names, grid in _matrices(report):
                rows = [{"source \\ target": name, **dict(zip(names, row, strict=True))}
                        for name, row in zip(names, grid, strict=True)]  # fmt: skip
                out.append(f"<h3>Transfer matrix: {html.escape(recipe)} on {html.escape(dataset)}</h3>")
                out.append('<p class="muted">success rate (%) on the examples each target had right; the '
                           "diagonal (in brackets) is the attack's own success rate</p>")  # fmt: skip
                out.append(_table(rows, f"matrix-{recipe}-{dataset}"))
        out.append("</section>")
    if plots:
        out.append('<section id="plots"><h2>Plots</h2>')
        for name, (caption, png) in plots.items():
            data = base64.b64encode(png).decode("ascii")
            out.append(
                f'<figure id="plot-{name}"><img alt="{html.escape(caption)}" '
                f'src="data:image/png;base64,{data}">'
                f"<figcaption>{html.escape(caption)}</figcaption></figure>"
            )
        out.append("</section>")
    out.append('<section id="examples"><h2>Adversarial examples</h2>')
    out.append(_examples_html(report.entries))
    out.append("</section>")
    out.append(f"<script>{_SCRIPT}</script></body></html>")
    return "\n".join(out) + "\n"
