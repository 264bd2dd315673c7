// The real systemd adapter: systemd's D-Bus API (org.freedesktop.systemd1) via
// dbus-next. Unit files are written under unitDir, which is the same path on the
// host and in the agent container, then linked as *runtime* units (they vanish on
// reboot, like fleet's, and the agent re-creates them from etcd).
import * as dbus from "dbus-next";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "fs";
import { join } from "path";
import { SystemdAdapter, SystemdUnitState } from "./systemd";

const SYSTEMD = "org.freedesktop.systemd1";
const UNIT_IFACE = "org.freedesktop.systemd1.Unit";
const STOP_WAIT_MS = 10_000;

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

  async load(name: string, contents: string): Promise<void> {
    const path = join(this.unitDir, name);
    writeFileSync(path, contents);
    const m = await this.mgr();
    // runtime=true: link into /run/systemd/system; force=true: replace a stale link
    await m.LinkUnitFiles([path], true, true);
    await m.Reload();
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
    await m.Reload();
  }

  async state(name: string): Promise<SystemdUnitState> {
    const path: string = await (await this.mgr()).LoadUnit(name);
    // Unit object paths are stable; introspecting once per path saves a round trip.
    let props = this.props.get(path);
    if (!props) {
      props = (await this.bus.getProxyObject(SYSTEMD, path)).getInterface(
        "org.freedesktop.DBus.Properties",
      );
      this.props.set(path, props);
    }
    const get = async (p: string) =>
      ((await props!.Get(UNIT_IFACE, p)) as dbus.Variant<string>).value;
    return {
      load: await get("LoadState"),
      active: await get("ActiveState"),
      sub: await get("SubState"),
    };
  }

  async list(): Promise<string[]> {
    return readdirSync(this.unitDir);
  }

  async close(): Promise<void> {
    this.bus.disconnect();
  }
}
