#!/usr/bin/env bash
# Starts the web server (gunicorn), one Celery worker with embedded beat (conversions) and one for the
# "remote" queue (URL imports, webhook deliveries), in the foreground.
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
# server, state in memory) with signed webhooks delivered to this app; if localstripe is not
# installed or does not come up, the app uses its offline test-mode provider.
if [ -z "${STRIPE_SECRET_KEY:-}" ] && [ -x .venv-localstripe/bin/python ]; then
  # A free loopback port unless one is given (two installations on one machine must not collide).
  LOCALSTRIPE_PORT="${LOCALSTRIPE_PORT:-$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
  .venv-localstripe/bin/python scripts/localstripe_loopback.py "$LOCALSTRIPE_PORT" >var/localstripe.log 2>&1 &
  localstripe_pid=$!
  pids+=("$localstripe_pid")
  for _ in $(seq 50); do
    (echo > "/dev/tcp/127.0.0.1/$LOCALSTRIPE_PORT") 2>/dev/null && break
    sleep 0.2
  done
  key="sk_test_localstripeAncloraOffline0000"  # dj-stripe wants 24+ letters or digits after the prefix
  # The same per-installation secret the settings read (var/secrets/, created on first use).
  secret="${STRIPE_WEBHOOK_SECRET:-$($PY -m anclora.settings.installation "${VAR_DIR:-var}" stripe_webhook_secret whsec_)}"
  if kill -0 "$localstripe_pid" 2>/dev/null && curl -fsS -u "$key:" -X POST \
      "http://127.0.0.1:${LOCALSTRIPE_PORT}/_config/webhooks/anclora" \
      -d "url=http://127.0.0.1:${PORT}/api/payments/webhook" -d "secret=${secret}" >/dev/null; then
    export STRIPE_SECRET_KEY="$key" STRIPE_API_BASE="http://127.0.0.1:${LOCALSTRIPE_PORT}" STRIPE_WEBHOOK_SECRET="$secret"
    echo "Payments: localstripe on $STRIPE_API_BASE (test mode, webhooks to this app)"
  else
    kill "$localstripe_pid" 2>/dev/null || true
    echo "Payments: localstripe did not start (see var/localstripe.log); offline test-mode provider"
  fi
elif [ -z "${STRIPE_SECRET_KEY:-}" ]; then
  echo "Payments: offline test-mode provider (no STRIPE_SECRET_KEY, no .venv-localstripe)"
fi

# What this host converts (the same as GET /api/conversion/supported-formats, and what is missing).
$PY manage.py formats_summary || true

# --max-memory-per-child (KiB): a child above WORKER_MAX_MEMORY_MB after a job is replaced (settings too).
.venv/bin/celery -A anclora worker --beat --loglevel=INFO --concurrency=2 \
  --max-memory-per-child "$(( ${WORKER_MAX_MEMORY_MB:-1024} * 1024 ))" \
  -Q priority,default --hostname "worker@%h" --schedule var/celerybeat-schedule &
pids+=($!)
core=($!)

# Requests to other people's servers (URL imports, webhook deliveries) on their own queue and worker:
# a slow remote server holds one of these processes, never a conversion worker. No beat here.
.venv/bin/celery -A anclora worker --loglevel=INFO --concurrency="${REMOTE_WORKER_CONCURRENCY:-4}" \
  -Q remote --hostname "remote@%h" &
pids+=($!)
core+=($!)

# gunicorn (threaded workers, one per core, WEB_THREADS threads each; static files via whitenoise).
# TERM/INT stop it after at most 5 s of finishing requests in flight.
CORES="$(nproc 2>/dev/null || echo 2)"
echo "Anclora Converter: http://127.0.0.1:${PORT}/  (API docs: /api/docs/, admin: /admin/)"
# -c: the worker class that ends slow clients (anclora/web_worker.py) and gunicorn's own error pages
# (malformed request, too-long line, too-large headers) as JSON.
.venv/bin/gunicorn -c anclora/gunicorn_conf.py anclora.wsgi:application --bind "127.0.0.1:${PORT}" \
  --workers "${WEB_WORKERS:-$CORES}" --threads "${WEB_THREADS:-8}" \
  --timeout 300 --graceful-timeout 5 --backlog 2048 --access-logfile - --log-level warning &
pids+=($!)
core+=($!)

# Exit as soon as the web server or the worker stops, taking the rest down with it.
wait -n "${core[@]}"
