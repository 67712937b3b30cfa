#!/usr/bin/env bash
# `make run`: start Code Insight locally (gateway + fast and heavy workers)
# with private Redis/PostgreSQL unless REDIS_URL / DATABASE_URL are given.
#
# State lives in <repo>/.run/: redis/, pg/, logs/, secrets/.
# Ctrl-C or SIGTERM stops everything this script started and exits 0; if a
# service dies on its own, its last log lines are shown and the script exits 1.
#
# Env: PORT (8080), REDIS_URL, DATABASE_URL, CODEINSIGHT_DEV_REDIS_PORT (6390),
#      CODEINSIGHT_DEV_PG_PORT (5440), CODEINSIGHT_BUILD_DIR (<repo>/build),
#      CODEINSIGHT_STOP_GRACE (30, seconds to wait for children on stop);
#      anything else (CODEINSIGHT_LOG_LEVEL, CODEINSIGHT_BODY_MAX,
#      CODEINSIGHT_WORKER_CONCURRENCY, ...) is passed through to the services.
set -euo pipefail

PROG=${0##*/}
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd -P)
SERVICES=$ROOT/deploy/local/services.sh
BUILD=${CODEINSIGHT_BUILD_DIR:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
RUN=$ROOT/.run
LOGS=$RUN/logs
SECRETS=$RUN/secrets
PORT=${PORT:-8080}
REDIS_PORT=${CODEINSIGHT_DEV_REDIS_PORT:-6390}
PG_PORT=${CODEINSIGHT_DEV_PG_PORT:-5440}
HEALTH_WAIT_SECS=15
STOP_GRACE=${CODEINSIGHT_STOP_GRACE:-30}

die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }
say() { printf '%s: %s\n' "$PROG" "$*" >&2; }

declare -A CHILD_PID=()     # name -> pid of gateway/workers we started
CHILD_ORDER=()              # start order, for stable output
OWN_REDIS=0                 # 1: we manage the private Redis in .run/redis
OWN_PG=0                    # 1: we manage the private PostgreSQL in .run/pg
REDIS_PASS=""
CLEANED=0

# ------------------------------------------------------------- helpers ---

secret() { # NAME -> password stored in .run/secrets/NAME (generated once)
    local f=$SECRETS/$1 pw
    if [[ ! -s $f ]]; then
        pw=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
        (umask 077 && printf '%s\n' "$pw" >"$f.tmp" && mv -f -- "$f.tmp" "$f")
    fi
    chmod 0600 -- "$f"
    tr -d ' \n' <"$f"
}

