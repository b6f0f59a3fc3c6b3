#!/usr/bin/env bash
# Regenerates the example charts README.md and docs/ show (output/examples/*.png) from shipped scenarios.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for s in reference rolling-restart session-timeout consumer-protocol-static-restart; do
  ./target/release/kafkasim run "scenarios/$s.yaml" --out "$tmp/$s" > /dev/null
  cp "$tmp/$s/lag.png" "output/examples/$s-lag.png"
  cp "$tmp/$s/ownership.png" "output/examples/$s-ownership.png"
done
echo "wrote output/examples/"
for s in push-vs-pull-slow-consumer push-vs-pull-burst push-vs-pull-unavailable; do
  ./target/release/kafkasim compare "scenarios/$s.yaml" --out "$tmp/$s" > /dev/null
  cp "$tmp/$s/latency.png" "output/examples/$s-latency.png"
  cp "$tmp/$s/buffer-vs-lag.png" "output/examples/$s-buffer-vs-lag.png"
  cp "$tmp/$s/drops.png" "output/examples/$s-drops.png"
done
echo "wrote compare charts"
for s in retention-outruns-slow-consumer rewind-after-bug; do
  ./target/release/kafkasim run "scenarios/$s.yaml" --out "$tmp/$s" > /dev/null
  cp "$tmp/$s/offsets.png" "output/examples/$s-offsets.png"
done
echo "wrote offsets charts"
./target/release/kafkasim run scenarios/standby.yaml --out "$tmp/standby" > /dev/null
cp "$tmp/standby/ownership.png" output/examples/standby-ownership.png
./target/release/kafkasim run scenarios/queue-vs-pubsub.yaml --out "$tmp/queue-vs-pubsub" > /dev/null
cp "$tmp/queue-vs-pubsub/lag.png" output/examples/queue-vs-pubsub-lag.png
echo "wrote standby and coinciding-lines charts"
./target/release/kafkasim compare scenarios/share-vs-consumer-standbys.yaml --groups consumer,share --out "$tmp/groups" > /dev/null
cp "$tmp/groups/backlog.png" output/examples/share-vs-consumer-standbys-backlog.png
cp "$tmp/groups/share/ownership.png" output/examples/share-vs-consumer-standbys-ownership.png
./target/release/kafkasim run scenarios/share-window-stall.yaml --out "$tmp/stall" > /dev/null
cp "$tmp/stall/share.png" output/examples/share-window-stall-share.png
echo "wrote share group charts"
./target/release/kafkasim sweep scenarios/scale-out.yaml --set groups.billing.consumers=2,4,8 \
  --set groups.billing.protocol=eager,cooperative --seeds 5 --jobs 2 --out "$tmp/sweep" > /dev/null
cp "$tmp/sweep/plot-groups.billing.rebalance_pause_ms.total.png" output/examples/scale-out-sweep-rebalance-pause.png
echo "wrote the sweep chart"
# The top of the report page as a 1400x1000 screen shows it (needs chromium).
./target/release/kafkasim run scenarios/reference.yaml --out "$tmp/page" > /dev/null
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,1000 \
  --screenshot=output/examples/reference-page-top.png "file://$tmp/page/index.html" 2>/dev/null
echo "wrote the page screenshot"
