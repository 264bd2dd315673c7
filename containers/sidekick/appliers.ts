// What each sidekick does with a new data set: render the daemon's files into the
// directory it shares with the service container, then make the daemon use them
// without restarting it (Kea config-reload, nginx SIGHUP, LDAP ldapmodify). The
// render half alone is hot standby's warm copy (WARM_RENDERERS): the same files, kept
// ready on a machine that does not run the service, touching no daemon.
import { execFileSync, spawnSync } from "child_process";
import { mkdirSync, readdirSync, rmSync, symlinkSync, renameSync } from "fs";
import { networkInterfaces } from "os";
import { dirname, join } from "path";
import { InterfaceTable, resolveKeaInterfaces } from "../dhcp/interfaces";
import { parseDhcpData } from "../../labdata/dhcp/parse";
import { renderKeaConfig } from "../dhcp/render";
import { diffEntries, parseLdif, writeLdif } from "../../labdata/ldap/ldif";
import { directoryEntries, LdapData } from "../../labdata/ldap/parse";
import { renderSlapdConf } from "../ldap/render";
import { unpackSite } from "../../labdata/www/site";
import { renderNginxConf } from "../www/render";
import { writeIfChanged } from "./files";
import { keaCommandWhenUp } from "./kea";
import { reloadNginx } from "./nginx";

export interface ApplyContext {
  /** The shared directory as the sidekick sees it. */
  hostDir: string;
  /** The same directory as the service container sees it (paths inside configs). */
  containerDir: string;
  /** DHCP: interfaces Kea listens on; `auto` = those with an address in the data's subnet. */
  interfaces: string[];
  /** DHCP: the machine's interfaces for `auto` (default os.networkInterfaces; tests pass a table). */
  networkInterfaces?: () => InterfaceTable;
  /** WWW: port nginx listens on inside the container. */
  port: number;
  /** WWW: PID of the nginx master as the sidekick sees it (shared PID namespace). */
  nginxMaster: () => number;
  log: (msg: string) => void;
}

export type Applier = (payload: string, hash: string, ctx: ApplyContext) => Promise<void>;

/** Kea's config for the data, written; what it holds, for the log. */
function renderDhcp(payload: string, hash: string, ctx: ApplyContext): string {
  const data = parseDhcpData(payload, `etcd blob ${hash}`);
  // Resolved on every render, not once at start: the subnet comes with the data, and
  // the LAN address may appear after the sidekick started (a failed apply is retried).
  const interfaces = resolveKeaInterfaces(
    ctx.interfaces,
    data.subnet,
    (ctx.networkInterfaces ?? networkInterfaces)(),
  );
  const conf = renderKeaConfig(data, { runDir: ctx.containerDir, interfaces });
  writeIfChanged(join(ctx.hostDir, "kea-dhcp4.conf"), conf);
  return `${data.reservations.length} reservations on ${interfaces.join(",")}`;
}

export const applyDhcp: Applier = async (payload, hash, ctx) => {
  const what = renderDhcp(payload, hash, ctx);
  // Reload even when the file was unchanged: a restarted Kea may still run its
  // placeholder config, and config-reload is cheap and idempotent.
  const answer = await keaCommandWhenUp(
    join(ctx.hostDir, "kea4-ctrl.sock"),
    "config-reload",
    ctx.log,
  );
  if (answer.result !== 0)
    throw new Error(
      `kea config-reload of ${hash} failed: ${answer.text ?? JSON.stringify(answer)}`,
    );
  ctx.log(`dhcp ${hash}: ${what}, Kea reloaded`);
};

/** nginx.conf that nginx is known to run, per shared directory. */
const reloaded = new Map<string, string>();

