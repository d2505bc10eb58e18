#!/usr/bin/env bash
# Issue #22's GPU checks, ready for a session with a GPU: the streaming pipeline and GPU JPEG
# decoding, the telemetry's cost on the ImageNet nets, a torchrun (NCCL) run of
# `experiment imagenet` that writes Fig. 4 and Table 2, and the measured per-GPU rate that
# the estimate of the paper's schedule is made from. JSON and text into --out.
#
#   benchmarks/imagenet_gpu.sh [--out DIR] [--nproc N]        # on a GPU box (about 6 minutes on one H200)
#   benchmarks/imagenet_gpu.sh --tiny --device cpu --out DIR  # the CPU rehearsal tests/ runs
#
# Needs python3 with torch, torchvision, numpy and Pillow; runs from this checkout (PYTHONPATH).
# From a session with a lent GPU (the device tool): run(command="bash benchmarks/imagenet_gpu.sh
# --out $OUT/imagenet", timeout_s=540). Images are generated into a temporary folder.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
export PYTHONUNBUFFERED=1
DEVICE=cuda TINY=0 NPROC=1 OUT=${TMPDIR:-/tmp}/resviz-imagenet-gpu
while [ $# -gt 0 ]; do
  case "$1" in
    --tiny) TINY=1 ;;
    --device) DEVICE=$2; shift ;;
    --out) OUT=$2; shift ;;
    --nproc) NPROC=$2; shift ;;
    *) echo "imagenet_gpu.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
if [ "$TINY" = 1 ]; then
  SIZES=40,80 BATCHES=1 RATE=1 PBATCH=4 CROP=32 ARCHS=resnet18 TSIZE=32 TBATCH=4 STEPS=2 ROUNDS=1
  FOLDER_N=16 ITERS=2 EBATCH=4 VARIANT=eager-cl
else
  SIZES=1000,20000 BATCHES=10 RATE=6 PBATCH=64 CROP=224 ARCHS=resnet18,resnet34,resnet50 TSIZE=224 TBATCH=256
  STEPS=20 ROUNDS=3 FOLDER_N=2560 ITERS=30 EBATCH=256 VARIANT=eager-cl-bf16
fi
mkdir -p "$OUT"
DATA=$(mktemp -d "${TMPDIR:-/tmp}/resviz-imagenet-data.XXXXXX")
trap 'rm -rf "$DATA"' EXIT

echo "== 1/4 the streaming pipeline, GPU decode" >&2
"$PY" benchmarks/imagenet_pipeline.py --sizes "$SIZES" --batches "$BATCHES" --rate-batches "$RATE" \
  --batch-size "$PBATCH" --size "$CROP" > "$OUT/pipeline.json"

echo "== 2/4 telemetry cost on the ImageNet nets" >&2
"$PY" benchmarks/throughput.py --device "$DEVICE" --archs "$ARCHS" --size "$TSIZE" --batch-size "$TBATCH" \
  --variants "$VARIANT" --telemetry 10,off --steps "$STEPS" --rounds "$ROUNDS" --train-images $((TBATCH * 4)) \
  > "$OUT/throughput.json"

echo "== 3/4 experiment imagenet under torchrun ($NPROC process(es))" >&2
"$PY" -c "import sys; sys.path.insert(0, 'benchmarks'); from pathlib import Path; \
from imagenet_pipeline import make_folder; make_folder(Path('$DATA'), $FOLDER_N, (500, 375))"
"$PY" -m torch.distributed.run --standalone --nproc-per-node "$NPROC" -m resviz experiment imagenet \
  --data "$DATA" --size "$CROP" --depths 18,34 --iters "$ITERS" --batch-size "$EBATCH" --device "$DEVICE" \
  --out "$OUT/experiment" --yes > "$OUT/experiment.txt" 2> "$OUT/experiment.err"

echo "== 4/4 the paper's schedule from the measured rate (90 epochs of 1,281,167 images)" >&2
# --estimate measures each net's seconds per step here and multiplies by --iters: 450,410
# steps of 256 images are the 90 epochs (the paper: up to 600,000).
"$PY" -m resviz experiment imagenet --data "$DATA" --size "$CROP" --depths 18,34 --iters 450410 \
  --batch-size "$EBATCH" --device "$DEVICE" --out "$OUT/estimate" --estimate 2> "$OUT/estimate.txt"
cat "$OUT/estimate.txt" >&2
echo "done: $OUT" >&2
