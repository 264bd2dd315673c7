// The lab's services as Pulumi resources: one LabData per data set (validated when
// the program runs, so a bad edit fails `pulumi preview` before anything changes)
// and one FleetUnit per service/sidekick unit.
import * as pulumi from "@pulumi/pulumi";
import { DATA_SETS, DataSetName } from "../../labdata/keys";
import { DataPaths, loadDataSet } from "../../labdata/load";
import { parseUnitFile, DesiredState } from "../../fleet/unit/unit";
import { serviceUnits, type ServiceImage, type ServiceUnitOverrides } from "../../units/services";
import type { LabUnit } from "../../units/unit";
import { resourceClass, UNTYPED_DYNAMIC } from "../dynamic";
import {
  EtcdAccess,
  FleetApiAccess,
  fleetUnitProvider,
  FleetUnitInputs,
  LabDataInputs,
  labDataProvider,
} from "./providers";

export type { EtcdAccess, FleetApiAccess, FleetApiTcpAccess } from "./providers";
export { fleetApiClient } from "./providers";

// The access to etcd and to the fleet API holds the admin key: encrypted in state.
const LabDataResource = resourceClass<LabDataInputs>({
  module: "services",
  type: "LabData",
  provider: labDataProvider,
  secretOutputs: ["etcd"],
  formerTypes: [UNTYPED_DYNAMIC],
});

const FleetUnitResource = resourceClass<FleetUnitInputs>({
  module: "services",
  type: "FleetUnit",
  provider: fleetUnitProvider,
  secretOutputs: ["api"],
  formerTypes: [UNTYPED_DYNAMIC],
});

export class LabData extends LabDataResource {
  declare readonly hash: pulumi.Output<string>;
  constructor(
    name: string,
    args: {
      set: DataSetName;
      data: string | DataPaths;
      etcd: pulumi.Input<EtcdAccess>;
      /** the set's content hash, when the program has loaded it already (servicesData) */
      hash?: string;
    },
    opts?: pulumi.CustomResourceOptions,
  ) {
    // Throws a DataError (file, key, value, fix) here, at program time.
    const hash = args.hash ?? loadDataSet(args.set, args.data).manifest.hash;
    super(name, { ...args, hash }, opts);
  }
}

/** The text of unit `name` with its image `image` set to `ref`. */
function unitText(
  o: ServiceUnitOverrides | undefined,
  name: string,
  image: ServiceImage,
  ref: string,
): string {
  const units = serviceUnits({ ...o, images: { ...o?.images, [image]: ref } });
  return units.find((u) => u.name === name)!.text;
}

export class FleetUnit extends FleetUnitResource {
  declare readonly text: pulumi.Output<string>;
  constructor(
    name: string,
    args: {
      unitName: string;
      text: pulumi.Input<string>;
      desiredState?: DesiredState;
      api: pulumi.Input<FleetApiAccess>;
    },
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(
      name,
      {
        name: args.unitName,
        text: args.text,
        options: pulumi.output(args.text).apply(parseUnitFile),
        desiredState: args.desiredState ?? "launched",
        api: args.api,
      },
      opts,
    );
  }
}

export interface LabServicesArgs {
  /** The data: each set's path (fleetlab:data), or one directory laid out as data/. */
  data?: DataPaths;
  dataDir?: string;
  /** each set's content hash, when the program has checked the data already */
  hashes?: Record<DataSetName, string>;
  etcd: pulumi.Input<EtcdAccess>;
  fleetApi: pulumi.Input<FleetApiAccess>;
  units?: ServiceUnitOverrides;
  /**
   * Image references that are not known at program time (the lab registry's digests).
   * Each unit waits only for its own image, so a changed image changes only its units.
   */
  images?: Partial<Record<ServiceImage, pulumi.Input<string>>>;
  /**
   * Units of the admin's own (unit files, infra/config/units.ts; or the typed API,
   * units/unit.ts), checked already: one FleetUnit each, beside the services'.
   */
  extraUnits?: LabUnit[];
}

/** Lab data first, then the units: a sidekick that starts finds its data in etcd. */
export class LabServices extends pulumi.ComponentResource {
  readonly data: LabData[];
  readonly units: FleetUnit[];
  readonly extraUnits: FleetUnit[];
  constructor(name: string, args: LabServicesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fleetlab:services:LabServices", name, {}, opts);
    const data = args.data ?? args.dataDir;
    if (data === undefined)
      throw new Error(`LabServices ${name}: no lab data given; pass data (paths) or dataDir`);
    this.data = DATA_SETS.map(
      (set) =>
        new LabData(
          `${name}-data-${set}`,
          { set, data, etcd: args.etcd, hash: args.hashes?.[set] },
          // A component's dependsOn does not reach its children: pass it on, so the
          // data (and the units after it) are created after, and deleted before,
          // what the services run on (the lab's machines).
          { parent: this, dependsOn: opts?.dependsOn },
        ),
    );
    // Rendered once for the names; each unit's text again once its image is known.
    this.units = serviceUnits(args.units).map((u) => {
      const image = args.images?.[u.image];
      const text =
        image === undefined
          ? u.text
          : pulumi.output(image).apply((ref) => unitText(args.units, u.name, u.image, ref));
      return new FleetUnit(
        `${name}-${u.name}`,
        { unitName: u.name, text, api: args.fleetApi },
        { parent: this, dependsOn: this.data },
      );
    });
    // They read no lab data: they wait only for what the services run on.
    this.extraUnits = (args.extraUnits ?? []).map(
      (u) =>
        new FleetUnit(
          `${name}-${u.name}`,
          { unitName: u.name, text: u.text, desiredState: u.desiredState, api: args.fleetApi },
          { parent: this, dependsOn: opts?.dependsOn },
        ),
    );
    this.registerOutputs({});
  }
}
