#!/bin/bash
# Starts nginx as www-data in the foreground. Before the sidekick has rendered
# anything, a placeholder config answers /healthz and 503 for everything else, so
# the container is healthy and the sidekick can reload it into the real site.
set -euo pipefail
run=${FLEETLAB_RUN:-/run/fleetlab/www}
conf="$run/nginx.conf"
mkdir -p "$run"
chown www-data:www-data "$run"
# nginx reopens /dev/stdout by name for its access log; the pipe Docker hands us is
# root's, so give it to www-data (error_log stderr uses the inherited fd and is fine).
chown --dereference www-data /proc/self/fd/1 /proc/self/fd/2 2>/dev/null || true
if [ ! -s "$conf" ]; then
  cat >"$conf" <<NGINX
daemon off;
pid $run/nginx.pid;
error_log stderr info;
events { worker_connections 64; }
http {
  access_log /dev/stdout;
  server {
    listen 8080;
    location = /healthz { return 200 "ok\n"; }
    location / { return 503 "no content yet\n"; }
  }
}
NGINX
else
  # The site rendered already: hot standby's warm copy, or an earlier render here.
  echo "fleetlab-www: starting on ready data ($conf)"
fi
exec setpriv --reuid=www-data --regid=www-data --init-groups --inh-caps=-all --bounding-set=-all \
  /usr/sbin/nginx -c "$conf"
