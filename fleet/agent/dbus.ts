// The real systemd adapter: systemd's D-Bus API (org.freedesktop.systemd1) via
// dbus-next. Unit files are written under unitDir, which is the same path on the
// host and in the agent container, then linked as *runtime* units (they vanish on
// reboot, like fleet's, and the agent re-creates them from etcd).
import * as dbus from "dbus-next";
import { randomBytes } from "crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "fs";
import { dirname, join } from "path";
import { SystemdAdapter, SystemdUnitState } from "./systemd";

const SYSTEMD = "org.freedesktop.systemd1";
const UNIT_IFACE = "org.freedesktop.systemd1.Unit";
const STOP_WAIT_MS = 10_000;
const JOURNAL_WAIT_MS = 5_000;
/** journalctl on the host (Flatcar and Debian both have it here) */
const JOURNALCTL = "/usr/bin/journalctl";

export class DbusSystemd implements SystemdAdapter {
  private bus: dbus.MessageBus;
  private manager?: dbus.ClientInterface;
  private props = new Map<string, dbus.ClientInterface>();

  constructor(private unitDir: string) {
    this.bus = dbus.systemBus();
    mkdirSync(unitDir, { recursive: true });
  }

  private async mgr(): Promise<dbus.ClientInterface> {
    if (!this.manager) {
      const obj = await this.bus.getProxyObject(SYSTEMD, "/org/freedesktop/systemd1");
      this.manager = obj.getInterface(`${SYSTEMD}.Manager`);
    }
    return this.manager;
  }

  /**
   * Write the file, link it, and reload systemd only when it must. A daemon-reload
   * re-runs every generator and re-reads every unit, and systemd answers nothing
   * meanwhile: 30 to 50 s on an emulated node (measured with `systemctl daemon-reload`
   * on an e2e node), a stall that held up every unit on the node. A unit systemd does
   * not hold yet, or holds as not-found (a sidekick's BindsTo= names its service before
   * that is loaded), systemd reads on demand, since the link changed a unit directory
   * (systemd 247 and later). Only a unit it holds with older contents needs the reload.
   */
  async load(name: string, contents: string): Promise<void> {
    const path = join(this.unitDir, name);
    writeFileSync(path, contents);
    const m = await this.mgr();
    // runtime=true: link into /run/systemd/system; force=true: replace a stale link
    await m.LinkUnitFiles([path], true, true);
    const fresh =
      (await this.prop<string>(name, "LoadState")) === "loaded" &&
      !(await this.prop<boolean>(name, "NeedDaemonReload"));
    if (!fresh) await m.Reload();
  }

  async start(name: string): Promise<void> {
    await (await this.mgr()).StartUnit(name, "replace");
  }

