// The kit every fleetlab dynamic resource is built from: diff rules, the provider,
// the resource class, and the loader of a driver's operations in the provider host.
export * from "./provider";
export * from "./resource";
export { implLoader, loadImpl } from "./load";
