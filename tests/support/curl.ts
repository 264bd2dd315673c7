// curl's argv for "the HTTP status of GET url, the server's certificate checked against
// the CA in caFile": what the tests' real clients ask a TLS server.
export const curlStatusArgs = (caFile: string, url: string, maxTimeSec = 10): string[] => [
  "-sS",
  ...["--max-time", String(maxTimeSec)],
  ...["--cacert", caFile],
  ...["-o", "/dev/null"],
  ...["-w", "%{http_code}"],
  "--",
  url,
];
