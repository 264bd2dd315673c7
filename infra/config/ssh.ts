// Checks an OpenSSH public key line: known type, base64 blob whose embedded type
// matches, optional comment. Catches the common mistake of pasting a private key.

const KEY_TYPES = new Set([
  "ssh-ed25519",
  "ssh-rsa",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "sk-ssh-ed25519@openssh.com",
  "sk-ecdsa-sha2-nistp256@openssh.com",
]);

/** Returns undefined when `line` is a valid public key, else what is wrong. */
export function sshPublicKeyProblem(line: string): string | undefined {
  if (/PRIVATE KEY/.test(line)) {
    return "this is a PRIVATE key; it must never leave your machine";
  }
  if (/[\r\n]/.test(line.trim())) return "a public key is a single line";
  const [type, blob] = line.trim().split(/\s+/);
  if (!KEY_TYPES.has(type)) {
    return `unknown key type "${type}" (expected one of ${[...KEY_TYPES].join(", ")})`;
  }
  if (!blob || !/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) return "key data is not base64";
  const raw = Buffer.from(blob, "base64");
  // The blob starts with uint32 length + the key type again (RFC 4253 section 6.6).
  const len = raw.length >= 4 ? raw.readUInt32BE(0) : -1;
  if (len < 0 || 4 + len > raw.length || raw.subarray(4, 4 + len).toString("latin1") !== type) {
    return `key data does not encode a ${type} key (truncated or mixed up?)`;
  }
  return undefined;
}
