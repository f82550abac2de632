"""A human-evaluation kit for a run's adversarial examples (the seed paper had four raters judge grammar and
meaning): blinded rating sheets out, ratings in, and what they add up to.

Each item is a pair of texts, A and B: one the original, the other its adversarial version, in an order drawn
per item and never marked. Every rater gets all items in an order of their own and gives: grammaticality of
A and of B (1–5), whether B means what A means (1–5), and the label they would give each text. The key
(which text is which) stays with the organiser in ``key.json``.

From the ratings: per-item and per-rater means, the human-validated success rate — the share of adversarial
texts whose majority human label is still the original's true label, i.e. the victim's flip was a real
error — and Fleiss' κ of the raters' labels on the adversarial texts.

Sheets speak the dataset's language where a translation exists (Arabic: right-to-left HTML sheets with
Arabic instructions and column captions, and CSV sheets with a UTF-8 byte-order mark, without which
spreadsheet programs show Arabic as mojibake); the CSV columns keep their English keys everywhere, so
every kit is imported the same way.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from textrobust.errors import DataError, ParameterError, require_at_least
from textrobust.statistics import bootstrap_mean, fleiss_kappa
from textrobust.store import Store

SHEET_COLUMNS = ("item", "text_a", "text_b", "grammar_a", "grammar_b", "meaning", "label_a", "label_b")
SCALE = (1, 2, 3, 4, 5)
RATED = SHEET_COLUMNS[3:]  # the columns a rater fills in
KEY_FILE = "key.json"

INSTRUCTIONS = (
    "Each row shows two short texts, A and B. Please give: grammar_a and grammar_b, how fluent and "
    "grammatical each text is (1 = unreadable, 5 = perfectly natural); meaning, whether B says what A "
    "says (1 = not at all, 5 = exactly); label_a and label_b, the label you would give each text "
    "({labels}). Leave a cell empty if you cannot judge. Do not discuss the texts with other raters."
)

# The same instructions for Arabic-speaking raters; the column keys stay English (the import reads them)
# and the labels are listed as they must be typed.
INSTRUCTIONS_AR = (
    "يعرض كل سطر نصّين قصيرين: النص أ والنص ب. يُرجى أن تملأ الأعمدة التالية: grammar_a و grammar_b: "
    "مدى سلاسة كل نص وسلامته اللغوية (1 = غير مفهوم، 5 = طبيعي تمامًا)؛ meaning: هل يؤدي النص ب معنى "
    "النص أ (1 = لا يؤديه إطلاقًا، 5 = يؤديه تمامًا)؛ label_a و label_b: التصنيف الذي تعطيه لكل نص "
    "({labels})، واكتبه كما هو مكتوب هنا. اترك الخانة فارغة إذا تعذّر عليك الحكم. لا تناقش النصوص مع "
    "المقيّمين الآخرين."
)
CAPTIONS_AR = {
    "item": "البند",
    "text_a": "النص أ",
    "text_b": "النص ب",
    "grammar_a": "سلامة لغة النص أ (1–5)",
    "grammar_b": "سلامة لغة النص ب (1–5)",
    "meaning": "هل يؤدي ب معنى أ؟ (1–5)",
    "label_a": "تصنيف النص أ",
    "label_b": "تصنيف النص ب",
}
_COLUMN_KEY = re.compile(r"\b(?:grammar_a|grammar_b|meaning|label_a|label_b)\b")


@dataclass(frozen=True)
class SheetLanguage:
    """What the rating sheets say and how they are written, in the raters' language."""

    code: str  # the HTML sheet's lang
    direction: str | None  # the HTML sheet's dir; None writes none (English sheets stay as they were)
    title: str  # with {rater}
    instructions: str  # with {labels}
    captions: dict[str, str] | None  # column key → caption shown above it in the HTML sheet
    bom: bool  # write the CSV sheets with a UTF-8 byte-order mark
    comma: str = ", "  # between the listed labels

    def instructions_for(self, labels: Sequence[str]) -> str:
        return self.instructions.format(labels=self.comma.join(labels))


