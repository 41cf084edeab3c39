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

.venv/bin/celery -A anclora worker --beat --loglevel=INFO --concurrency=2 \
  -Q priority,default --hostname "worker@%h" --schedule var/celerybeat-schedule &
pids+=($!)

echo "Anclora Converter: http://127.0.0.1:${PORT}/  (API docs: /api/docs/, admin: /admin/)"
$PY manage.py runserver "127.0.0.1:${PORT}" --noreload &
pids+=($!)

# Exit as soon as any of them stops, taking the other down with it.
wait -n "${pids[@]}"
