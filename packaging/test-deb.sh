#!/usr/bin/env bash
# Builds the .deb and the .tar.gz with CPack from a configured and built tree, installs the .deb into a
# throwaway root and runs Gatehouse from the installed files: --version, then a headless smoke request.
# Fails on any problem. Registered as the CTest test `package.deb`.
#   packaging/test-deb.sh BUILD_DIR        (CPACK=/path/to/cpack to choose the cpack binary)
# The throwaway root holds only the package: the installed binary runs against this system's Qt
# libraries, which the Depends line must name (checked against the binary's NEEDED entries).
set -euo pipefail

build=${1:?usage: test-deb.sh BUILD_DIR}
build=$(cd "$build" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
cpack=${CPACK:-cpack}
app_id=io.github.gatehouse.Gatehouse

fail() { echo "test-deb.sh: FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

[[ -f $build/CPackConfig.cmake ]] || fail "$build/CPackConfig.cmake missing: configure the build first"
for tool in dpkg-deb "$cpack"; do
  command -v "$tool" >/dev/null || fail "$tool not found"
done
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
[[ -n $version ]] || fail "no CMAKE_PROJECT_VERSION in $build/CMakeCache.txt"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-deb.XXXXXX")
gw_pid=""
cleanup() {
  if [[ -n $gw_pid ]]; then kill "$gw_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# ---------------------------------------------------------------------------------------------------
step "cpack -G 'DEB;TGZ' (version $version)"
(cd "$build" && "$cpack" -G "DEB;TGZ" -B "$tmp/out" >"$tmp/cpack.log" 2>&1) || { cat "$tmp/cpack.log" >&2; fail "cpack failed"; }
shopt -s nullglob
debs=("$tmp/out"/*.deb)
tgzs=("$tmp/out"/*.tar.gz)
shopt -u nullglob
[[ ${#debs[@]} -eq 1 ]] || fail "expected one .deb, got: ${debs[*]:-none}"
[[ ${#tgzs[@]} -eq 1 ]] || fail "expected one .tar.gz, got: ${tgzs[*]:-none}"
deb=${debs[0]}
echo "   $(basename "$deb"), $(basename "${tgzs[0]}")"

# ---------------------------------------------------------------------------------------------------
step "control fields"
field() { dpkg-deb --field "$deb" "$1"; }
[[ $(field Package) == gatehouse ]] || fail "Package is '$(field Package)'"
[[ $(field Version) == "$version-1" ]] || fail "Version is '$(field Version)', expected $version-1"
[[ -n $(field Maintainer) ]] || fail "no Maintainer"
[[ -n $(field Description) ]] || fail "no Description"
if field Description | grep -Eq '&(lt|gt|amp|apos|quot);'; then fail "the Description contains XML escapes"; fi
depends=$(field Depends)
echo "   Depends: $depends"
# The package names in Depends (alternatives included), one a line.
depends_names=$(tr ',|' '\n\n' <<<"$depends" | sed 's/(.*//; s/[[:space:]]//g' | grep -v '^$')
for pkg in libqt6core6 libqt6network6 libqt6keychain1 libsqlite3-0 'libsimdjson[0-9]+' 'libre2-[0-9]+'; do
  grep -Exq "$pkg" <<<"$depends_names" || fail "Depends lacks $pkg"
done
# Hyperscan (or Vectorscan), when the build found it: the secret scanner's one-pass prefilter.
if command -v objdump >/dev/null && dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/bin/gatehouse >"$tmp/gatehouse-hs.bin" \
   && objdump -p "$tmp/gatehouse-hs.bin" | grep -q 'NEEDED.*libhs\.so'; then
  grep -Exq 'libhyperscan[0-9]+|libvectorscan[0-9]+' <<<"$depends_names" || fail "Depends lacks libhyperscan5 (the binary links libhs)"
fi
# A binary with the window loads QML modules and platform plugins that no ELF header names.
if command -v objdump >/dev/null && dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/bin/gatehouse >"$tmp/gatehouse.bin" \
   && objdump -p "$tmp/gatehouse.bin" | grep -q 'NEEDED.*libQt6Quick\.so'; then
  for pkg in libqt6gui6 libqt6qml6 libqt6quick6 qml6-module-qtquick qml6-module-qtquick-controls qml6-module-qtcharts qt6-qpa-plugins; do
    grep -Fxq "$pkg" <<<"$depends_names" || fail "Depends lacks $pkg (the window needs it)"
  done
fi

# Every package in Depends must exist: resolve the package against this system with apt (a
# simulation: nothing is installed).
if command -v apt-get >/dev/null; then
  step "apt-get --simulate install (Depends resolvable here)"
  if ! apt-get install --simulate --no-install-recommends "$deb" >"$tmp/apt.log" 2>&1; then
    cat "$tmp/apt.log" >&2
    fail "the package's dependencies cannot be resolved on this system"
  fi
  grep -E "^Inst " "$tmp/apt.log" | sed 's/^/   /' || true
fi

# ---------------------------------------------------------------------------------------------------
step "contents"
dpkg-deb --contents "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$tmp/contents"
expect_file() { grep -qx "$1" "$tmp/contents" || fail "package lacks $1"; }
expect_file /usr/bin/gatehouse
expect_file /usr/share/applications/$app_id.desktop
expect_file /usr/share/metainfo/$app_id.metainfo.xml
expect_file /usr/share/icons/hicolor/scalable/apps/gatehouse.svg
for px in 16 22 24 32 48 64 128 256 512; do
  expect_file /usr/share/icons/hicolor/${px}x${px}/apps/gatehouse.png
done
if grep -Ev '^/(usr/(bin|share)(/|$)|$)' "$tmp/contents" | grep -v '^/usr/$' | grep -q .; then
  grep -Ev '^/(usr/(bin|share)(/|$)|$)' "$tmp/contents" | grep -v '^/usr/$' >&2
  fail "files outside /usr/bin and /usr/share"
fi

# ---------------------------------------------------------------------------------------------------
# Install into a throwaway root: dpkg itself with its own empty database when we are root (then
# remove again, which must leave nothing behind), else unpack with dpkg-deb.
root=$tmp/root
mkdir -p "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/info" "$root/var/log"
touch "$root/var/lib/dpkg/status"
if [[ $(id -u) -eq 0 ]] && command -v dpkg >/dev/null; then
  step "dpkg --root (throwaway root) --install"
  # --force-depends: the root is empty on purpose; the dependencies were resolved against this
  # system above, and the binary runs with this system's libraries.
  dpkg --root="$root" --log=/dev/null --force-depends --install "$deb" >"$tmp/dpkg.log" 2>&1 \
    || { cat "$tmp/dpkg.log" >&2; fail "dpkg --install into the throwaway root failed"; }
  [[ $(dpkg --root="$root" --status gatehouse | sed -n 's/^Status: //p') == "install ok installed" ]] \
    || fail "dpkg does not report gatehouse as installed in the throwaway root"
else
  step "dpkg-deb --extract (not root: no dpkg database install)"
  dpkg-deb --extract "$deb" "$root"
fi
bin=$root/usr/bin/gatehouse
[[ -x $bin ]] || fail "$bin is not executable"
[[ -x $root/usr/bin/gatehoused ]] || fail "$root/usr/bin/gatehoused (the headless gateway) is not executable"

# ---------------------------------------------------------------------------------------------------
step "the binary's libraries"
if command -v ldd >/dev/null; then
  ldd "$bin" >"$tmp/ldd" 2>&1 || { cat "$tmp/ldd" >&2; fail "ldd failed"; }
  if grep -q "not found" "$tmp/ldd"; then grep "not found" "$tmp/ldd" >&2; fail "missing libraries"; fi
  # Each library the binary names directly (NEEDED) must come from a package in Depends.
  if command -v objdump >/dev/null && command -v dpkg-query >/dev/null; then
    for lib in $(objdump -p "$bin" "$root/usr/bin/gatehoused" | awk '/NEEDED/ {print $2}'); do
      # "libfoo.so.1 => /path (addr)", or for the dynamic loader "/lib64/ld-linux-x86-64.so.2 (addr)"
      path=$(awk -v l="$lib" '($1 == l && $3 ~ /^\//) {print $3; exit} ($1 ~ "/" l "$") {print $1; exit}' "$tmp/ldd")
      [[ -n $path ]] || fail "ldd did not resolve $lib"
      real=$(readlink -f "$path")
      owner=""
      for candidate in "$path" "$real" "${path/#\/lib\//\/usr\/lib\/}" "${real/#\/lib\//\/usr\/lib\/}" \
                       "${path/#\/usr\/lib\//\/lib\/}" "${real/#\/usr\/lib\//\/lib\/}"; do
        owner=$(dpkg-query --search "$candidate" 2>/dev/null | head -1 | cut -d: -f1) && [[ -n $owner ]] && break
      done
      [[ -n $owner ]] || { echo "   $lib: no owning package (not from a .deb): skipped"; continue; }
      grep -Fxq "${owner%%:*}" <<<"$depends_names" || fail "$lib comes from $owner, which Depends does not name"
      echo "   $lib -> $owner"
    done
  fi
fi

# ---------------------------------------------------------------------------------------------------
step "gatehouse --version"
out=$(env -i PATH=/usr/bin:/bin HOME="$tmp/home" QT_QPA_PLATFORM=offscreen "$bin" --version 2>&1) || fail "--version exited $?: $out"
[[ $out == "Gatehouse $version" ]] || fail "--version printed '$out', expected 'Gatehouse $version'"
echo "   $out"

step "desktop entry and AppStream metadata"
desktop=$root/usr/share/applications/$app_id.desktop
grep -qx "Exec=gatehouse" "$desktop" || fail "the .desktop file does not launch gatehouse"
grep -qx "Icon=gatehouse" "$desktop" || fail "the .desktop file's icon is not gatehouse"
if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate "$desktop" || fail "desktop-file-validate"
fi
metainfo=$root/usr/share/metainfo/$app_id.metainfo.xml
grep -q "<release version=\"$version\"" "$metainfo" \
  || fail "the metainfo has no <release version=\"$version\">: add the release to packaging/linux/$app_id.metainfo.xml"
if command -v appstreamcli >/dev/null; then
  appstreamcli validate --no-net "$metainfo" >"$tmp/as.log" 2>&1 || { cat "$tmp/as.log" >&2; fail "appstreamcli validate"; }
fi
for px in 16 22 24 32 48 64 128 256 512; do
  png=$root/usr/share/icons/hicolor/${px}x${px}/apps/gatehouse.png
  # PNG signature, then the IHDR width and height (big-endian) at bytes 16..23.
  [[ $(head -c 8 "$png" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]] || fail "$png is not a PNG"
  dims=$(od -An -tu1 -j16 -N8 "$png" | awk '{print $1*16777216+$2*65536+$3*256+$4 "x" $5*16777216+$6*65536+$7*256+$8}')
  [[ $dims == "${px}x${px}" ]] || fail "$png is $dims, expected ${px}x${px}"
done

# ---------------------------------------------------------------------------------------------------
step "headless smoke request from the installed binary"
secret="gk-deb-smoke-$$-$RANDOM"
cat >"$tmp/config.json" <<EOF
{
  "providers": [{"id": "local", "format": "openai", "base_url": "http://127.0.0.1:9/v1"}],
  "models": [{"id": "local/smoke-model", "provider": "local", "upstream_model": "smoke-model",
              "pricing": {"input": 1.0, "output": 2.0}}],
  "keys": [{"name": "smoke", "secret": "$secret"}]
}
EOF
mkdir -p "$tmp/home" "$tmp/data"
: >"$tmp/gw.out"
: >"$tmp/gw.err"
env -i PATH=/usr/bin:/bin HOME="$tmp/home" GATEHOUSE_NO_KEYCHAIN=1 QT_QPA_PLATFORM=offscreen \
  "$bin" --headless --port 0 --data-dir "$tmp/data" --config "$tmp/config.json" >"$tmp/gw.out" 2>"$tmp/gw.err" &
gw_pid=$!
port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$tmp/gw.out" | head -1)
  [[ -n $port ]] && break
  kill -0 "$gw_pid" 2>/dev/null || { cat "$tmp/gw.out" "$tmp/gw.err" >&2; gw_pid=""; fail "gatehouse exited during start-up"; }
  sleep 0.1
done
[[ -n $port ]] || { cat "$tmp/gw.out" "$tmp/gw.err" >&2; fail "gatehouse did not say where it listens"; }
base=http://127.0.0.1:$port
echo "   listening on $base"
# `gatehouse --headless` hands over to gatehoused (same pid), which maps none of the window's libraries.
[[ $(readlink "/proc/$gw_pid/exe") == "$root/usr/bin/gatehoused" ]] \
  || fail "gatehouse --headless runs $(readlink "/proc/$gw_pid/exe"), not the installed gatehoused"
if grep -q "libQt6Quick\|libQt6Gui" "/proc/$gw_pid/maps"; then
  fail "the headless gateway maps the window's libraries"
fi

# http_get PATH OUTFILE [BEARER]: prints the status code. curl when present, else bash's /dev/tcp.
http_get() {
  local path=$1 outfile=$2 bearer=${3:-}
  if command -v curl >/dev/null; then
    curl -sS -o "$outfile" -w '%{http_code}' ${bearer:+-H "Authorization: Bearer $bearer"} "$base$path"
    return
  fi
  local response
  exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
  printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\n%sConnection: close\r\n\r\n' "$path" "$port" \
    "${bearer:+Authorization: Bearer $bearer$'\r\n'}" >&3
  response=$(timeout 10 cat <&3) || { exec 3<&-; return 1; }
  exec 3<&-
  printf '%s' "${response#*$'\r\n\r\n'}" >"$outfile"
  sed -n '1s/^HTTP\/1\.[01] \([0-9]*\).*/\1/p' <<<"$response"
}
code=$(http_get /healthz "$tmp/healthz") || fail "GET /healthz"
[[ $code == 200 ]] || fail "/healthz answered $code: $(cat "$tmp/healthz")"
code=$(http_get /v1/models "$tmp/models" "$secret") || fail "GET /v1/models"
[[ $code == 200 ]] || fail "/v1/models answered $code: $(cat "$tmp/models")"
grep -q '"local/smoke-model"' "$tmp/models" || fail "/v1/models does not list local/smoke-model: $(cat "$tmp/models")"
code=$(http_get /v1/models "$tmp/unauth" gk-wrong-key-000) || fail "GET /v1/models (wrong key)"
[[ $code == 401 ]] || fail "/v1/models with a wrong key answered $code, expected 401"
echo "   /healthz 200, /v1/models 200 (lists local/smoke-model), wrong key 401"

kill -TERM "$gw_pid"
status=0
for _ in $(seq 1 100); do
  kill -0 "$gw_pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$gw_pid" 2>/dev/null; then fail "gatehouse did not stop within 10 s of SIGTERM"; fi
wait "$gw_pid" || status=$?
gw_pid=""
[[ $status -eq 0 ]] || { cat "$tmp/gw.err" >&2; fail "gatehouse exited $status after SIGTERM"; }
[[ -s $tmp/data/gatehouse.db ]] || fail "no database in the data folder"
if grep -q "$secret" "$tmp/gw.out" "$tmp/gw.err"; then fail "the key's secret appears in the output"; fi

# ---------------------------------------------------------------------------------------------------
if [[ $(id -u) -eq 0 ]] && command -v dpkg >/dev/null; then
  step "dpkg --root --purge"
  dpkg --root="$root" --log=/dev/null --purge gatehouse >"$tmp/dpkg-purge.log" 2>&1 \
    || { cat "$tmp/dpkg-purge.log" >&2; fail "dpkg --purge failed"; }
  left=$(cd "$root" && find . -path ./var -prune -o \( -type f -o -type l \) -print)
  [[ -z $left ]] || fail "files left after purge: $left"
fi

step "portable .tar.gz"
mkdir -p "$tmp/tgz"
tar -xzf "${tgzs[0]}" -C "$tmp/tgz"
tbin=$(find "$tmp/tgz" -path '*/bin/gatehouse' -type f | head -1)
[[ -n $tbin ]] || fail "the .tar.gz has no bin/gatehouse"
[[ -f $(dirname "$tbin")/../share/applications/$app_id.desktop ]] || fail "the .tar.gz has no .desktop file"
out=$(env -i PATH=/usr/bin:/bin HOME="$tmp/home" "$tbin" --version 2>&1) || fail "tar.gz --version exited $?"
[[ $out == "Gatehouse $version" ]] || fail "tar.gz --version printed '$out'"

echo "test-deb.sh: OK ($(basename "$deb"))"
