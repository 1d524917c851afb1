import { defineConfig } from "vitest/config";
import { constEnumInliner } from "./tools/const-enum-inliner.mjs";

// Workspace packages export their TypeScript sources under the "vmk-source" condition, so tests
// run against src/ and share one instance of every module (tokens, classes) with the code they load.
const conditions = ["vmk-source", "node", "import", "module", "default"];

export default defineConfig({
  // The CPU runs from sources under test: const enum members are inlined as in the package build.
  plugins: [constEnumInliner({ root: import.meta.dirname })],
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    include: ["**/src/**/*.test.ts", "test/**/*.test.ts", "tools/**/*.test.mjs"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    setupFiles: ["./test/setup/reflect.ts"],
    pool: "forks",
    reporters: ["default", "./test/setup/summary-reporter.ts"],
    testTimeout: 60_000,
  },
});
