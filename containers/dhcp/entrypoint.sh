#!/bin/bash
# Starts Kea as user _kea. Kea needs raw sockets (DHCP answers clients that have no
# address yet) and port 67: root hands exactly those two capabilities to _kea as
# ambient capabilities and drops everything else, which is what Debian's systemd
# unit does on a normal host.
set -euo pipefail
run=${FLEETLAB_RUN:-/run/fleetlab/dhcp}
conf="$run/kea-dhcp4.conf"
mkdir -p "$run" /var/lib/kea /run/kea
chown _kea:_kea "$run" /var/lib/kea /run/kea
# Until the sidekick renders the real config, serve nothing but keep the control
# socket up so the sidekick can push the first config with config-reload.
if [ ! -s "$conf" ]; then
  cat >"$conf" <<JSON
{ "Dhcp4": {
    "interfaces-config": { "interfaces": [] },
    "control-socket": { "socket-type": "unix", "socket-name": "$run/kea4-ctrl.sock" },
    "lease-database": { "type": "memfile", "persist": false },
    "subnet4": [],
    "loggers": [ { "name": "kea-dhcp4", "severity": "INFO",
                   "output_options": [ { "output": "stdout" } ] } ] } }
JSON
  chown _kea:_kea "$conf"
else
  # The config rendered already: hot standby's warm copy, or an earlier render here.
  echo "fleetlab-dhcp: starting on ready data ($conf)"
fi
exec setpriv --reuid=_kea --regid=_kea --init-groups \
  --inh-caps=-all,+net_raw,+net_bind_service --ambient-caps=-all,+net_raw,+net_bind_service \
  --bounding-set=-all,+net_raw,+net_bind_service \
  /usr/sbin/kea-dhcp4 -c "$conf"
