// nginx.conf for the lab's web site. Pure: the www sidekick renders it on the node.

export interface NginxOptions {
  /** Directory shared with the sidekick: pid file and the unpacked sites. */
  runDir: string;
  /** Directory served as the web root (the sidekick's `current` symlink). */
  root: string;
  port: number;
}

/** Renders nginx.conf: one static site, logs to stdout/stderr, /healthz for Docker. */
export function renderNginxConf(o: NginxOptions): string {
  return `# Rendered by the fleetlab www sidekick; do not edit.
daemon off;
worker_processes 1;
pid ${o.runDir}/nginx.pid;
error_log stderr notice;
events { worker_connections 256; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log /dev/stdout;
  sendfile on;
  server_tokens off;
  server {
    listen ${o.port};
    root ${o.root};
    index index.html;
    location = /healthz { access_log off; return 200 "ok\\n"; }
    location / { try_files $uri $uri/ =404; }
  }
}
`;
}
