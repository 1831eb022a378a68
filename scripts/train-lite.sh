#!/usr/bin/env bash
# Trains the shipped lite weights from scratch on a CPU (2 cores, alone: ~37 min), as they were made.
# Writes runs/lite-*/ (logs included) and copies the weights into rnr/weights/.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p runs
rnr-synth --input bundled --output data/lite-train --num 3000 --size 256 --seed 1 --no-stages \
    --config configs/lite/synth.yaml --quiet
# A held-out set from the same photos (another seed) to tune the reasoner's presence thresholds on.
rnr-synth --input bundled --output data/lite-val --num 400 --size 256 --seed 2 --no-stages \
    --config configs/lite/synth.yaml --quiet
rnr-train --stage reasoner --backend lite --config configs/lite/reasoner.yaml --data data/lite-train \
    2>&1 | tee runs/lite-reasoner.log
rnr-train --stage restorer --backend lite --config configs/lite/restorer.yaml --data data/lite-train \
    2>&1 | tee runs/lite-restorer.log
rnr-train --stage grpo --backend lite --config configs/lite/grpo.yaml --data data/lite-train \
    --restorer runs/lite-restorer/lite-restorer.safetensors --reasoner runs/lite-reasoner/lite-reasoner.safetensors \
    2>&1 | tee runs/lite-grpo.log
cp runs/lite-reasoner/lite-reasoner.safetensors rnr/weights/lite-reasoner.safetensors
# The SFT restorer is the default: GRPO lowered residual severity but cost 0.16 dB PSNR (model card).
cp runs/lite-restorer/lite-restorer.safetensors rnr/weights/lite-restorer.safetensors
cp runs/lite-grpo/lite-restorer.safetensors rnr/weights/lite-restorer-grpo.safetensors
