#!/bin/bash
# Starts slapd as openldap in the foreground (-d logs to stderr). slapd needs its
# suffix before it can start, and the suffix comes from the data set, so wait
# (bounded) for the sidekick's slapd.conf; exit non-zero on time-out so the unit's
# Restart= tries again instead of a half-configured directory serving.
set -euo pipefail
run=${FLEETLAB_RUN:-/run/fleetlab/ldap}
conf="$run/slapd.conf"
wait_s=${FLEETLAB_LDAP_CONFIG_WAIT:-120}
mkdir -p "$run" /var/lib/ldap
chown openldap:openldap "$run" /var/lib/ldap
for _ in $(seq 1 $((wait_s * 2))); do
  [ -s "$conf" ] && break
  sleep 0.5
done
[ -s "$conf" ] || { echo "fleetlab-ldap: no $conf after ${wait_s}s (is the ldap sidekick running?)" >&2; exit 1; }
# slapd sizes its connection table by the open-file limit, and Docker hands containers
# 1048576: slapd then takes ~600 MB before serving anyone, which the OOM killer ended
# in a 1 GiB lab VM. A directory for a lab needs far fewer connections than this.
ulimit -n "${FLEETLAB_LDAP_MAX_FILES:-4096}"
exec setpriv --reuid=openldap --regid=openldap --init-groups --inh-caps=-all --bounding-set=-all \
  /usr/sbin/slapd -f "$conf" -h "ldap://:1389/ ldapi://${run//\//%2F}%2Fldapi" -d "${FLEETLAB_LDAP_LOGLEVEL:-stats}"
