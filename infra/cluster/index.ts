export { Lab } from "./lab";
export { LabNode, type LabNodeArgs } from "./node";
