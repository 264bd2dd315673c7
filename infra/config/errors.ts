// The stack config's own part of the validation kit (labdata/problems.ts): its
// namespace and full key names.

export const CONFIG_NAMESPACE = "fleetlab";

export function fullKey(name: string): string {
  return `${CONFIG_NAMESPACE}:${name}`;
}