port_busy() { # PORT -> 0 if something accepts connections on 127.0.0.1:PORT
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

alive() { kill -0 "$1" 2>/dev/null; }

tail_log() { # NAME
    local f=$LOGS/$1.log
    if [[ -s $f ]]; then
        printf -- '--- last lines of %s ---\n' "$f" >&2
        tail -n 20 -- "$f" >&2 || true
        printf -- '---\n' >&2
    fi
}

start_child() { # NAME CMD...  (stdout+stderr -> .run/logs/NAME.log)
    local name=$1; shift
    [[ -x $1 ]] || die "$1 not found or not executable; build first with 'make'"
    "$@" >"$LOGS/$name.log" 2>&1 &
    CHILD_PID[$name]=$!
    CHILD_ORDER+=("$name")
}

stop_children() {
    local name pid i any
    for name in "${CHILD_ORDER[@]}"; do
        pid=${CHILD_PID[$name]}
        if alive "$pid"; then kill -TERM "$pid" 2>/dev/null || true; fi
    done
    for (( i = 0; i < STOP_GRACE * 5; i++ )); do
        any=0
        for name in "${CHILD_ORDER[@]}"; do
            if alive "${CHILD_PID[$name]}"; then any=1; fi
        done
        (( any )) || break
        sleep 0.2
    done
    for name in "${CHILD_ORDER[@]}"; do
        pid=${CHILD_PID[$name]}
        if alive "$pid"; then
            say "$name (pid $pid) did not stop within ${STOP_GRACE}s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
}

cleanup() {
    (( CLEANED )) && return 0
    CLEANED=1
    trap '' INT TERM HUP
    if (( ${#CHILD_ORDER[@]} )); then
        say "stopping gateway and workers..."
        stop_children
    fi
    if (( OWN_PG )); then
        say "stopping private PostgreSQL..."
        "$SERVICES" pg-stop "$RUN/pg" || say "could not stop PostgreSQL in $RUN/pg"
    fi
    if (( OWN_REDIS )); then
        say "stopping private Redis..."
        "$SERVICES" redis-stop "$RUN/redis" "$REDIS_PORT" "$REDIS_PASS" || say "could not stop Redis in $RUN/redis"
    fi
}

on_signal() {
    say "received $1, shutting down"
    cleanup
    say "stopped"
    exit 0
}

check_children() { # exits 1 if one of them died
    local name pid rc
    for name in "${CHILD_ORDER[@]}"; do
        pid=${CHILD_PID[$name]}
        if ! alive "$pid"; then
            rc=0
            wait "$pid" 2>/dev/null || rc=$?
            say "$name (pid $pid) exited unexpectedly with status $rc"
            tail_log "$name"
            unset "CHILD_PID[$name]"
            local keep=()
            local n
            for n in "${CHILD_ORDER[@]}"; do [[ $n == "$name" ]] || keep+=("$n"); done
            CHILD_ORDER=("${keep[@]}")
            cleanup
            exit 1
        fi
    done
}

# ---------------------------------------------------------------- main ---

trap cleanup EXIT
trap 'on_signal SIGINT' INT
trap 'on_signal SIGTERM' TERM
trap 'on_signal SIGHUP' HUP

for b in codeinsight-gateway codeinsight-worker codeinsight-migrate codeinsight-admin; do
    [[ -x $BUILD/$b ]] || die "$BUILD/$b not found; build first with 'make'"
done
command -v curl >/dev/null || die "curl not found (apt-get install curl)"
[[ $PORT =~ ^[0-9]+$ ]] || die "invalid PORT '$PORT'"
if port_busy "$PORT"; then
    die "127.0.0.1:$PORT is already in use (another 'make run'?); set PORT=... to use another port"
fi

mkdir -p -- "$RUN" "$LOGS" "$SECRETS"
chmod 0755 -- "$RUN"        # the postgres user must traverse it (see services.sh)
chmod 0700 -- "$SECRETS"

if [[ -z ${REDIS_URL:-} ]]; then
    REDIS_PASS=$(secret redis_password)
    OWN_REDIS=1               # set before starting so an interrupted start is cleaned up
    say "starting private Redis on 127.0.0.1:$REDIS_PORT ($RUN/redis)"
    REDIS_URL=$("$SERVICES" redis-start "$RUN/redis" "$REDIS_PORT" "$REDIS_PASS") \
        || die "could not start Redis (port $REDIS_PORT busy? set CODEINSIGHT_DEV_REDIS_PORT or REDIS_URL)"
else
    say "using REDIS_URL from the environment"
fi

if [[ -z ${DATABASE_URL:-} ]]; then
    PG_PASS=$(secret pg_password)
    OWN_PG=1
    say "starting private PostgreSQL on 127.0.0.1:$PG_PORT ($RUN/pg)"
    DATABASE_URL=$("$SERVICES" pg-start "$RUN/pg" "$PG_PORT" "$PG_PASS") \
        || die "could not start PostgreSQL (port $PG_PORT busy? set CODEINSIGHT_DEV_PG_PORT or DATABASE_URL)"
else
    say "using DATABASE_URL from the environment"
fi

export REDIS_URL DATABASE_URL PORT
export CODEINSIGHT_BIND=127.0.0.1
export CODEINSIGHT_SCHEMA_DIR=$ROOT/schema/migrations
# Secrets come from the environment; locally they are generated once.
export CODEINSIGHT_KEY_PEPPER=${CODEINSIGHT_KEY_PEPPER:-$(secret key_pepper)}
export CODEINSIGHT_JWT_SECRET=${CODEINSIGHT_JWT_SECRET:-$(secret jwt_secret)}

# What codeinsight-admin needs, for the shell: `. .run/secrets/admin.env`.
ADMIN_ENV=$SECRETS/admin.env
(umask 077 && for v in DATABASE_URL REDIS_URL CODEINSIGHT_KEY_PEPPER CODEINSIGHT_SCHEMA_DIR; do
    printf "export %s='%s'\n" "$v" "${!v//\'/\'\\\'\'}"
done >"$ADMIN_ENV.tmp" && mv -f -- "$ADMIN_ENV.tmp" "$ADMIN_ENV")

say "applying database migrations"
if ! "$BUILD/codeinsight-migrate" >"$LOGS/migrate.log" 2>&1; then
    tail_log migrate
    die "migrations failed (log: $LOGS/migrate.log)"
fi

# A demo account on first start; its API key is shown once, so keep it.
DEMO_EMAIL=demo@codeinsight.local
DEMO_KEY_FILE=$SECRETS/demo_api_key
if [[ ! -s $DEMO_KEY_FILE ]] || ! "$BUILD/codeinsight-admin" key-list "$DEMO_EMAIL" >/dev/null 2>&1; then
    "$BUILD/codeinsight-admin" user-create "$DEMO_EMAIL" --plan pro >/dev/null 2>"$LOGS/admin.log" || true
    key=$("$BUILD/codeinsight-admin" key-issue "$DEMO_EMAIL" demo 2>>"$LOGS/admin.log") ||
        die "could not issue the demo API key (log: $LOGS/admin.log)"
    (umask 077 && printf '%s\n' "$key" >"$DEMO_KEY_FILE")
    say "created $DEMO_EMAIL and its API key ($DEMO_KEY_FILE)"
fi
DEMO_KEY=$(tr -d ' \n' <"$DEMO_KEY_FILE")
# The demo user is an operator, so the local stack can read GET /stats (the
# figures over every user; docs/operations.md, "Operators"). At every start:
# a demo user made before the role existed gets it too.
"$BUILD/codeinsight-admin" user-operator "$DEMO_EMAIL" on 2>>"$LOGS/admin.log" >/dev/null ||
    die "could not make $DEMO_EMAIL an operator (log: $LOGS/admin.log)"

start_child gateway "$BUILD/codeinsight-gateway"
start_child worker-fast "$BUILD/codeinsight-worker" --pool fast
start_child worker-heavy "$BUILD/codeinsight-worker" --pool heavy

ready=0
for (( i = 0; i < HEALTH_WAIT_SECS * 4; i++ )); do
    check_children
    if curl -fsS --max-time 1 -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null; then
        ready=1
        break
    fi
    sleep 0.25
done
if (( ! ready )); then
    say "gateway did not answer http://127.0.0.1:$PORT/healthz within ${HEALTH_WAIT_SECS}s"
    tail_log gateway
    exit 1
fi
check_children

AUTH_ARGS=" -H 'Authorization: Bearer $DEMO_KEY'"

URL="http://127.0.0.1:$PORT"
REDIS_DESC="from REDIS_URL"
(( OWN_REDIS )) && REDIS_DESC="private, 127.0.0.1:$REDIS_PORT ($RUN/redis)"
PG_DESC="from DATABASE_URL"
(( OWN_PG )) && PG_DESC="private, 127.0.0.1:$PG_PORT ($RUN/pg)"
cat <<EOF

  Code Insight is running at $URL
    gateway log:       $LOGS/gateway.log
    fast worker log:   $LOGS/worker-fast.log
    heavy worker log:  $LOGS/worker-heavy.log
    Redis:             $REDIS_DESC
    PostgreSQL:        $PG_DESC
    passwords:         $SECRETS/
    demo account:      $DEMO_EMAIL (an operator: may read /stats), API key $DEMO_KEY

  Try it:
    curl -sS -X POST $URL/review$AUTH_ARGS -H 'Content-Type: application/json' -d '{"file_path":"app.py","file_content":"import os\n","request_type":"review"}'
    # -> 202 {"job_id":"<job_id>","status":"queued","poll":"/job/<job_id>"}
    curl -sS $URL/job/<job_id>$AUTH_ARGS
    # repeat until "status" is "done" (or "failed"), or follow it live:
    curl -sSN $URL/job/<job_id>/events$AUTH_ARGS
    curl -sS "$URL/job/<job_id>?format=sarif"$AUTH_ARGS     # or format=rdjson
    curl -sS -X DELETE $URL/job/<job_id>$AUTH_ARGS          # cancel it, while not finished
    curl -sS $URL/stats$AUTH_ARGS                           # operators only: every user's figures

  Or with the CLI (build/codeinsight; man -l docs/codeinsight.1):
    CODEINSIGHT_URL=$URL CODEINSIGHT_API_KEY=$DEMO_KEY build/codeinsight review app.py

  The API: $URL/openapi.json (docs/openapi.yaml)

  Accounts (build/codeinsight-admin --help), with this run's settings:
    (. $ADMIN_ENV && build/codeinsight-admin user-create you@example.com --plan pro)

  Press Ctrl-C to stop.

EOF

# Supervise: wake every second (or at once on a signal) and check children.
while :; do
    sleep 1 &
    wait $! || true
    check_children
done
