import { packageBuild } from "../rollup.shared.mjs";

export default packageBuild(import.meta.dirname, { index: "src/index.ts", bench: "src/bench-main.ts" });
