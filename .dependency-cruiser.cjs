/** Import rules for src/, checked by `npm run lint` (type-only imports count too). */
module.exports = {
  forbidden: [
    {
      name: "no-cycles",
      comment: "No module may import itself through others, type imports included.",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    doNotFollow: { path: "node_modules" },
    exclude: { path: "\\.test\\.ts$|\\.contract\\.ts$" },
    enhancedResolveOptions: { extensions: [".ts", ".js"] },
  },
};
