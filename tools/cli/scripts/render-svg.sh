#!/bin/sh
# Renders the RMP map of a scenario in a real browser (Debian's chromium, headless) to a PNG, to check
# that the SVG snp-ref draws displays: tools/cli/scripts/render-svg.sh SCENARIO.json OUT.png
# (scripts/one-gib-host.json is a 1 GiB host to try it on).
set -eu
scenario=${1:?usage: render-svg.sh SCENARIO.json OUT.png}
png=${2:?usage: render-svg.sh SCENARIO.json OUT.png}
svg=$(mktemp --suffix=.svg)
node "$(dirname "$0")/../bin/snp-ref.js" rmp --scenario "$scenario" --svg "$svg" > /dev/null
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1024,1200 --screenshot="$png" "file://$svg" 2> /dev/null
rm -f "$svg"
echo "$png"
