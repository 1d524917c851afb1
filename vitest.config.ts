import { defineConfig } from "vitest/config";

// Workspace packages export their TypeScript sources under the "vmk-source" condition, so tests
// run against src/ and share one instance of every module (tokens, classes) with the code they load.
const conditions = ["vmk-source", "node", "import", "module", "default"];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    include: ["**/src/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    setupFiles: ["./test/setup/reflect.ts"],
    pool: "forks",
    reporters: ["default", "./test/setup/summary-reporter.ts"],
    testTimeout: 60_000,
  },
});
