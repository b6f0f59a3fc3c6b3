#!/usr/bin/env bash
# Regenerates the example charts the README shows (output/examples/*.png) from shipped scenarios.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for s in reference rolling-restart session-timeout; do
  ./target/release/kafkasim run "scenarios/$s.yaml" --out "$tmp/$s" > /dev/null
  cp "$tmp/$s/lag.png" "output/examples/$s-lag.png"
  cp "$tmp/$s/ownership.png" "output/examples/$s-ownership.png"
done
echo "wrote output/examples/"
