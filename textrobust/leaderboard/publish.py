"""Writing a report to files: HTML with its plots inside, markdown with its plots beside it, JSON, CSV."""

from __future__ import annotations

from pathlib import Path

from textrobust.errors import ParameterError
from textrobust.files import atomic_write_bytes
from textrobust.leaderboard.render import FORMATS, to_csv, to_html, to_json, to_markdown
from textrobust.leaderboard.report import Report


def render(
    report: Report, fmt: str, plots: bool = True, plot_prefix: str = ""
) -> tuple[str, dict[str, bytes]]:
    """The report as text in ``fmt`` (md, html, json, csv), and the PNG files it refers to (markdown only:
    file name → bytes, named ``<plot_prefix><plot>.png``)."""
    if fmt not in FORMATS or fmt == "terminal":
        raise ParameterError("format", f"'{fmt}' cannot be written to a file; choose md, html, json or csv")
    if fmt == "json":
        return to_json(report), {}
    if fmt == "csv":
        return to_csv(report), {}
    drawn = {}
    if plots:
        from textrobust.leaderboard.plots import draw_all

        drawn = draw_all(report)
    if fmt == "html":
        return to_html(report, drawn), {}
    files = {f"{plot_prefix}{name}.png": png for name, (_title, png) in drawn.items()}
    references = {name: (title, f"{plot_prefix}{name}.png") for name, (title, _png) in drawn.items()}
    return to_markdown(report, references), files


def write_report(report: Report, fmt: str, out: str | Path, plots: bool = True) -> list[Path]:
    """Write the report to ``out`` (and markdown's plots beside it, atomically each); returns the files."""
    out = Path(out)
    if out.is_dir():
        raise ParameterError("out", f"{out} is a directory; give a file name such as report.{fmt}")
    text, files = render(report, fmt, plots, plot_prefix=f"{out.stem}-")
    written = []
    for name, data in files.items():
        atomic_write_bytes(out.parent / name, data)
        written.append(out.parent / name)
    atomic_write_bytes(out, text.encode("utf-8"))
    return [out, *written]
