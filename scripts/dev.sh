#!/usr/bin/env bash
# Development server: installs what is missing, brings the local services up (a second run reuses
# them), applies PostgreSQL migrations and serves on PORT (default 3000), reloading on change.
# Ctrl-C stops the server cleanly; the services keep running (scripts/services.sh down stops them).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

ensure_node_modules
# Assigned first so that a failing services.sh stops this script (set -e does not see inside eval).
urls=$(bash "$ROOT/scripts/services.sh" up)
eval "$urls"
export MONGODB_URI POSTGRES_URL REDIS_URL
# Development defaults; a .env file or the environment overrides them.
export NODE_ENV="${NODE_ENV:-development}"
export JWT_SECRET="${JWT_SECRET:-dev-only-secret-change-me-0123456789abcdef}"
# Every mail the app sends in development lands in the local Mailpit; read it through its API.
export SMTP_URL="${SMTP_URL:-$MAILPIT_SMTP_URL}"
echo "[dev.sh] mail sent by the app: $MAILPIT_API_URL/api/v1/messages (Mailpit's API; SMTP at $MAILPIT_SMTP_URL)" >&2

npm run --silent migrate
exec npx tsx watch --clear-screen=false src/main.ts