/** The site unpacked and flipped to, and nginx.conf written; returns that config. */
function renderWww(payload: string, hash: string, ctx: ApplyContext): string {
  const sites = join(ctx.hostDir, "site");
  const target = join(sites, hash);
  mkdirSync(sites, { recursive: true });
  const staging = `${target}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  for (const f of unpackSite(Buffer.from(payload, "base64"))) {
    mkdirSync(dirname(join(staging, f.path)), { recursive: true });
    writeIfChanged(join(staging, f.path), f.data);
  }
  rmSync(target, { recursive: true, force: true });
  renameSync(staging, target);
  // Flip `current` atomically (a relative link resolves on both sides of the mount);
  // nginx resolves the root per request, so new pages are served without a reload.
  const link = join(sites, `current.tmp-${process.pid}`);
  rmSync(link, { force: true });
  symlinkSync(hash, link);
  renameSync(link, join(sites, "current"));
  for (const old of readdirSync(sites)) {
    if (old !== hash && old !== "current")
      rmSync(join(sites, old), { recursive: true, force: true });
  }
  const conf = renderNginxConf({
    runDir: ctx.containerDir,
    root: `${ctx.containerDir}/site/current`,
    port: ctx.port,
  });
  writeIfChanged(join(ctx.hostDir, "nginx.conf"), conf);
  return conf;
}

export const applyWww: Applier = async (payload, hash, ctx) => {
  const conf = renderWww(payload, hash, ctx);
  // Reload when this sidekick has not yet seen nginx take this config (also after a
  // sidekick restart, or after a reload that failed), never for content alone.
  if (reloaded.get(ctx.hostDir) !== conf) {
    await reloadNginx(ctx.nginxMaster());
    reloaded.set(ctx.hostDir, conf);
  }
  ctx.log(`www ${hash}: site unpacked`);
};

/** ldapi URL of the socket in the shared directory. */
/**
 * Bounds for the LDAP client tools the sidekick runs. Generous on purpose: on an
 * emulated (TCG) lab VM merely starting ldapsearch took longer than the 5 s this
 * once allowed, so every probe was killed and the directory was never seeded.
 */
const CLIENT_TIMEOUT_MS = 60_000;
const LDAPI_WAIT_MS = 5 * 60_000;

export const ldapiUrl = (dir: string) => `ldapi://${encodeURIComponent(join(dir, "ldapi"))}`;

/** Current entries below the suffix, as root over ldapi (empty when the suffix is not there yet). */
function currentEntries(url: string, suffix: string): string {
  const r = spawnSync(
    "ldapsearch",
    [
      "-Q",
      "-LLL",
      "-Y",
      "EXTERNAL",
      "-H",
      url,
      "-o",
      "ldif-wrap=no",
      "-b",
      suffix,
      "(objectClass=*)",
      "*",
    ],
    { encoding: "utf8", timeout: CLIENT_TIMEOUT_MS },
  );
  if (r.status === 32) return ""; // No such object: a fresh, empty database
  if (r.status !== 0)
    throw new Error(`ldapsearch on ${url} failed (${r.status}): ${r.stderr.trim()}`);
  return r.stdout;
}

async function waitForLdapi(url: string, log: (m: string) => void): Promise<void> {
  const deadline = Date.now() + LDAPI_WAIT_MS;
  for (let i = 0; Date.now() < deadline; i++) {
    const r = spawnSync(
      "ldapsearch",
      ["-x", "-LLL", "-H", url, "-s", "base", "-b", "", "namingContexts"],
      { timeout: CLIENT_TIMEOUT_MS },
    );
    if (r.status === 0) return;
    if (i === 0) log("ldap: waiting for slapd on the ldapi socket");
    await new Promise((res) => setTimeout(res, 500));
  }
  throw new Error(
    `slapd did not answer on ${url} within ${LDAPI_WAIT_MS / 1000} s; check the ldap container's log`,
  );
}

/** The directory as slapd's container loads it before slapd starts (containers/ldap/entrypoint.sh). */
export const SEED_LDIF = "seed.ldif";

/**
 * seed.ldif and slapd.conf written, the seed first: slapd starts once the conf is
 * there. The seed holds password hashes: root's alone (0600; the entrypoint loads it
 * as root).
 */
function renderLdap(payload: string, ctx: ApplyContext): LdapData {
  const data = JSON.parse(payload) as LdapData;
  // In the data's order: slapadd (OpenLDAP 2.5) takes a child before its parent.
  writeIfChanged(join(ctx.hostDir, SEED_LDIF), writeLdif(directoryEntries(data)), 0o600);
  // slapd reads slapd.conf only at start; the container waits for this file.
  const conf = renderSlapdConf(data, { dbDir: "/var/lib/ldap" });
  if (writeIfChanged(join(ctx.hostDir, "slapd.conf"), conf))
    ctx.log("ldap: slapd.conf written (used at slapd start)");
  return data;
}

export const applyLdap: Applier = async (payload, hash, ctx) => {
  const data = renderLdap(payload, ctx);
  const url = ldapiUrl(ctx.hostDir);
  await waitForLdapi(url, ctx.log);
  const changes = diffEntries(
    parseLdif(currentEntries(url, data.suffix), "ldapsearch"),
    directoryEntries(data),
  );
  if (changes) {
    execFileSync("ldapmodify", ["-Q", "-Y", "EXTERNAL", "-H", url], {
      input: changes,
      timeout: 2 * CLIENT_TIMEOUT_MS,
      stdio: ["pipe", "ignore", "pipe"],
    });
  }
  ctx.log(`ldap ${hash}: ${changes ? changes.split("\n\n").length : 0} change records applied`);
};

export const APPLIERS: Record<string, Applier> = {
  dhcp: applyDhcp,
  www: applyWww,
  ldap: applyLdap,
};

/**
 * Hot standby, its data half: the render alone, into a directory of its own on every
 * machine that could run the service (units/services.ts, warmUnits). The service's
 * unit copies it into its run directory before the daemon starts, so a moved daemon
 * starts on the data instead of waiting for its sidekick to start and render. It
 * touches no daemon, so a warm copy can never serve.
 */
export const WARM_RENDERERS: Record<string, Applier> = {
  dhcp: async (payload, hash, ctx) =>
    ctx.log(`warm dhcp ${hash}: ${renderDhcp(payload, hash, ctx)}`),
  www: async (payload, hash, ctx) => {
    renderWww(payload, hash, ctx);
    ctx.log(`warm www ${hash}: site unpacked`);
  },
  ldap: async (payload, hash, ctx) => {
    renderLdap(payload, ctx);
    ctx.log(`warm ldap ${hash}: ${SEED_LDIF} and slapd.conf written`);
  },
};
