#!/usr/bin/env bash
# Set up (if needed) and run the demo on the embedded MR sample.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/textrobust demo "$@"
