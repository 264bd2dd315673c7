// The provider half of the kit every fleetlab dynamic resource is built from: a diff
// rule per input, in a table the compiler checks against the inputs' type, and one
// provider shape that keeps create, update and delete to the resource's own work.
import type * as pulumi from "@pulumi/pulumi";

/** A dynamic resource's inputs or outputs, as the providers see them. */
export type Props = Record<string, unknown>;

/**
 * What a change to one input does: `replace` makes a new object, `update` changes it in
 * place, `ignore` is no change of the object at all (how to reach it, or a value that
 * another input stands for).
 */
export type DiffRule = "replace" | "update" | "ignore";

/**
 * One rule for every input, optional ones included: an input added to `P` without a
 * rule does not compile, and neither does a rule for a key `P` does not have.
 */
export type DiffRules<P> = { readonly [K in keyof P]-?: DiffRule };

/**
 * The engine's answer for `olds` -> `news` under `rules`, comparing values deeply (by
 * JSON). `deleteBeforeReplace` is for an object whose name or address is fixed, so old
 * and new cannot exist side by side.
 */
export function diffByRules<P extends object>(
  rules: DiffRules<P>,
  olds: object,
  news: object,
  deleteBeforeReplace: boolean,
): { changes: boolean; replaces: string[]; deleteBeforeReplace: boolean } {
  const [o, n] = [olds as Props, news as Props];
  const changed = Object.keys(rules).filter(
    (k) => JSON.stringify(o[k]) !== JSON.stringify(n[k]),
  ) as (keyof P & string)[];
  return {
    changes: changed.some((k) => rules[k] !== "ignore"),
    replaces: changed.filter((k) => rules[k] === "replace"),
    deleteBeforeReplace,
  };
}

/** A dynamic resource's provider, in the resource's own terms. */
export interface ProviderSpec<P extends object, S extends object> {
  rules: DiffRules<P>;
  deleteBeforeReplace: boolean;
  /** The resource's id, from its inputs and what `create` returned. */
  idOf: (inputs: P, state: S) => string;
  /** Makes the object; what it returns is kept in state beside the inputs. */
  create: (inputs: P) => Promise<S>;
  /** Applies a change of `update` inputs; without it, such a change is recorded only. */
  update?: (olds: P & S, news: P) => Promise<unknown>;
  /**
   * An update that makes a new created part (a re-push gives a new digest); what it
   * returns replaces the state `create` returned. Takes the place of `update`.
   */
  recreate?: (olds: P & S, news: P) => Promise<S>;
  /**
   * Why the object is no longer what state says (a process that died, a manifest the
   * registry lost), or undefined. Asked on every diff with no input change; an answer
   * makes the diff an update, so `preview` shows it and `up` repairs it.
   */
  drifted?: (olds: P & S) => Promise<string | undefined>;
  delete?: (olds: P & S) => Promise<unknown> | void;
  /** Inputs never written to state (secrets that another input stands for). */
  notInState?: readonly (keyof P & string)[];
}

/**
 * The provider of `spec`. State is the inputs (less `notInState`) plus what `create`
 * returned; an update keeps that created part and takes the new inputs.
 */
export function dynamicProvider<P extends object, S extends object>(
  spec: ProviderSpec<P, S>,
): pulumi.dynamic.ResourceProvider<P, P & S> {
  const inState = (inputs: P): Props => {
    const out: Props = { ...(inputs as Props) };
    for (const k of spec.notInState ?? []) delete out[k];
    return out;
  };
  const created = (olds: P & S): Props =>
    Object.fromEntries(Object.entries(olds).filter(([k]) => !(k in spec.rules)));
  return {
    async create(inputs) {
      const state = await spec.create(inputs);
      return { id: spec.idOf(inputs, state), outs: { ...inState(inputs), ...state } as P & S };
    },
    async diff(_id, olds, news) {
      const d = diffByRules(spec.rules, olds, news, spec.deleteBeforeReplace);
      if (d.changes || !spec.drifted) return d;
      return (await spec.drifted(olds)) === undefined ? d : { ...d, changes: true };
    },
    async update(_id, olds, news) {
      if (spec.recreate) {
        const state = await spec.recreate(olds, news);
        return { outs: { ...inState(news), ...state } as P & S };
      }
      await spec.update?.(olds, news);
      return { outs: { ...created(olds), ...inState(news) } as P & S };
    },
    async delete(_id, olds) {
      await spec.delete?.(olds);
    },
  };
}
