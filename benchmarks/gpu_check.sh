#!/usr/bin/env bash
# On a CUDA machine: images/s of resnet20 and resnet56 with and without telemetry, and
# against a plain DataLoader + torchvision transforms pipeline. Prints JSON lines.
# Finishes in a few minutes on one H100. Usage: benchmarks/gpu_check.sh [python]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-python3}
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
$PY -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print('{\"gpu\": \"%s\"}' % torch.cuda.get_device_name())"
common=(--device cuda --archs resnet20,resnet56 --batch-size 128 --steps 100 --rounds 3 --train-images 50000)
$PY benchmarks/throughput.py "${common[@]}" --pipelines telemetry,no-telemetry,dataloader --workers 8
$PY benchmarks/throughput.py "${common[@]}" --pipelines telemetry,no-telemetry --bf16 --channels-last
