#!/usr/bin/env bash
# Install, create the SQLite database, load the sample data (imaging and practice), create the
# demo accounts admin, instructor and learner (their credentials are printed), start a task
# worker and serve on http://127.0.0.1:8001.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py collectstatic --noinput -v0
.venv/bin/python manage.py quickstart
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8001}"
echo "Serving on http://$HOST:$PORT  (web UI: http://$HOST:$PORT/, API: http://$HOST:$PORT/api/v1/, admin: http://$HOST:$PORT/admin/)"
# One background worker for analysis tasks beside the server; Ctrl-C (or SIGTERM) stops both.
.venv/bin/python manage.py run_analysis_worker &
worker_pid=$!
# The access log leaves out query strings: they can hold patient names.
.venv/bin/gunicorn config.wsgi --bind "$HOST:$PORT" --workers 2 --access-logfile - \
    --access-logformat '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms' &
server_pid=$!
stop() {
    trap - INT TERM EXIT
    kill -TERM "$server_pid" "$worker_pid" 2>/dev/null || true
    wait "$server_pid" "$worker_pid" 2>/dev/null || true
}
trap stop INT TERM EXIT
wait "$server_pid"
