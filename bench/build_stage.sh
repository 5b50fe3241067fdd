#!/bin/sh
# Build an agent whose programs stop after stage N (bpf/hooks.bpf.h,
# LP_STAGE / LP_CUT: stages in pipeline order) as .output/bench/latprobe-stageN, for bench/kcost.py --variant.
# usage: bench/build_stage.sh N...
set -e
cd "$(dirname "$0")/.."
for n in "$@"; do
	make -s OUTPUT=.output/stage$n BPF_EXTRA=-DLP_STAGE=$n latprobe >/dev/null
	mkdir -p .output/bench
	mv latprobe .output/bench/latprobe-stage$n
done
make -s latprobe
