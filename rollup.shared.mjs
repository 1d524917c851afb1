// One rollup recipe for every package: esbuild strips types (tsc -b emits the declarations),
// every bare import stays external so workspace packages are linked, never bundled twice.
// esbuild sees one file at a time, so const enum members from other files are inlined before it.
import esbuild from "rollup-plugin-esbuild";
import { constEnumInliner } from "./tools/const-enum-inliner.mjs";
import { readFileSync } from "node:fs";
import { join } from "node:path";

export function packageBuild(packageDir, inputs = { index: "src/index.ts" }) {
  const pkg = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8"));
  const bin = pkg.bin ? Object.values(pkg.bin) : [];
  return {
    input: Object.fromEntries(Object.entries(inputs).map(([name, file]) => [name, join(packageDir, file)])),
    external: (id) => !id.startsWith(".") && !id.startsWith("/") && !id.startsWith("\0"),
    plugins: [
      constEnumInliner({ root: import.meta.dirname }),
      esbuild({
        target: "node20",
        tsconfig: join(packageDir, "tsconfig.json"),
        sourceMap: true,
      }),
    ],
    output: {
      dir: join(packageDir, "dist"),
      format: "es",
      sourcemap: true,
      entryFileNames: "[name].js",
      chunkFileNames: "chunks/[name]-[hash].js",
      banner: (chunk) => (bin.some((b) => b.endsWith(`${chunk.name}.js`)) ? "#!/usr/bin/env node" : ""),
    },
    onwarn(warning, warn) {
      if (warning.code === "CIRCULAR_DEPENDENCY") return;
      warn(warning);
    },
  };
}
