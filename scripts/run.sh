#!/usr/bin/env bash
# `make run`: set up and start web, Celery worker and beat on the embedded default (SQLite and
# kombu's filesystem broker under var/, or HOOKRELAY_VAR_DIR) unless DATABASE_URL /
# CELERY_BROKER_URL say otherwise. tests/test_embedded_boot.py starts the platform with this script.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PORT="${PORT:-8000}"
VAR_DIR="${HOOKRELAY_VAR_DIR:-var}"
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings.base}"
mkdir -p "$VAR_DIR/broker" "$VAR_DIR/broker-processed"

$PY manage.py migrate --noinput
$PY manage.py collectstatic --noinput -v 0
$PY manage.py demo_account
if [ -z "${OUTBOUND_ALLOWED_NETWORKS:-}" ]; then
  echo "To deliver to a receiver on this machine: OUTBOUND_ALLOWED_NETWORKS=127.0.0.1/32 make run"
fi

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
.venv/bin/celery -A config worker --loglevel INFO --pool threads --concurrency 8 &
pids+=($!)
.venv/bin/celery -A config beat --loglevel INFO --schedule "$VAR_DIR/celerybeat-schedule" &
pids+=($!)
echo "Serving the API on http://127.0.0.1:${PORT}/v1/ (docs: /v1/docs, admin: /admin/)"
# --no-control-socket: gunicorn's default socket (~/.gunicorn/gunicorn.ctl) is one per user, so a
# second gunicorn on the machine would delete this one's.
.venv/bin/gunicorn config.wsgi --bind "127.0.0.1:${PORT}" --worker-class gthread --workers 2 --threads 8 \
  --no-control-socket --access-logfile - &
pids+=($!)
wait -n "${pids[@]}"
