// The environment contract of the fleet agent and the sidekicks on a node: the names of
// the variables they read. The agent (fleet/agent/config.ts) reads them, Ignition writes
// them, the sidekicks read the etcd ones from the node's etcd.env; the names live here only.
export const AGENT_ENV = {
  endpoints: "FLEET_ETCD_ENDPOINTS",
  caFile: "FLEET_ETCD_CAFILE",
  certFile: "FLEET_ETCD_CERTFILE",
  keyFile: "FLEET_ETCD_KEYFILE",
  publicIP: "FLEET_PUBLIC_IP",
  metadata: "FLEET_METADATA",
  machineIDFile: "FLEET_MACHINE_ID_FILE",
  leaseTTL: "FLEET_LEASE_TTL",
  renewMs: "FLEET_RENEW_MS",
  fenceMarginMs: "FLEET_FENCE_MARGIN_MS",
  reconcileMs: "FLEET_RECONCILE_MS",
  unitDir: "FLEET_UNIT_DIR",
  socket: "FLEET_API_SOCKET",
  apiListen: "FLEET_API_LISTEN",
  apiCert: "FLEET_API_CERTFILE",
  apiKey: "FLEET_API_KEYFILE",
  apiCA: "FLEET_API_CAFILE",
  systemd: "FLEET_SYSTEMD",
  recordLog: "FLEET_RECORD_LOG",
  bindsTo: "FLEET_BINDS_TO",
  heartbeatFile: "FLEET_HEARTBEAT_FILE",
  rebalance: "FLEET_REBALANCE",
} as const;
