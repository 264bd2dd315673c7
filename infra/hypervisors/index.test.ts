import type { HypervisorKind } from "../config/types";
import { DRIVERS, driverFor } from "./index";
import { driver as libvirt } from "./libvirt";
import { driver as virtualbox } from "./virtualbox";

describe("the driver map", () => {
  it.each([
    ["libvirt", libvirt],
    ["virtualbox", virtualbox],
  ] as const)("gives kind %s its own driver", (kind, driver) => {
    expect(driverFor(kind)).toBe(driver);
    expect(driver.kind).toBe(kind);
  });

  it("has a driver of the same kind under every key", () => {
    for (const [kind, driver] of Object.entries(DRIVERS)) expect(driver.kind).toBe(kind);
    expect(Object.keys(DRIVERS).sort()).toEqual<HypervisorKind[]>(["libvirt", "virtualbox"]);
  });
});
