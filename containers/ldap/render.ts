// Validated LDAP lab data -> slapd.conf. Pure: the ldap sidekick renders with it on the
// node, from data checked by labdata/ldap/parse.ts.
import type { LdapData } from "../../labdata/ldap/parse";

export interface SlapdOptions {
  /** Database directory (disposable: the sidekick re-seeds it from etcd). */
  dbDir: string;
}

/** The identity of root on the ldapi socket (SASL EXTERNAL): the sidekick. */
export const LDAPI_ROOT_DN = "gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth";

/** Renders slapd.conf for the directory's suffix. */
export function renderSlapdConf(d: LdapData, o: SlapdOptions): string {
  return `# Rendered by the fleetlab ldap sidekick from the lab data in etcd; do not edit.
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
# No pidfile or argsfile: nothing reads them, and without paths of its run directory
# one rendered file serves every replica (hot standby copies it to any of them).
modulepath /usr/lib/ldap
moduleload back_mdb
# Anonymous clients may read (not passwords) and never write: see the ACLs below.

database mdb
maxsize 268435456
suffix "${d.suffix}"
# Only root on the local ldapi socket (the sidekick) manages the directory.
rootdn "${LDAPI_ROOT_DN}"
directory ${o.dbDir}
index objectClass eq
index uid,cn,memberUid eq
access to attrs=userPassword
  by self write
  by anonymous auth
  by * none
access to *
  by * read
`;
}
