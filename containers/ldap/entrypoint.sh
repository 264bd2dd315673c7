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
# Start on ready data when the run directory holds the directory's seed: the warm copy
# of hot standby (units/services.ts) or an earlier render on this machine. slapadd
# fills the empty database before slapd listens, so a moved directory answers without
# waiting for its sidekick; the sidekick then brings it to the current data
# (ldapmodify). A seed that does not load is dropped, never half-served: the database
# is emptied and the sidekick seeds it as on a first start.
seed="$run/seed.ldif"
if [ -s "$seed" ]; then
  if slapadd -q -f "$conf" -l "$seed"; then
    echo "fleetlab-ldap: starting on ready data ($(grep -c '^dn:' "$seed") entries from $seed)"
  else
    echo "fleetlab-ldap: $seed did not load; starting empty, the sidekick seeds it" >&2
    find /var/lib/ldap -mindepth 1 -delete
  fi
  chown -R openldap:openldap /var/lib/ldap
fi
exec setpriv --reuid=openldap --regid=openldap --init-groups --inh-caps=-all --bounding-set=-all \
  /usr/sbin/slapd -f "$conf" -h "ldap://:1389/ ldapi://${run//\//%2F}%2Fldapi" -d "${FLEETLAB_LDAP_LOGLEVEL:-stats}"
