// etcd key layout of the lab data (beside the fleet registry's /fleetlab/fleet/).
// A data set is stored under its content hash and a `current` key points at the
// hash in force: writers put the blob first and flip `current` last, so a watcher
// never reads half a data set, and an unchanged data set rewrites nothing.
//
//   /fleetlab/data/<set>/current            -> <hash>
//   /fleetlab/data/<set>/blobs/<hash>       -> manifest JSON {hash, encoding, size, chunks}
//   /fleetlab/data/<set>/blobs/<hash>/<nnn> -> chunk nnn of the payload
//
// Payloads are chunked because etcd refuses values over ~1.5 MiB by default; web
// content travels as one tar.gz archive (base64 in chunks), never one key per file.
import { createHash } from "crypto";

export const DATA_PREFIX = "/fleetlab/data/";
/** 512 KiB of base64 per key: well below etcd's default request limit. */
export const CHUNK_SIZE = 512 * 1024;

export type DataSetName = "dhcp" | "www" | "ldap";
export const DATA_SETS: readonly DataSetName[] = ["dhcp", "www", "ldap"];

export const dataKeys = (set: string) => ({
  prefix: `${DATA_PREFIX}${set}/`,
  current: `${DATA_PREFIX}${set}/current`,
  blobsPrefix: `${DATA_PREFIX}${set}/blobs/`,
  manifest: (hash: string) => `${DATA_PREFIX}${set}/blobs/${hash}`,
  chunk: (hash: string, i: number) =>
    `${DATA_PREFIX}${set}/blobs/${hash}/${String(i).padStart(3, "0")}`,
});

export interface Manifest {
  hash: string;
  /** "json" for structured data sets, "tar.gz+base64" for web content. */
  encoding: "json" | "tar.gz+base64";
  size: number;
  chunks: number;
}

/** A data set ready to be written: its payload text and its content hash. */
export interface EncodedDataSet {
  set: DataSetName;
  manifest: Manifest;
  chunks: string[];
}

export function contentHash(payload: string): string {
  return createHash("sha256").update(payload).digest("hex").slice(0, 20);
}

export function encodeDataSet(
  set: DataSetName,
  encoding: Manifest["encoding"],
  payload: string,
): EncodedDataSet {
  const chunks: string[] = [];
  for (let i = 0; i < payload.length; i += CHUNK_SIZE)
    chunks.push(payload.slice(i, i + CHUNK_SIZE));
  if (chunks.length === 0) chunks.push("");
  const hash = contentHash(payload);
  return { set, manifest: { hash, encoding, size: payload.length, chunks: chunks.length }, chunks };
}

/** Joins chunks back and checks them against the manifest's hash. */
export function decodeChunks(manifest: Manifest, chunks: string[]): string {
  const payload = chunks.join("");
  if (payload.length !== manifest.size || contentHash(payload) !== manifest.hash) {
    throw new Error(
      `data blob ${manifest.hash}: ${chunks.length}/${manifest.chunks} chunks, ${payload.length}/${manifest.size} bytes, hash mismatch; rewrite it with pulumi up`,
    );
  }
  return payload;
}
