// stack config `fleetlab:hypervisor` -> HypervisorSettings.
import { fullKey } from "./errors";
import {
  bridgeNameProblem,
  hostPathProblem,
  libvirtNameProblem,
  libvirtUriProblem,
  NameProblem,
} from "./names";
import { FLATCAR_FW_CFG_KEY } from "./defaults";
import { Raw, Reader } from "./read";
import type {
  DirectKernelBoot,
  HypervisorSettings,
  ImageFormat,
  ImageSource,
  LibvirtNetworkMode,
} from "./types";

const K = fullKey("hypervisor");
const LIBVIRT_KEYS = [
  "kind",
  "uri",
  "pool",
  "poolPath",
  "image",
  "ignitionFwCfgKey",
  "domainType",
  "directKernelBoot",
  "networkMode",
  "bridge",
];
const VBOX_KEYS = ["kind", "hostOnlyInterface", "vboxManage", "headless", "image"];
const IMAGE_KEYS = ["path", "url", "sha256", "format"];
const FW_CFG_KEY = /^opt\/[A-Za-z0-9._/-]+$/;

export function parseHypervisor(
  r: Reader,
  raw: unknown,
  stack: string,
): HypervisorSettings | undefined {
  const h = r.requiredObject(
    K,
    raw,
    [...new Set([...LIBVIRT_KEYS, ...VBOX_KEYS])],
    "{kind: libvirt, uri: qemu:///system}",
  );
  if (!h) return undefined;
  const kind = r.oneOf(`${K}.kind`, h.kind, ["libvirt", "virtualbox"] as const);
  if (kind === undefined) return undefined;
  const allowed = kind === "libvirt" ? LIBVIRT_KEYS : VBOX_KEYS;
  for (const k of Object.keys(h)) {
    if (!allowed.includes(k)) {
      r.problems.add(
        `${K}.${k}`,
        h[k],
        `does not apply to kind ${kind}`,
        `remove it; ${kind} takes: ${allowed.join(", ")}`,
      );
    }
  }
  const image = parseImage(
    r,
    h.image,
    kind === "libvirt" ? ["qcow2", "raw"] : ["vdi", "vmdk", "raw"],
  );
  if (kind === "virtualbox") {
    return {
      kind,
      hostOnlyInterface: r.string(`${K}.hostOnlyInterface`, h.hostOnlyInterface, "vboxnet0")!,
      vboxManage: r.string(`${K}.vboxManage`, h.vboxManage, "VBoxManage")!,
      headless: r.boolean(`${K}.headless`, h.headless, true),
      image,
    };
  }
  const uri = r.requiredString(`${K}.uri`, h.uri, "qemu:///system");
  if (uri !== undefined) report(r, "uri", uri, libvirtUriProblem(uri));
  const fwCfg = r.string(`${K}.ignitionFwCfgKey`, h.ignitionFwCfgKey, FLATCAR_FW_CFG_KEY)!;
  if (!FW_CFG_KEY.test(fwCfg)) {
    r.problems.add(
      `${K}.ignitionFwCfgKey`,
      fwCfg,
      "fw_cfg names must start with opt/",
      `use ${FLATCAR_FW_CFG_KEY} (Flatcar) or opt/com.coreos/config`,
    );
  }
  const poolPath = r.string(`${K}.poolPath`, h.poolPath);
  if (poolPath !== undefined)
    report(r, "poolPath", poolPath, hostPathProblem(poolPath, "/var/lib/libvirt/images/fleetlab"));
  const pool = r.string(`${K}.pool`, h.pool, `fleetlab-${stack}`)!;
  report(r, "pool", pool, libvirtNameProblem(pool, `fleetlab-${stack}`));
  const directKernelBoot = parseDirectBoot(r, h.directKernelBoot);
  if (directKernelBoot && image.kind === "flatcar") {
    r.problems.add(
      `${K}.directKernelBoot`,
      h.directKernelBoot,
      "Flatcar images boot through their own bootloader",
      `remove it, or set ${K}.image to a {path} or {url} image without a bootloader`,
    );
  }
  return {
    kind,
    uri: uri ?? "",
    pool,
    ...(poolPath !== undefined && { poolPath }),
    image,
    ignitionFwCfgKey: fwCfg,
    domainType: r.oneOf(`${K}.domainType`, h.domainType, ["auto", "kvm", "qemu"] as const, "auto")!,
    ...(directKernelBoot && { directKernelBoot }),
    network: parseNetworkMode(r, h),
  };
}

