#!/bin/sh
# rotate_logs.sh - rotates and compresses application logs, keeps N days,
# and ships yesterday's archives to the log bucket.
#
#   rotate_logs.sh [-n DAYS] [-d LOG_DIR] [-b BUCKET] [-q]
#
# Meant for cron: silent unless something failed (or without -q).

LOG_DIR=/var/log/orders
KEEP_DAYS=14
BUCKET=
QUIET=0
STATE_FILE=/var/lib/rotate_logs/last_run
LOCK_DIR=/run/rotate_logs.lock

usage() {
    echo "usage: $0 [-n DAYS] [-d LOG_DIR] [-b BUCKET] [-q]" >&2
    exit 2
}

while getopts "n:d:b:q" opt; do
    case $opt in
        n) KEEP_DAYS=$OPTARG ;;
        d) LOG_DIR=$OPTARG ;;
        b) BUCKET=$OPTARG ;;
        q) QUIET=1 ;;
        *) usage ;;
    esac
done

say() {
    [ "$QUIET" = 1 ] || echo "$@"
}

fail() {
    echo "rotate_logs: $*" >&2
    exit 1
}

case $KEEP_DAYS in
    ''|*[!0-9]*) fail "-n needs a number of days" ;;
esac

[ -d "$LOG_DIR" ] || fail "no log directory $LOG_DIR"

# One run at a time: mkdir is atomic.
if ! mkdir "$LOCK_DIR" 2>/dev/null; then
    fail "another run holds $LOCK_DIR"
fi
trap 'rmdir "$LOCK_DIR"' EXIT INT TERM

today=$(date +%Y%m%d)
rotated=0
errors=0

rotate_file() {
    f=$1
    base=$(basename "$f" .log)
    target="$LOG_DIR/archive/$base-$today.log"
    if [ -e "$target.gz" ]; then
        say "skip $f: already rotated today"
        return 0
    fi
    # copy-truncate: the application keeps its file descriptor open
    cp -p "$f" "$target" || return 1
    : > "$f"
    gzip -9 "$target" || return 1
    rotated=$((rotated + 1))
}

mkdir -p "$LOG_DIR/archive" || fail "cannot create $LOG_DIR/archive"

for f in $LOG_DIR/*.log; do
    [ -f "$f" ] || continue
    size=$(wc -c < "$f")
    if [ "$size" -eq 0 ]; then
        continue
    fi
    if ! rotate_file "$f"; then
        echo "rotate_logs: failed to rotate $f" >&2
        errors=$((errors + 1))
    fi
done

say "rotated $rotated files"

# Expire old archives.
expired=0
for f in $(find "$LOG_DIR/archive" -name '*.gz' -mtime +$KEEP_DAYS); do
    rm -f "$f" && expired=$((expired + 1))
done
say "expired $expired archives older than $KEEP_DAYS days"

ship() {
    file=$1
    if command -v aws >/dev/null 2>&1; then
        aws s3 cp --only-show-errors "$file" "s3://$BUCKET/$(hostname)/" 
    elif command -v gsutil >/dev/null 2>&1; then
        gsutil -q cp "$file" "gs://$BUCKET/$(hostname)/"
    else
        echo "rotate_logs: no aws or gsutil to ship $file" >&2
        return 1
    fi
}

if [ -n "$BUCKET" ]; then
    yesterday=$(date -d yesterday +%Y%m%d 2>/dev/null || date -v-1d +%Y%m%d)
    shipped=0
    for f in "$LOG_DIR"/archive/*-"$yesterday".log.gz; do
        [ -e "$f" ] || continue
        if ship "$f"; then
            shipped=$((shipped + 1))
        else
            errors=$((errors + 1))
        fi
    done
    say "shipped $shipped archives to $BUCKET"
fi

# Disk usage report for the monitoring agent.
usage_pct=$(df -P "$LOG_DIR" | awk 'NR == 2 { sub("%", "", $5); print $5 }')
if [ "$usage_pct" -gt 90 ]; then
    echo "rotate_logs: $LOG_DIR is ${usage_pct}% full" >&2
fi

mkdir -p "$(dirname "$STATE_FILE")"
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) rotated=$rotated expired=$expired errors=$errors" \
    > "$STATE_FILE"

if [ $errors -gt 0 ]; then
    exit 1
fi
exit 0
