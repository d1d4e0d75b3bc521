#!/usr/bin/env bash
# `make run`: set up and start web, Celery worker and beat on the embedded default (SQLite and
# kombu's filesystem broker under var/) unless DATABASE_URL / CELERY_BROKER_URL say otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PORT="${PORT:-8000}"
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings.base}"
mkdir -p var/broker var/broker-processed

$PY manage.py migrate --noinput
$PY manage.py collectstatic --noinput -v 0
$PY manage.py demo_account

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
.venv/bin/celery -A config worker --loglevel INFO --pool threads --concurrency 16 &
pids+=($!)
.venv/bin/celery -A config beat --loglevel INFO &
pids+=($!)
echo "Serving the API on http://127.0.0.1:${PORT}/v1/ (docs: /v1/docs, admin: /admin/)"
.venv/bin/gunicorn config.wsgi --bind "127.0.0.1:${PORT}" --workers 2 --access-logfile - &
pids+=($!)
wait -n "${pids[@]}"
