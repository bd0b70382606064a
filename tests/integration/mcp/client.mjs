// An MCP client nobody here wrote: the official TypeScript SDK's Client
// and StdioClientTransport drive `python3 -m runner_client.mcp` (or the
// installed `runner-mcp`) against a real runner.  Prints one JSON object
// with what it saw; test_sdk_mcp.py checks it.
//
//   node client.mjs SDK_DIR WORKDIR -- COMMAND [ARGS...]
import { pathToFileURL } from "node:url";
import { join } from "node:path";

const [sdkDir, work, dashdash, command, ...args] = process.argv.slice(2);
if (dashdash !== "--" || !command) {
  console.error("usage: node client.mjs SDK_DIR WORKDIR -- COMMAND [ARGS...]");
  process.exit(2);
}
const esm = join(sdkDir, "node_modules/@modelcontextprotocol/sdk/dist/esm");
const { Client } = await import(pathToFileURL(join(esm, "client/index.js")).href);
const { StdioClientTransport } = await import(pathToFileURL(join(esm, "client/stdio.js")).href);

const text = (r) => r.content.filter((c) => c.type === "text").map((c) => c.text).join("");
const out = {};
const transport = new StdioClientTransport({ command, args, env: process.env, stderr: "inherit" });
const client = new Client({ name: "runner-mcp-test", version: "1.0.0" });
await client.connect(transport);
out.server = client.getServerVersion();
out.capabilities = client.getServerCapabilities();
out.tools = (await client.listTools()).tools.map((t) => ({
  name: t.name, required: t.inputSchema.required ?? [], description: t.description,
}));

const call = async (name, a) => {
  const r = await client.callTool({ name, arguments: a });
  return { text: text(r), isError: r.isError ?? false };
};
out.exec = await call("sandbox_exec", { command: `mkdir -p ${work} && cd ${work} && echo hello-mcp` });
out.write = await call("sandbox_write_file", { path: `${work}/app.py`, content: "x = 1\nprint(x)\nx = 1\n" });
out.read = await call("sandbox_read_file", { path: `${work}/app.py` });
out.editNotUnique = await call("sandbox_edit_file", { path: `${work}/app.py`, old_string: "x = 1", new_string: "x = 2" });
out.edit = await call("sandbox_edit_file", { path: `${work}/app.py`, old_string: "x = 1\nprint", new_string: "x = 2\nprint" });
out.run = await call("sandbox_exec", { command: "python3 app.py 2>/dev/null || sed -n 1p app.py" });
out.readAfter = await call("sandbox_read_file", { path: `${work}/app.py`, offset: 1, limit: 1 });

// Cancellation: the SDK sends notifications/cancelled when the signal aborts.
const ac = new AbortController();
const started = Date.now();
const slow = client.callTool({ name: "sandbox_exec", arguments: { command: "sleep 100" } },
  undefined, { signal: ac.signal }).then(() => "answered", (e) => "rejected: " + e.message);
setTimeout(() => ac.abort("test cancels"), 500);
out.cancelled = await slow;
// The runner got CANCEL: the session is free again (no E_BUSY).
let after;
for (let i = 0; i < 100; i++) {
  after = await call("sandbox_exec", { command: "echo free" });
  if (!after.isError) break;
  await new Promise((res) => setTimeout(res, 100));
}
out.afterCancel = after;
out.cancelMs = Date.now() - started;
out.ping = await client.ping();
await client.close();
console.log(JSON.stringify(out));
