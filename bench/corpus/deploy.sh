#!/bin/bash
# Deploys a release tarball to the app servers listed in servers.txt:
# upload, unpack next to the current release, switch the symlink, restart.
set -euo pipefail

APP=orders-api
RELEASES=/srv/$APP/releases
KEEP=5
TARBALL=${1:?usage: deploy.sh TARBALL [SERVERS_FILE]}
SERVERS_FILE=${2:-servers.txt}

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

[ -f "$TARBALL" ] || { log "no such file: $TARBALL"; exit 1; }
release=$(basename $TARBALL .tar.gz)

deploy_one() {
    local host=$1
    log "$host: uploading $release"
    scp -q "$TARBALL" "deploy@$host:/tmp/$release.tar.gz"
    ssh "deploy@$host" bash -s -- "$release" "$RELEASES" "$APP" <<'REMOTE'
set -euo pipefail
release=$1 releases=$2 app=$3
mkdir -p "$releases/$release"
tar -xzf "/tmp/$release.tar.gz" -C "$releases/$release"
rm -f "/tmp/$release.tar.gz"
ln -sfn "$releases/$release" "/srv/$app/current"
sudo systemctl restart "$app"
REMOTE
}

health() {
    local host=$1 i
    for i in $(seq 1 30); do
        if curl -fsS "http://$host:8080/healthz" >/dev/null; then
            return 0
        fi
        sleep 2
    done
    return 1
}

cleanup_old() {
    local host=$1
    ssh "deploy@$host" "cd $RELEASES && ls -1t | tail -n +$((KEEP + 1)) | xargs -r rm -rf"
}

failed=()
while read -r host; do
    [[ -z $host || $host == \#* ]] && continue
    if deploy_one "$host" && health "$host"; then
        cleanup_old "$host"
        log "$host: ok"
    else
        log "$host: FAILED"
        failed+=("$host")
    fi
done < "$SERVERS_FILE"

if [ ${#failed[@]} -gt 0 ]; then
    log "failed on: ${failed[*]}"
    exit 1
fi
log "deployed $release to all servers"
