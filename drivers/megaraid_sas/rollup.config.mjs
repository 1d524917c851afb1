import { packageBuild } from "../../rollup.shared.mjs";

export default packageBuild(import.meta.dirname);
