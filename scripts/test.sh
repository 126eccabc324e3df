#!/usr/bin/env bash
# The whole check, as CI runs it: install what is missing, start the real services, then
# typecheck, lint and the full jest suite with coverage.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

ensure_node_modules
# Assigned first so that a failing services.sh stops this script (set -e does not see inside eval).
urls=$(bash "$ROOT/scripts/services.sh" up)
eval "$urls"
export MONGODB_URI POSTGRES_URL REDIS_URL

log "typecheck"
npx tsc --noEmit -p tsconfig.json
log "lint"
npx eslint . --max-warnings=0
log "tests"
npx jest --coverage --ci "$@"
