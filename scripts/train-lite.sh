#!/usr/bin/env bash
# Trains the shipped lite weights from scratch on a CPU (2 cores), as they were made (see rnr/weights/MODEL_CARD.md).
# Writes data/, runs/lite-*/ (logs included) and copies the weights into rnr/weights/.
# Run it from a copy (bash reads a script as it goes: editing this file mid-run breaks the run).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p runs
python scripts/extra_photos.py data/extra-photos
# The restorer's data: the 18 bundled photos.
rnr-synth --input bundled --output data/lite-train --num 3000 --size 256 --seed 1 --no-stages \
    --config configs/lite/synth.yaml --quiet
# The reasoner's data: the bundled photos plus 10 more (skimage, matplotlib), for more kinds of content;
# 30% of the crops softened first, so that soft is not read as shaken (configs/lite/synth-reasoner.yaml).
rnr-synth --input bundled data/extra-photos --output data/lite-train-reasoner-soft --num 4000 --size 256 --seed 1 \
    --no-stages --config configs/lite/synth-reasoner.yaml --quiet --workers 1
# Held-out draws of the bundled photos (another seed) to tune the reasoner's presence thresholds on.
rnr-synth --input bundled --output data/lite-val-soft --num 400 --size 256 --seed 2 --no-stages \
    --config configs/lite/synth-reasoner.yaml --quiet
# The shipped reasoner ran alone on the 2 cores (2 threads); the restorer after it.
rnr-train --stage reasoner --backend lite --config configs/lite/reasoner.yaml --data data/lite-train-reasoner-soft \
    2>&1 | tee runs/lite-reasoner.log
rnr-train --stage restorer --backend lite --config configs/lite/restorer.yaml --data data/lite-train \
    2>&1 | tee runs/lite-restorer.log
# Stage 2b: fine-tuned on the reasoner's own diagnoses (configs/lite/restorer-ft.yaml says why).
rnr-train --stage restorer --backend lite --config configs/lite/restorer-ft.yaml --data data/lite-train \
    2>&1 | tee runs/lite-restorer-ft.log
rnr-train --stage grpo --backend lite --config configs/lite/grpo.yaml --data data/lite-train \
    --restorer runs/lite-restorer-ft/lite-restorer.safetensors --reasoner runs/lite-reasoner/lite-reasoner.safetensors \
    2>&1 | tee runs/lite-grpo.log
cp runs/lite-reasoner/lite-reasoner.safetensors rnr/weights/lite-reasoner.safetensors
# The GRPO result is the default restorer; the SFT one ships beside it (w/o RL in rnr-eval --ablation).
cp runs/lite-grpo/lite-restorer.safetensors rnr/weights/lite-restorer.safetensors
cp runs/lite-restorer-ft/lite-restorer.safetensors rnr/weights/lite-restorer-sft.safetensors
