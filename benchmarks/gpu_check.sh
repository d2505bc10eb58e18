#!/usr/bin/env bash
# The GPU check of issue #11: one command, at most 8 minutes on one H100/H200, JSON lines out
# (one object per part, then a summary with the targets). See benchmarks/gpu_check.py.
#
#   benchmarks/gpu_check.sh [--data ARCHIVE_OR_FOLDER] [--out FILE.jsonl] [--parts a,b]
#   benchmarks/gpu_check.sh --device cpu --tiny --data FOLDER     # the rehearsal tests/ runs
#
# Needs only python3 with torch, torchvision, numpy and Pillow: it runs from this checkout
# (PYTHONPATH), nothing is installed; Captum, Qt and matplotlib are never imported. The
# CIFAR-10 archive comes from --data, else $RESVIZ_SHARED_DATA/cifar10-jpg.tar.gz, else
# ../shared/data/ beside the checkout; it is unpacked into a temporary folder.
#
# From a session with a lent GPU (the device tool, /work/.library/device/README.md): the
# tool sends the session's checkout and nothing beside it, so put the archive (19 MB) in a
# git-ignored folder of that checkout and carry it:
#
#   mkdir -p .gpu-data && cp /work/shared/data/cifar10-jpg.tar.gz .gpu-data/ \
#       && echo /.gpu-data/ >> .git/info/exclude
#   run(command="PYTHONUNBUFFERED=1 bash benchmarks/gpu_check.sh --data .gpu-data/cifar10-jpg.tar.gz
#                --out $OUT/gpu_check.jsonl", carry=[".gpu-data"], timeout_s=560)
#
# The JSON lines come back in $OUT/gpu_check.jsonl and on stdout (the reply's output_tail).
# A part that would overrun its budget skips with a note in its JSON; the whole check
# keeps inside --total seconds (default 470), so one call fits the session's device time.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
export PYTHONUNBUFFERED=1
exec "$PY" benchmarks/gpu_check.py "$@"
