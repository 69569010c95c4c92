#!/usr/bin/env bash
# The project's test command (`npm test`): typechecks, lints and checks formatting, builds, installs the
# tools the tests need (helm, the manifest validator, hadolint, Chromium), brings the local stack (Kafka,
# Redis, Jaeger) up if it is not up, then runs unit, integration and end-to-end tests. Exits non-zero on
# any failure.
set -uo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "typecheck (tsc, strict)"
{ npx tsc -p tsconfig.test.json && npx tsc -p console/tsconfig.json; } || { echo "typecheck failed"; exit 1; }

step "lint (ESLint, type-aware) and format (Prettier)"
{ npx eslint . && npx prettier --check . >/dev/null; } || { echo "lint or format check failed (npm run lint, npm run format)"; exit 1; }

step "build (dist/ for the tusk-collector command, and the console bundle)"
npm run -s build || { echo "build failed"; exit 1; }

step "helm (built once from the Go module proxy, then cached)"
bash scripts/stack/helm.sh >/dev/null || { echo "helm build failed"; exit 1; }
step "Kubernetes manifest validator (scripts/k8s-validate, built once, then cached)"
bash scripts/k8s-validate/build.sh >/dev/null || { echo "manifest validator build failed"; exit 1; }
step "Dockerfile linter (installed once, then cached)"
bash scripts/stack/hadolint.sh >/dev/null || { echo "Dockerfile linter install failed"; exit 1; }

step "local stack: Kafka, Redis, Jaeger (installs on first run; the first Jaeger build takes minutes)"
bash scripts/stack/up.sh || { echo "stack failed to start"; exit 1; }

step "headless Chromium for the console's browser tests (Debian package; skipped when installed)"
bash scripts/stack/chromium.sh || { echo "chromium install failed"; exit 1; }

# up.sh brings the secured Kafka listeners up too; on CI a missing listener is a failure, not a skip.
if [ -n "${CI:-}" ]; then export KAFKA_SECURE_REQUIRED=1; fi

log_dir=.stack/test-logs
mkdir -p "$log_dir"
status=0
step "unit tests"
# The test files of each run are listed once, in package.json (test:unit, test:integration).
npm run -s test:unit 2>&1 | tee "$log_dir/unit.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
step "integration and end-to-end tests (real Kafka, Redis, Jaeger)"
npm run -s test:integration 2>&1 | tee "$log_dir/integration.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

# mocha's summary lines look like "  716 passing (28s)"; anchor on them so test output cannot count.
count() { grep -hE "^ +[0-9]+ $1( |$)" "$log_dir"/unit.log "$log_dir"/integration.log | awk '{s+=$1} END {print s+0}'; }
passed=$(count passing); failed=$(count failing); pending=$(count pending)
[ "$status" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
echo
echo "${passed} passed, ${failed} failed, ${pending} skipped"
exit "$status"
