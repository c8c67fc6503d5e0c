// The sample service: answers with the version and commit baked into its image,
// so a request shows which release is running.
const http = require("node:http");

const port = Number(process.env.PORT ?? 8080);
const release = {
  version: process.env.RELEASE_VERSION ?? "unknown",
  revision: process.env.RELEASE_REVISION ?? "unknown",
};

http
  .createServer((req, res) => {
    const body = req.url === "/healthz" ? { ok: true } : release;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(body) + "\n");
  })
  .listen(port, () => console.log(`listening on ${port}`));
