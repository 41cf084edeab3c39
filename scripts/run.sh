#!/usr/bin/env bash
# Starts the web server and one Celery worker with embedded beat, in the foreground.
# Ctrl-C (or SIGTERM) stops all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-8000}"
PY=.venv/bin/python

pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

# Payments: without STRIPE_SECRET_KEY, run against localstripe on loopback (a Stripe-compatible
# server, state in memory) with signed webhooks delivered to this app; without localstripe
# installed the app falls back to its offline test-mode provider.
if [ -z "${STRIPE_SECRET_KEY:-}" ] && [ -x .venv-localstripe/bin/python ]; then
  LOCALSTRIPE_PORT="${LOCALSTRIPE_PORT:-8420}"
  .venv-localstripe/bin/python scripts/localstripe_loopback.py "$LOCALSTRIPE_PORT" >var/localstripe.log 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do
    (echo > "/dev/tcp/127.0.0.1/$LOCALSTRIPE_PORT") 2>/dev/null && break
    sleep 0.2
  done
  export STRIPE_SECRET_KEY="sk_test_localstripe_anclora_offline_0000"
  export STRIPE_API_BASE="http://127.0.0.1:${LOCALSTRIPE_PORT}"
  export STRIPE_WEBHOOK_SECRET="${STRIPE_WEBHOOK_SECRET:-whsec_localstripe_anclora_dev}"
  curl -fsS -u "$STRIPE_SECRET_KEY:" -X POST "$STRIPE_API_BASE/_config/webhooks/anclora" \
    -d "url=http://127.0.0.1:${PORT}/api/payments/webhook" -d "secret=${STRIPE_WEBHOOK_SECRET}" >/dev/null \
    && echo "Payments: localstripe on $STRIPE_API_BASE (test mode, webhooks to this app)" \
    || echo "Payments: localstripe did not answer; using whatever STRIPE_* says"
elif [ -z "${STRIPE_SECRET_KEY:-}" ]; then
  echo "Payments: offline test-mode provider (no STRIPE_SECRET_KEY, no .venv-localstripe)"
fi

.venv/bin/celery -A anclora worker --beat --loglevel=INFO --concurrency=2 \
  -Q priority,default --hostname "worker@%h" --schedule var/celerybeat-schedule &
pids+=($!)

echo "Anclora Converter: http://127.0.0.1:${PORT}/  (API docs: /api/docs/, admin: /admin/)"
$PY manage.py runserver "127.0.0.1:${PORT}" --noreload &
pids+=($!)

# Exit as soon as any of them stops, taking the other down with it.
wait -n "${pids[@]}"
