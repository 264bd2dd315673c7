import { join } from "path";
import { CHUNK_SIZE, contentHash, dataKeys, decodeChunks, encodeDataSet } from "./keys";
import { loadDataSet } from "./load";

describe("data set encoding", () => {
  it("splits large payloads into chunks and joins them back, checking the hash", () => {
    const payload = "x".repeat(CHUNK_SIZE * 2 + 5);
    const e = encodeDataSet("www", "tar.gz+base64", payload);
    expect(e.chunks.length).toBe(3);
    expect(decodeChunks(e.manifest, e.chunks)).toBe(payload);
    expect(() => decodeChunks(e.manifest, e.chunks.slice(0, 2))).toThrow(/hash mismatch/);
  });

  it("keys are versioned by content hash under /fleetlab/data/<set>/", () => {
    const k = dataKeys("dhcp");
    expect(k.current).toBe("/fleetlab/data/dhcp/current");
    expect(k.chunk("abc", 2)).toBe("/fleetlab/data/dhcp/blobs/abc/002");
    expect(contentHash("a")).toBe(contentHash("a"));
    expect(contentHash("a")).not.toBe(contentHash("b"));
  });

  it("loads every repository data set deterministically", () => {
    const dir = join(__dirname, "../data");
    for (const set of ["dhcp", "ldap", "www"] as const) {
      expect(loadDataSet(set, dir).manifest.hash).toBe(loadDataSet(set, dir).manifest.hash);
    }
  });
});