ENGLISH = SheetLanguage("en", None, "Rating sheet {rater}", INSTRUCTIONS, None, False)
ARABIC = SheetLanguage("ar", "rtl", "ورقة التقييم {rater}", INSTRUCTIONS_AR, CAPTIONS_AR, True, "، ")


def sheet_language(language: str) -> SheetLanguage:
    """The sheets for a dataset's language: Arabic for ``ar`` (and ``ar-…``), English otherwise."""
    return ARABIC if language.split("-")[0].lower() == "ar" else ENGLISH


@dataclass(frozen=True)
class Kit:
    """What ``export_kit`` wrote: one CSV and one printable HTML sheet per rater, and the key."""

    directory: Path
    items: int
    raters: int
    sheets: tuple[Path, ...]
    language: str = "en"  # the sheets' language (see ``sheet_language``)


def export_kit(
    store: Store, run_id: int, out: str | Path, *, n: int = 100, raters: int = 4, seed: int = 0
) -> Kit:
    """Write blinded, shuffled rating sheets for up to ``n`` successful examples of run ``run_id``."""
    require_at_least("n", n, 1)
    require_at_least("raters", raters, 2)
    run = store.run(run_id)
    labels = list(run.parameters.dataset.label_names)
    language = sheet_language(run.parameters.dataset.language)
    successes = [
        (i, r) for i, r in store.iter_results(run_id) if r.status == "success" and r.adversarial_text
    ]
    if not successes:
        raise DataError(f"run {run_id} has no successful adversarial example to rate")
    rng = np.random.default_rng([seed, run_id])
    chosen = [
        successes[int(i)] for i in sorted(rng.choice(len(successes), min(n, len(successes)), replace=False))
    ]
    order = rng.permutation(len(chosen))
    items = []
    for number, position in enumerate(order, start=1):
        index, result = chosen[int(position)]
        adversarial_first = bool(rng.integers(0, 2))
        a, b = (result.adversarial_text, result.original_text) if adversarial_first else (
            result.original_text, result.adversarial_text)  # fmt: skip
        items.append(
            {
                "item": f"item-{number:03d}", "text_a": a, "text_b": b, "run_id": run_id,
                "example_index": index,
                "adversarial": "a" if adversarial_first else "b", "gold": labels[result.label],
                "victim_original": labels[result.original_prediction],
                "victim_adversarial": labels[result.adversarial_prediction or 0],
            }
        )  # fmt: skip
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    key = {"run_id": run_id, "labels": labels, "raters": raters, "seed": seed, "items": items}
    (directory / KEY_FILE).write_text(json.dumps(key, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    sheets = []
    for rater in range(1, raters + 1):
        shuffled = [
            items[int(i)] for i in np.random.default_rng([seed, run_id, rater]).permutation(len(items))
        ]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(SHEET_COLUMNS)
        for item in shuffled:
            writer.writerow([item["item"], item["text_a"], item["text_b"], "", "", "", "", ""])
        csv_path = directory / f"rater-{rater}.csv"
        csv_path.write_text(("\ufeff" if language.bom else "") + buffer.getvalue(), encoding="utf-8")
        (directory / f"rater-{rater}.html").write_text(
            _sheet_html(rater, shuffled, labels, language), encoding="utf-8"
        )
        sheets.append(csv_path)
    # The organiser's notes stay English; the raters' instructions follow in their language.
    translated = "" if language is ENGLISH else language.instructions_for(labels) + "\n\n"
    (directory / "README.txt").write_text(
        f"Human evaluation of run {run_id}: {len(items)} items, {raters} raters.\n"
        f"Give rater k the files rater-k.csv (to fill in) and rater-k.html (to print); keep {KEY_FILE}.\n\n"
        + ENGLISH.instructions_for(labels)
        + "\n\n"
        + translated
        + f"Then: textrobust humaneval import {directory}/rater-*.csv --key {directory / KEY_FILE}\n",
        encoding="utf-8",
    )
    return Kit(directory, len(items), raters, tuple(sheets), language.code)


def _sheet_html(
    rater: int, items: Sequence[dict[str, Any]], labels: Sequence[str], language: SheetLanguage = ENGLISH
) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(i['item'])}</td><td>{html.escape(i['text_a'])}</td>"
        f"<td>{html.escape(i['text_b'])}</td><td></td><td></td><td></td><td></td><td></td></tr>"
        for i in items
    )
    title = html.escape(language.title.format(rater=rater))
    instructions = html.escape(language.instructions_for(labels))
    if language.captions is None:
        head = "".join(f"<th>{c}</th>" for c in SHEET_COLUMNS)
    else:
        # The captions in the raters' language, each above the key its CSV column has; dir="ltr" keeps an
        # English key whole inside a right-to-left line.
        head = "".join(
            f'<th>{html.escape(language.captions[c])}<br><code dir="ltr">{c}</code></th>'
            for c in SHEET_COLUMNS
        )
        instructions = _COLUMN_KEY.sub(lambda m: f'<code dir="ltr">{m.group(0)}</code>', instructions)
    direction = f' dir="{language.direction}"' if language.direction else ""
    return (
        f'<!DOCTYPE html><html lang="{language.code}"{direction}><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>body{{font-family:sans-serif;margin:1rem}}"
        "table{border-collapse:collapse;width:100%}"
        "td,th{border:1px solid #999;padding:.3rem;vertical-align:top}"
        "td:nth-child(n+4){width:3.5rem}@media print{tr{break-inside:avoid}}</style></head><body>"
        f"<h1>{title}</h1><p>{instructions}</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></body></html>\n"
    )


