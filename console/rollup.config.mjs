import { packageBuild } from "../rollup.shared.mjs";

export default packageBuild(import.meta.dirname, { index: "src/index.ts", bin: "src/bin.ts" });
