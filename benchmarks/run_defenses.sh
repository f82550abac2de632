#!/usr/bin/env bash
# The defense measurements quoted in the README: every method against the demo's WordCNN and BERT victims
# on the embedded MR data, judged by one protocol (first N test sentences, textfooler / pwws / mlm-synonym,
# seed 0). Victims: `textrobust demo` trains them into runs/demo (WordCNN 6 epochs, BERT 1 epoch).
# Usage: bash benchmarks/run_defenses.sh [wordcnn|bert|all]   (hours on 2 CPU cores; see the README)
set -euo pipefail
cd "$(dirname "$0")/.."
WHICH="${1:-all}"
VICTIMS="${VICTIMS:-runs/demo}"
OUT="${OUT:-runs/defenses}"
STORE="$OUT/defenses.sqlite"
MLM="${TEXTROBUST_MLM:-../shared/models/minilm-mlm-en}"
mkdir -p "$OUT"
defend() {  # victim N method [options...]
  local victim="$1" n="$2" method="$3"; shift 3
  .venv/bin/python -m textrobust defend --victim "$VICTIMS/$victim" --dataset mr --method "$method" \
    --out "$OUT/$victim-$method" --overwrite --n "$n" --eval-recipes textfooler,pwws,mlm-synonym \
    --mlm "$MLM" --store "$STORE" --no-progress "$@"
}
if [ "$WHICH" = wordcnn ] || [ "$WHICH" = all ]; then
  defend wordcnn 200 co-tune --epochs 4              # 1 clean + 3 adversarial epochs (a2t, 20 % a epoch)
  defend wordcnn 200 augment                         # the whole training split attacked once (a2t)
  defend wordcnn 200 embedding --steps 3             # FreeLB-style, K = 3, the base's 10 epochs at most
  defend wordcnn 200 smooth --copies 8               # SAFER-style, M = 8
fi
if [ "$WHICH" = bert ] || [ "$WHICH" = all ]; then
  defend bert 100 co-tune --epochs 3                 # 1 clean + 2 adversarial epochs
  defend bert 100 augment --adv-share 0.2 --epochs 1 # 20 % of the training split, then one epoch
  defend bert 100 embedding --steps 2 --epochs 1     # K = 2, one epoch
  defend bert 100 smooth --copies 4                  # M = 4
fi
.venv/bin/python benchmarks/defense_cost.py --store "$STORE"
