#!/usr/bin/env bash
# Renders resources/icons/gatehouse.svg into the PNG sizes the desktops use
# (resources/icons/hicolor/<N>x<N>/apps/gatehouse.png) and the Windows icon (resources/icons/gatehouse.ico).
# The renders are committed, so building never needs this; run it after changing the SVG.
# Needs rsvg-convert (Debian: librsvg2-bin; Homebrew: librsvg) and, for the .ico, ImageMagick.
set -euo pipefail
cd "$(dirname "$0")/../resources/icons"
command -v rsvg-convert >/dev/null || { echo "render-icons.sh: rsvg-convert not found (apt-get install librsvg2-bin)" >&2; exit 1; }
sizes=(16 22 24 32 48 64 128 256 512)
for n in "${sizes[@]}"; do
  mkdir -p "hicolor/${n}x${n}/apps"
  rsvg-convert -w "$n" -h "$n" gatehouse.svg -o "hicolor/${n}x${n}/apps/gatehouse.png"
done
magick=$(command -v magick || command -v convert || true)
if [[ -n "$magick" ]]; then
  ico_inputs=()
  for n in 16 24 32 48 64 128 256; do ico_inputs+=("hicolor/${n}x${n}/apps/gatehouse.png"); done
  "$magick" "${ico_inputs[@]}" gatehouse.ico
else
  echo "render-icons.sh: ImageMagick not found: gatehouse.ico not updated" >&2
fi