function parseNetworkMode(r: Reader, h: Raw): LibvirtNetworkMode {
  const mode = r.oneOf(
    `${K}.networkMode`,
    h.networkMode,
    ["isolated", "nat", "bridge"] as const,
    "isolated",
  )!;
  if (mode !== "bridge") {
    if (h.bridge !== undefined) {
      r.problems.add(
        `${K}.bridge`,
        h.bridge,
        `only applies to networkMode: bridge (it is ${mode})`,
        "remove it or set networkMode: bridge",
      );
    }
    return { mode };
  }
  const bridge = r.requiredString(`${K}.bridge`, h.bridge, "br0");
  if (bridge !== undefined) report(r, "bridge", bridge, bridgeNameProblem(bridge));
  return { mode, bridge: bridge ?? "" };
}

function report(r: Reader, key: string, value: string, p: NameProblem | undefined): void {
  if (p) r.problems.add(`${K}.${key}`, value, p.problem, p.fix);
}

function parseImage(r: Reader, raw: unknown, formats: readonly ImageFormat[]): ImageSource {
  const key = `${K}.image`;
  const img = r.object(key, raw, IMAGE_KEYS);
  if (!img) return { kind: "flatcar" };
  const format = r.oneOf(`${key}.format`, img.format, formats, formats[0])!;
  if ((img.path === undefined) === (img.url === undefined)) {
    r.problems.add(
      key,
      raw,
      "needs exactly one of path or url",
      `set ${key}.path to an image on the hypervisor host, or ${key}.url plus ${key}.sha256; omit ${key} for the Flatcar image`,
    );
    return { kind: "flatcar" };
  }
  if (img.path !== undefined) {
    const path = r.string(`${key}.path`, img.path) ?? "";
    if (!path.startsWith("/"))
      r.problems.add(
        `${key}.path`,
        img.path,
        "must be an absolute path",
        "use an absolute path on the hypervisor host",
      );
    return { kind: "path", path, format };
  }
  const url = r.string(`${key}.url`, img.url) ?? "";
  if (!/^https?:\/\/\S+$/.test(url))
    r.problems.add(`${key}.url`, img.url, "must be an http(s) URL", "use https://...");
  const sha256 = r.requiredString(`${key}.sha256`, img.sha256, "<64 hex digits>") ?? "";
  if (sha256 && !/^[0-9a-f]{64}$/.test(sha256)) {
    r.problems.add(
      `${key}.sha256`,
      img.sha256,
      "must be 64 lower-case hex digits",
      "use the output of sha256sum for the image",
    );
  }
  return { kind: "url", url, sha256, format };
}

function parseDirectBoot(r: Reader, raw: unknown): DirectKernelBoot | undefined {
  const key = `${K}.directKernelBoot`;
  const d = r.object(key, raw, ["kernel", "initrd", "cmdline"]);
  if (!d) return undefined;
  const path = (name: "kernel" | "initrd"): string => {
    const v =
      r.requiredString(
        `${key}.${name}`,
        d[name],
        `/var/lib/fleetlab/${name === "kernel" ? "vmlinuz" : "initrd.img"}`,
      ) ?? "";
    if (v && !v.startsWith("/"))
      r.problems.add(
        `${key}.${name}`,
        v,
        "must be an absolute path",
        "use an absolute path on the hypervisor host",
      );
    return v;
  };
  return {
    kernel: path("kernel"),
    initrd: path("initrd"),
    cmdline: r.string(`${key}.cmdline`, d.cmdline, "")!,
  };
}
