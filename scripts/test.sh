#!/usr/bin/env bash
# The whole test suite: `npm test`. Installs what the tests need (Debian packages, as root), builds, type-checks,
# lints, then runs unit and integration tests (real sshd hosts, real ansible-* oracles, real daemons).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x node_modules/node/bin/node ]; then npm ci; fi
bash scripts/install-test-deps.sh
export PATH="$PWD/node_modules/.bin:$PATH"
case "$(node --version)" in v24.*) ;; *) echo "test: expected the project's Node 24, got $(node --version)" >&2; exit 1;; esac
echo "== build";      tsc -p tsconfig.json && touch dist/.built
echo "== typecheck";  tsc -p tsconfig.test.json
echo "== lint";       eslint src test bench
echo "== tests"
exec vitest run "$@"