  /**
   * StopUnit only queues a job; fencing needs the unit actually stopped, so wait
   * (bounded) until systemd reports it inactive or failed. Units that must move
   * fast need a short TimeoutStopSec= (and `docker stop -t N`) — see README.
   */
  async stop(name: string): Promise<void> {
    await (await this.mgr()).StopUnit(name, "replace");
    const end = Date.now() + STOP_WAIT_MS;
    while (Date.now() < end) {
      const { active } = await this.state(name);
      if (active === "inactive" || active === "failed") return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${name} still not stopped ${STOP_WAIT_MS} ms after StopUnit`);
  }

  async unload(name: string): Promise<void> {
    const m = await this.mgr();
    await this.stop(name).catch(() => undefined);
    await m.DisableUnitFiles([name], true).catch(() => undefined);
    rmSync(join(this.unitDir, name), { force: true });
    // No daemon-reload (see load): systemd drops the stopped unit once nothing refers
    // to it, and a later load of the same name finds the new file (or reloads).
  }

  private async unitProps(name: string): Promise<dbus.ClientInterface> {
    const path: string = await (await this.mgr()).LoadUnit(name);
    // Unit object paths are stable; introspecting once per path saves a round trip.
    let props = this.props.get(path);
    if (!props) {
      props = (await this.bus.getProxyObject(SYSTEMD, path)).getInterface(
        "org.freedesktop.DBus.Properties",
      );
      this.props.set(path, props);
    }
    return props;
  }

  private async prop<T>(name: string, p: string, iface = UNIT_IFACE): Promise<T> {
    const props = await this.unitProps(name);
    return ((await props.Get(iface, p)) as dbus.Variant<T>).value;
  }

  /**
   * Every unit's state in one call (ListUnitsByNames), not four per unit: the agent
   * asks each reconcile pass, and each D-Bus call costs PID 1 and dbus-daemon CPU that
   * an emulated node does not have.
   */
  async states(names: string[]): Promise<Map<string, SystemdUnitState>> {
    const out = new Map<string, SystemdUnitState>();
    if (names.length === 0) return out;
    const rows = (await (await this.mgr()).ListUnitsByNames(names)) as string[][];
    for (const [name, , load, active, sub] of rows) out.set(name, { load, active, sub });
    return out;
  }

  /** One unit's state, the same one call (stop() polls it every 50 ms while it waits). */
  async state(name: string): Promise<SystemdUnitState> {
    const st = (await this.states([name])).get(name);
    if (!st) throw new Error(`systemd listed no state for ${name}`);
    return st;
  }

  /** The head of `systemctl status`, from the unit's D-Bus properties. */
  async status(name: string): Promise<string[]> {
    const st = await this.state(name);
    const since = await this.prop<bigint>(name, "StateChangeTimestamp");
    const lines = [
      `* ${name} - ${await this.prop<string>(name, "Description")}`,
      `     Loaded: ${st.load} (${await this.prop<string>(name, "FragmentPath")})`,
      `     Active: ${st.active} (${st.sub})` +
        (since ? ` since ${new Date(Number(since / 1000n)).toISOString()}` : ""),
    ];
    if (name.endsWith(".service")) {
      const pid = await this.prop<number>(name, "MainPID", `${SYSTEMD}.Service`);
      if (pid) lines.push(`   Main PID: ${pid}`);
    }
    return lines;
  }

  /**
   * The unit's last journal lines. The agent may run in a container without the
   * host's journal, so journalctl runs on the host as a transient unit that writes
   * into the run directory the agent shares with the host; bounded in time.
   */
  async journal(name: string, lines: number): Promise<string[]> {
    const dir = join(dirname(this.unitDir), "journal");
    mkdirSync(dir, { recursive: true });
    const id = randomBytes(6).toString("hex");
    const file = join(dir, `${id}.txt`);
    const unit = `fleet-journal-${id}.service`;
    const args = ["journalctl", "--no-pager", "-q", "-o", "short-iso", "-n", String(lines)];
    const m = await this.mgr();
    await m.StartTransientUnit(
      unit,
      "fail",
      [
        ["Type", new dbus.Variant("s", "oneshot")],
        ["RemainAfterExit", new dbus.Variant("b", true)],
        ["StandardOutputFile", new dbus.Variant("s", file)],
        ["ExecStart", new dbus.Variant("a(sasb)", [[JOURNALCTL, [...args, "-u", name], false]])],
      ],
      [],
    );
    try {
      const end = Date.now() + JOURNAL_WAIT_MS;
      for (;;) {
        const { active } = await this.state(unit);
        if (active === "active") break;
        if (active === "failed") throw new Error(`journalctl for ${name} failed on this machine`);
        if (Date.now() > end)
          throw new Error(`journalctl for ${name} gave nothing within ${JOURNAL_WAIT_MS} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return readFileSync(file, "utf8").split("\n").filter(Boolean).slice(-lines);
    } finally {
      rmSync(file, { force: true });
      await m.StopUnit(unit, "replace").catch(() => undefined);
      await m.ResetFailedUnit(unit).catch(() => undefined);
    }
  }

  async list(): Promise<string[]> {
    return readdirSync(this.unitDir);
  }

  async close(): Promise<void> {
    this.bus.disconnect();
  }
}
