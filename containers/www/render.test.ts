import { renderNginxConf } from "./render";

describe("renderNginxConf", () => {
  it("serves the sidekick's root on the given port with a health endpoint", () => {
    const c = renderNginxConf({ runDir: "/run/w", root: "/run/w/site/current", port: 8080 });
    expect(c).toContain("listen 8080;");
    expect(c).toContain("root /run/w/site/current;");
    expect(c).toContain("location = /healthz");
    expect(c).toContain("pid /run/w/nginx.pid;");
  });
});
