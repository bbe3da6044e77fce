#!/usr/bin/env bash
# The seed flow in headless Chromium: starts the seed_flow example (Tessera, the photo API, the
# login app and Photo Printer on loopback ports), runs flow.mjs against it (allow, then deny),
# stops it, and leaves target/browser/allowed.png and target/browser/denied.png.
#
#   bash service/tests/browser/run.sh
#
# Needs node and Debian's chromium (.ci/run installs both); installs playwright-core into
# target/browser, never a browser of its own. Fails, never skips, if either is missing.
set -euo pipefail
cd "$(dirname "$0")/../../.."

fail() { echo "browser test: $*" >&2; exit 1; }
command -v node >/dev/null 2>&1 ||
  fail "node is missing: install Node.js and npm (Debian: apt-get install nodejs npm)"
[ -x /usr/bin/chromium ] ||
  fail "/usr/bin/chromium is missing: install Chromium (Debian: apt-get install chromium)"
echo "node $(node --version), $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"

out=target/browser
mkdir -p "$out"
if [ ! -f "$out/node_modules/playwright-core/package.json" ]; then
  command -v npm >/dev/null 2>&1 || fail "npm is missing: install it (Debian: apt-get install npm)"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$out" --no-audit --no-fund \
    --loglevel=error playwright-core@1
fi
rm -f "$out"/allowed.png "$out"/denied.png "$out"/failed-*

cargo build -q -p tessera-service --example seed_flow
demo="${CARGO_TARGET_DIR:-target}/debug/examples/seed_flow"
"$demo" >"$out/demo.out" 2>"$out/demo.log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true' EXIT

url=
for _ in $(seq 100); do
  url=$(sed -n 's/^Open \(http[^ ]*\) .*/\1/p' "$out/demo.out")
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$out/demo.log" >&2; fail "the demo exited before it served"; }
  sleep 0.1
done
[ -n "$url" ] || { cat "$out/demo.log" >&2; fail "the demo printed no URL within 10 s"; }

if ! node service/tests/browser/flow.mjs "$url" "$out"; then
  echo "--- the demo's log ($out/demo.log) ---" >&2
  cat "$out/demo.log" >&2
  fail "the seed flow failed in headless Chromium"
fi
kill "$pid"
wait "$pid"
trap - EXIT
ls -l "$out/allowed.png" "$out/denied.png"
