/** Import rules for src/, checked by `npm run lint` (type-only imports count too). See docs/architecture.md. */
module.exports = {
  forbidden: [
    {
      name: "no-cycles",
      comment: "No module may import itself through others.",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "backends-use-their-port",
      comment: "A backend reaches the system through its BackendPort only: never the router, the pipeline, the store, the queue or the server.",
      severity: "error",
      from: { path: "^src/backends/" },
      to: { path: "^src/(router|pipeline|store|queue|server|config|cli|system\\.ts|testing)", pathNot: "^src/config/keys\\.ts$" },
    },
    {
      name: "core-knows-no-gateway",
      comment: "The core works with BackendBase and the port; it never imports one gateway's folder (backends/registry.ts lists them, for the config).",
      severity: "error",
      from: { path: "^src/(router|pipeline|store|queue|server|system\\.ts)" },
      to: { path: "^src/backends/[^/]+/" },
    },
    {
      name: "gateways-stand-alone",
      comment: "A gateway's folder imports no other gateway's; the generic http forms and views, and the database backend, are shared ground.",
      severity: "error",
      from: { path: "^src/backends/([^/]+)/" },
      to: { path: "^src/backends/[^/]+/", pathNot: ["^src/backends/$1/", "^src/backends/http/(form|view)\\.ts$", "^src/backends/database/"] },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    doNotFollow: { path: "node_modules" },
    exclude: { path: "\\.test\\.ts$|\\.contract\\.ts$" },
    enhancedResolveOptions: { extensions: [".ts", ".js"] },
  },
};
