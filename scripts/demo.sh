#!/usr/bin/env bash
# Set up (if needed) and run the demo on the embedded MR sample.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Offline machines of this project keep a fill-mask model beside the checkout; elsewhere the demo
# uses $TEXTROBUST_MLM or the Hub's bert-base-uncased.
if [ -z "${TEXTROBUST_MLM:-}" ] && [ -d ../shared/models/minilm-mlm-en ]; then
  export TEXTROBUST_MLM="$(cd ../shared/models/minilm-mlm-en && pwd)"
fi
.venv/bin/textrobust demo "$@"
