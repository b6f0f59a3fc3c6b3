#!/usr/bin/env bash
# Renders a kafkasim report page (index.html) in headless Chromium and fails when its script
# raised an error, did not finish, or left the page without charts or event rows.
# Usage: scripts/check-report-page.sh path/to/index.html [more pages...]
set -euo pipefail
command -v chromium >/dev/null || { echo "chromium is not installed (apt-get install -y chromium)" >&2; exit 1; }
for page in "$@"; do
  test -s "$page" || { echo "$page: missing or empty" >&2; exit 1; }
  url="file://$(cd "$(dirname "$page")" && pwd)/$(basename "$page")"
  dom=$(timeout 120 chromium --headless --no-sandbox --disable-gpu --virtual-time-budget=5000 --dump-dom "$url" 2>/dev/null)
  if grep -q 'data-js-error=' <<<"$dom"; then
    echo "$page: JavaScript error: $(grep -o 'data-js-error="[^"]*"' <<<"$dom")" >&2
    exit 1
  fi
  grep -q 'data-ready="yes"' <<<"$dom" || { echo "$page: the page's script did not finish" >&2; exit 1; }
  charts=$(grep -o '<figure class="chart"' <<<"$dom" | wc -l)
  rows=$(grep -o '<tr class="ev"' <<<"$dom" | wc -l)
  [ "$charts" -gt 0 ] || { echo "$page: no charts rendered" >&2; exit 1; }
  [ "$rows" -gt 0 ] || { echo "$page: the event timeline is empty" >&2; exit 1; }
  echo "$page: rendered by Chromium, $charts charts, $rows event rows, no JavaScript error"
done
