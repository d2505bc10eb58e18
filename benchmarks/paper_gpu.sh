#!/usr/bin/env bash
# The paper experiment on one GPU (issue #12): plain20, plain56, resnet20 and resnet56 at the
# paper's full schedule (64,000 iterations, batch 128, lr 0.1 / 10 at 32k and 48k) on the shared
# CIFAR-10 archive, with the fast path's defaults on CUDA. One command, meant to finish within
# 9 minutes on one H100/H200: the nets stop at --time-limit seconds of training (default 420)
# if the schedule is not done by then, checkpointed, and the files say how far they got.
#
# Prints the estimate, then table6.md and claims.md; copies fig6.png, fig7.png, table6.md,
# table6.json, claims.md and paper.json into $OUT (a temp folder when unset), and beside them
# paper-runs.tar.gz: the whole experiment folder without checkpoints (every run's metrics, the
# SVGs), enough for `resviz report --paper` anywhere. Seven files: the device tool brings back 8.
#
# Needs only resviz.core (no Qt, Captum or pyqtgraph; without matplotlib the figures are
# skipped and can be redrawn later), run from a checkout through PYTHONPATH, nothing installed.
#
# Usage: benchmarks/paper_gpu.sh [ARCHIVE] [--device cuda] [--time-limit S] [--iters N] [--tiny]
#   ARCHIVE         cifar10-jpg.tar.gz (default: $RESVIZ_SHARED_DATA/cifar10-jpg.tar.gz)
#   --device cpu --tiny   plain8 + resnet8 on the embedded digits set for 20 iterations (tests/)
#   PYTHON          the interpreter (default python3)
# On the device machine the ../shared folder does not travel: copy the archive into a folder of
# the checkout that .git/info/exclude ignores (e.g. .data/), carry it, and give its path.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
archive="" device=cuda tiny=0 limit=420 iters=64000
while [ $# -gt 0 ]; do
  case "$1" in
    --device) device=$2; shift 2 ;;
    --time-limit) limit=$2; shift 2 ;;
    --iters) iters=$2; shift 2 ;;
    --tiny) tiny=1; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) archive=$1; shift ;;
  esac
done
OUT=${OUT:-$(mktemp -d)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ "$tiny" = 1 ]; then
  data=digits; nets=(--depths 8 --plain-depths 8 --iters 20 --batch-size 16)
else
  archive=${archive:-${RESVIZ_SHARED_DATA:-../shared/data}/cifar10-jpg.tar.gz}
  [ -f "$archive" ] || { echo "paper_gpu.sh: no CIFAR-10 archive at $archive (give its path or set RESVIZ_SHARED_DATA)" >&2; exit 2; }
  tar xzf "$archive" -C "$work"
  data=$work/cifar10-jpg; nets=(--depths 20,56 --plain-depths 20,56 --iters "$iters")
fi
$PY -c "import torch, sys; print('{\"torch\": \"%s\", \"python\": \"%s\", \"cuda\": %s}' % (torch.__version__, sys.version.split()[0], 'true' if torch.cuda.is_available() else 'false'))"
status=0
start=$(date +%s)
RESVIZ_CACHE_DIR=$work/cache $PY -m resviz experiment paper --data "$data" "${nets[@]}" --device "$device" \
  --out "$work/paper" --yes --time-limit "$limit" > "$work/stdout.txt" || status=$?
echo "{\"experiment_exit_status\": $status, \"wall_s\": $(( $(date +%s) - start ))}"
cat "$work/stdout.txt"
mkdir -p "$OUT"
for f in fig6.png fig7.png table6.md table6.json claims.md paper.json; do
  [ -f "$work/paper/$f" ] && cp "$work/paper/$f" "$OUT/"
done
tar czf "$OUT/paper-runs.tar.gz" -C "$work" --exclude='checkpoints' --exclude='.writer.lock' paper
echo "files under $OUT: $(cd "$OUT" && ls | tr '\n' ' ')"
exit $status
