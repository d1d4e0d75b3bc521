#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer on 127.0.0.1 for the tests: start them when they are
# installed but stopped, or say clearly what is missing.
set -u
pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null || (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "PostgreSQL is stopped: starting it"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
if ! redis_up; then
  if command -v redis-server >/dev/null 2>&1; then
    echo "Redis is stopped: starting it"
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  fi
  for _ in $(seq 1 30); do redis_up && break; sleep 1; done
fi

missing=""
pg_up || missing+=" PostgreSQL (127.0.0.1:5432, user postgres, trust auth)"
redis_up || missing+=" Redis (127.0.0.1:6379)"
if [ -n "$missing" ]; then
  echo "make test needs these services and could not start them:$missing" >&2
  echo "Set DATABASE_URL / REDIS_URL to reachable servers, or install and start them." >&2
  exit 1
fi