def _delimiter(text: str) -> str:
    """The sheet's delimiter, from its header: a spreadsheet program set to a locale whose decimal mark is
    a comma saves "CSV" with semicolons (or tabs), and the sheet should still be read."""
    header = text.split("\n", 1)[0]
    return max((",", ";", "\t"), key=header.count)  # ties (none found): the comma, first


def read_ratings(sheets: Sequence[str | Path], key: dict[str, Any]) -> list[dict[str, Any]]:
    """Every rating in the filled-in sheets, checked: known items, 1–5 scales, labels from the label set."""
    if len(sheets) < 2:
        raise ParameterError("sheets", "give the filled-in sheets of at least two raters")
    from textrobust.data.readers import read_text_file
    from textrobust.files import file_digest

    items = {item["item"]: item for item in key["items"]}
    labels = set(key["labels"])
    ratings = []
    # A sheet named twice, copied under another name, or two sheets of one rater would be merged as one
    # rater who rated twice (or two raters who agree perfectly): each is refused, naming both files.
    by_place: dict[Path, Path] = {}
    by_digest: dict[str, Path] = {}
    by_rater: dict[str, Path] = {}
    for sheet in sheets:
        path = Path(sheet)
        # Sheets are written with a byte-order mark where spreadsheet programs need one (Arabic) and may
        # come back with or without it: read_text_file drops it, and so does this, whichever reads first.
        text = read_text_file(path, "rating sheet").removeprefix("\ufeff")
        place, digest = path.resolve(), file_digest(path)
        if place in by_place:
            raise DataError(f"{path} is given twice; give each rater's sheet once")
        if digest in by_digest:
            raise DataError(f"{path} is the same file as {by_digest[digest]}; give each rater's sheet once")
        if path.stem in by_rater:
            raise DataError(
                f"rater '{path.stem}' is given twice ({by_rater[path.stem]} and {path}); a sheet's file "
                "name names its rater"
            )  # fmt: skip
        by_place[place], by_digest[digest], by_rater[path.stem] = path, path, path
        first = len(ratings)
        reader = csv.DictReader(io.StringIO(text), delimiter=_delimiter(text))
        missing = [c for c in SHEET_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise DataError(f"{path}: not a rating sheet (no column {missing[0]})")
        for line, row in enumerate(reader, start=2):
            where = f"{path}:{line}"
            if row["item"] not in items:
                raise DataError(f"{where}: unknown item '{row['item']}' (a sheet of another kit?)")
            rating: dict[str, Any] = {"rater": path.stem, "item": row["item"]}
            for column in ("grammar_a", "grammar_b", "meaning"):
                value = (row[column] or "").strip()
                if value and (not value.isdigit() or int(value) not in SCALE):
                    raise DataError(f"{where}: {column} must be 1 to 5 or empty, got '{value}'")
                rating[column] = int(value) if value else None
            for column in ("label_a", "label_b"):
                value = (row[column] or "").strip()
                if value and value not in labels:
                    raise DataError(f"{where}: {column} '{value}' is not one of {sorted(labels)}")
                rating[column] = value or None
            ratings.append(rating)
        if not any(value is not None for r in ratings[first:] for c, value in r.items() if c in RATED):
            raise DataError(f"{path}: no rating filled in (a blank sheet); fill it in or leave it out")
    return ratings


def _mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def summarize_ratings(
    ratings: Sequence[dict[str, Any]], key: dict[str, Any], seed: int = 0
) -> dict[str, Any]:
    """Per-item and per-rater means, the human-validated success rate (with its interval) and Fleiss' κ."""
    items = {item["item"]: item for item in key["items"]}
    labels = list(key["labels"])
    by_item: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_rater: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rating in ratings:
        by_item[rating["item"]].append(rating)
        by_rater[rating["rater"]].append(rating)

    def side(rating: dict[str, Any], item: dict[str, Any], which: str, field: str) -> Any:
        letter = (
            item["adversarial"] if which == "adversarial" else ("b" if item["adversarial"] == "a" else "a")
        )
        return rating[f"{field}_{letter}"]

    per_item, validated = [], []
    for name in sorted(by_item):
        item, rows = items[name], by_item[name]
        votes = Counter(
            side(r, item, "adversarial", "label") for r in rows if side(r, item, "adversarial", "label")
        )
        majority = votes.most_common(1)[0][0] if votes else None
        record = {
            "item": name,
            "example_index": item["example_index"],
            "grammar_original": _mean([side(r, item, "original", "grammar") for r in rows]),
            "grammar_adversarial": _mean([side(r, item, "adversarial", "grammar") for r in rows]),
            "meaning": _mean([r["meaning"] for r in rows]),
            "human_label_adversarial": majority,
            "gold": item["gold"],
        }
        per_item.append(record)
        if majority is not None:
            validated.append(float(majority == item["gold"]))
    per_rater = [
        {
            "rater": rater,
            "rated": len(rows),
            "grammar_original": _mean([side(r, items[r["item"]], "original", "grammar") for r in rows]),
            "grammar_adversarial": _mean([side(r, items[r["item"]], "adversarial", "grammar") for r in rows]),
            "meaning": _mean([r["meaning"] for r in rows]),
        }
        for rater, rows in sorted(by_rater.items())
    ]
    raters = len(by_rater)
    table = []
    for name in sorted(by_item):
        chosen = [side(r, items[name], "adversarial", "label") for r in by_item[name]]
        if len(chosen) == raters and all(chosen):
            table.append([chosen.count(label) for label in labels])
    kappa = fleiss_kappa(table) if table and raters >= 2 else None
    rate = bootstrap_mean(validated, seed)
    return {
        "items": len(per_item),
        "raters": raters,
        "grammar_original": _mean([i["grammar_original"] for i in per_item]),
        "grammar_adversarial": _mean([i["grammar_adversarial"] for i in per_item]),
        "meaning": _mean([i["meaning"] for i in per_item]),
        "validated_success_rate": rate.mean,
        "validated_success_interval": [rate.low, rate.high],
        "fleiss_kappa": kappa,
        "kappa_items": len(table),
        "per_item": per_item,
        "per_rater": per_rater,
    }
