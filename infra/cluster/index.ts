export { Lab, type LabOptions } from "./lab";
export { LabNode, type LabNodeArgs } from "./node";
