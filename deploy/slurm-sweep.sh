#!/usr/bin/env bash
# A kafkasim sweep as a Slurm job array: each array task runs one deterministic slice, then one
# dependent job joins them. Submit from the repository root:
#   sbatch --array=0-15 deploy/slurm-sweep.sh scenarios/scale-out.yaml
#   (after the array) kafkasim sweep-merge sweeps/scale-out/shard-* --out sweeps/scale-out/merged
# Every task must pass the same scenario, --set, --seeds, --seed and --plot arguments: sweep-merge
# refuses slices of different sweeps. Results do not depend on how many tasks or CPUs there are.
#SBATCH --job-name=kafkasim-sweep
#SBATCH --cpus-per-task=4
#SBATCH --time=01:00:00
#SBATCH --output=sweeps/slurm-%A_%a.log
set -euo pipefail
scenario="${1:?usage: sbatch --array=0-(N-1) deploy/slurm-sweep.sh SCENARIO}"
name="$(basename "$scenario" .yaml)"
index="${SLURM_ARRAY_TASK_ID:?run under sbatch --array}"
count="${SLURM_ARRAY_TASK_COUNT:?run under sbatch --array}"
mkdir -p "sweeps/$name"
kafkasim sweep "$scenario" \
  --set groups.billing.consumers=2,4,8 \
  --set groups.billing.protocol=eager,cooperative \
  --seeds 20 \
  --jobs "${SLURM_CPUS_PER_TASK:-1}" \
  --shard "$index/$count" \
  --out "sweeps/$name/shard-$index"
