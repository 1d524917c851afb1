import { afterEach, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { rollup } from "rollup";
import esbuild from "rollup-plugin-esbuild";
import { constEnumInliner, createConstEnumInliner } from "./const-enum-inliner.mjs";
import { lowAndMid, shifted, top } from "./fixtures/const-enum/user.ts";

const CONSTANTS = `
export const enum Flag { CF = 1 << 0, ZF = 1 << 6, PG = 1 << 31, NEXT }
export const enum Name { A = "a", B = \`\${A}b\` }
export enum Plain { X = 5 }
export const EXTRA = 1;
`;

const dirs = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A scratch project; returns its root and a function that inlines one of its files. */
function project(files) {
  const root = mkdtempSync(join(tmpdir(), "const-enum-inliner-"));
  dirs.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  const inliner = createConstEnumInliner({ root });
  const inline = (path, text = readFileSync(join(root, path), "utf8")) => inliner.transform(text, join(root, path));
  return { root, inliner, inline };
}

describe("const enum inliner", () => {
  it("replaces members of an imported const enum and records the declaring file", () => {
    const { root, inline } = project({
      "src/constants.ts": CONSTANTS,
      "src/user.ts": `import { Flag, Name } from "./constants.js";\nexport const a = x & Flag.CF | Flag["ZF"];\nexport const s = Name.B + Flag.NEXT;\n`,
    });
    const result = inline("src/user.ts");
    expect(result.code).toContain("export const a = x & 1 | 64;");
    expect(result.code).toContain('export const s = "ab" + (-2147483647);');
    expect(result.dependencies).toEqual([join(root, "src/constants.ts")]);
    expect(result.inlined).toBe(4);
  });

  it("follows aliased imports, namespace imports and re-exports", () => {
    const { root, inline } = project({
      "src/constants.ts": CONSTANTS,
      "src/index.ts": `export { Flag as Flags } from "./constants.js";\nexport * from "./more.js";\nexport * as cpu from "./constants.js";\n`,
      "src/more.ts": `import { Flag } from "./constants.js";\nexport { Flag as MoreFlag };\n`,
      "src/user.ts": [
        `import { Flag as F } from "./constants.js";`,
        `import * as C from "./constants.js";`,
        `import { Flags, MoreFlag, cpu } from "./index.js";`,
        `export const values = [F.ZF, C.Flag.CF, Flags.ZF, MoreFlag.CF, cpu.Flag.ZF, C.EXTRA];`,
      ].join("\n"),
    });
    const result = inline("src/user.ts");
    expect(result.code).toContain("export const values = [64, 1, 64, 1, 64, C.EXTRA];");
    // A changed re-export has to re-run the transform in watch mode as much as a changed value.
    expect(result.dependencies.sort()).toEqual(["constants.ts", "index.ts", "more.ts"].map((file) => join(root, "src", file)));
  });

  it("leaves a shadowed name and a regular enum alone", () => {
    const { inline } = project({
      "src/constants.ts": CONSTANTS,
      "src/user.ts": [
        `import { Flag, Plain } from "./constants.js";`,
        `export function param(Flag: { CF: number }) { return Flag.CF; }`,
        `export function block() { { const Flag = { CF: 7 }; use(Flag.CF); } return Flag.CF; }`,
        `export function hoisted() { if (ok) { var Flag = { ZF: 9 }; } return Flag.ZF; }`,
        `export function caught() { try { boom(); } catch (Flag) { return Flag.CF; } }`,
        `export function destructured({ Flag }: any) { return Flag.CF; }`,
        `export const expr = function Flag() { return Flag.CF; };`,
        `export const loop = () => { for (const Flag of list) use(Flag.ZF); return Flag.ZF; };`,
        `export class K { m() { class Flag { static CF = 3; } return Flag.CF; } n() { return Flag.CF; } }`,
        `export const plain = Plain.X;`,
        `export const property = other.Flag.CF;`,
      ].join("\n"),
    });
    const lines = inline("src/user.ts").code.split("\n");
    expect(lines[1]).toBe(`export function param(Flag: { CF: number }) { return Flag.CF; }`);
    expect(lines[2]).toBe(`export function block() { { const Flag = { CF: 7 }; use(Flag.CF); } return 1; }`);
    expect(lines[3]).toBe(`export function hoisted() { if (ok) { var Flag = { ZF: 9 }; } return Flag.ZF; }`);
    expect(lines[4]).toBe(`export function caught() { try { boom(); } catch (Flag) { return Flag.CF; } }`);
    expect(lines[5]).toBe(`export function destructured({ Flag }: any) { return Flag.CF; }`);
    expect(lines[6]).toBe(`export const expr = function Flag() { return Flag.CF; };`);
    expect(lines[7]).toBe(`export const loop = () => { for (const Flag of list) use(Flag.ZF); return 64; };`);
    expect(lines[8]).toBe(`export class K { m() { class Flag { static CF = 3; } return Flag.CF; } n() { return 1; } }`);
    expect(lines[9]).toBe(`export const plain = Plain.X;`);
    expect(lines[10]).toBe(`export const property = other.Flag.CF;`);
  });

  it("inlines the file's own const enums, keeps expressions well formed and types untouched", () => {
    const { inline } = project({
      "src/user.ts": [
        `const enum Local { A = 2, B = A << 2, C = Local.B | 1, D = -1 }`,
        `export const text = Local.B.toString() + (1 - Local.D);`,
        `export const value: Local.A = Local.A;`,
        `export function f(x: number) { return x-Local.D; }`,
      ].join("\n"),
    });
    const code = inline("src/user.ts").code;
    expect(code).toContain("export const text = (8).toString() + (1 - (-1));");
    expect(code).toContain("export const value: Local.A = 2;");
    expect(code).toContain("return x-(-1);");
  });

  it("evaluates members that refer to another file's const enum", () => {
    const { inline } = project({
      "src/constants.ts": CONSTANTS,
      "src/derived.ts": `import { Flag } from "./constants.js";\nexport const enum Mask { BOTH = Flag.CF | Flag.ZF, NEXT }\n`,
      "src/user.ts": `import { Mask } from "./derived.js";\nexport const m = [Mask.BOTH, Mask.NEXT];\n`,
    });
    expect(inline("src/user.ts").code).toContain("export const m = [65, 66];");
  });

  it("reaches a workspace package through its vmk-source export", () => {
    const { root, inline } = project({
      "pkg/package.json": JSON.stringify({ name: "@t/pkg", exports: { ".": { types: "./dist/index.d.ts", "vmk-source": "./src/index.ts", default: "./dist/index.js" } } }),
      "pkg/src/index.ts": `export * from "./constants.js";\n`,
      "pkg/src/constants.ts": CONSTANTS,
      "app/src/user.ts": `import { Flag } from "@t/pkg";\nexport const z = Flag.ZF;\n`,
    });
    mkdirSync(join(root, "node_modules/@t"), { recursive: true });
    symlinkSync(join(root, "pkg"), join(root, "node_modules/@t/pkg"));
    expect(inline("app/src/user.ts").code).toContain("export const z = 64;");
  });

  it("picks up a changed value, a new const enum and a new file after invalidate", () => {
    const { root, inliner, inline } = project({
      "src/constants.ts": CONSTANTS,
      "src/user.ts": [
        `import { Flag } from "./constants.js";`,
        `import { Late } from "./late.js";`,
        `import { Newer } from "./newer.js";`,
        `export const v = [Flag.ZF, Late.ONE, Newer.TWO];`,
      ].join("\n"),
      "src/late.ts": `export const LATE = 1;\n`,
    });
    expect(inline("src/user.ts").code).toContain("[64, Late.ONE, Newer.TWO]");
    writeFileSync(join(root, "src/constants.ts"), CONSTANTS.replace("1 << 6", "1 << 7"));
    writeFileSync(join(root, "src/late.ts"), `export const enum Late { ONE = 1 }\n`);
    writeFileSync(join(root, "src/newer.ts"), `export const enum Newer { TWO = 2 }\n`);
    for (const file of ["constants.ts", "late.ts", "newer.ts"]) inliner.invalidate(join(root, "src", file));
    expect(inline("src/user.ts").code).toContain("[128, 1, 2]");
  });

  it("returns nothing for a file without inlinable accesses", () => {
    const { inline } = project({
      "src/constants.ts": CONSTANTS,
      "src/user.ts": `import { Plain } from "./constants.js";\nexport const Flag = Plain.X;\n`,
    });
    expect(inline("src/user.ts")).toBeNull();
  });

  it("maps the tokens after an edit back to their original columns", () => {
    const source = `import { Flag } from "./constants.js";\nexport const a = Flag.ZF + later;\n  const b = 1;\n`;
    const { inline } = project({ "src/constants.ts": CONSTANTS, "src/user.ts": source });
    const { code, map } = inline("src/user.ts");
    const generated = code.split("\n")[1];
    const segments = decodeMappings(map.mappings)[1];
    const at = (column) => segments.find((s) => s.generated === column);
    expect(at(generated.indexOf("64"))).toMatchObject({ line: 1, column: source.split("\n")[1].indexOf("Flag") });
    expect(at(generated.indexOf("later"))).toMatchObject({ line: 1, column: source.split("\n")[1].indexOf("later") });
    expect(decodeMappings(map.mappings)[2].find((s) => s.generated === 8)).toMatchObject({ line: 2, column: 8 });
  });

  it("works as a rollup plugin ahead of esbuild", async () => {
    const { root } = project({
      "src/constants.ts": CONSTANTS,
      "src/index.ts": `import { Flag as F } from "./constants.js";\nexport function zf(x: number): number { return x & F.ZF; }\n`,
    });
    const bundle = await rollup({ input: join(root, "src/index.ts"), plugins: [constEnumInliner({ root }), esbuild({ target: "node20" })] });
    const { output } = await bundle.generate({ format: "es", sourcemap: true });
    await bundle.close();
    expect(output[0].code).toContain("return x & 64;");
    expect(output[0].code).not.toMatch(/\bF(lag)?\.ZF/);
  });

  it("is in vitest's transform chain", () => {
    expect(lowAndMid(0xff)).toBe(65);
    expect(shifted(1)).toBe(8);
    expect(top()).toBe(-2147483648);
    expect(lowAndMid.toString()).not.toMatch(/\.(LOW|MID)\b/);
    expect(shifted.toString()).not.toMatch(/\.SHIFT\b/);
  });
});

/** The source map's segments, per generated line, with absolute columns. */
function decodeMappings(mappings) {
  const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  let line = 0;
  let column = 0;
  return mappings.split(";").map((group) => {
    let generated = 0;
    return group
      .split(",")
      .filter(Boolean)
      .map((segment) => {
        const fields = [];
        let value = 0;
        let shift = 0;
        for (const ch of segment) {
          const digit = BASE64.indexOf(ch);
          value += (digit & 31) << shift;
          if (digit & 32) shift += 5;
          else {
            fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
            value = 0;
            shift = 0;
          }
        }
        generated += fields[0];
        line += fields[2];
        column += fields[3];
        return { generated, line, column };
      });
  });
}
