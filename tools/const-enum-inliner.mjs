// Inlines the members of const enums before a per-file transpiler (esbuild in rollup, oxc in
// vitest) sees a module. Those transpilers work under isolatedModules: they cannot know the values
// of an enum declared in another file, so `Flag.CF` stays a property load on an imported object on
// every execution, and oxc does not even inline an enum declared in the same file. On the CPU's hot
// paths that load costs more than the work around it.
//
// The plugin follows each import to the module that declares the enum (through re-exports, `export
// *` and namespace imports; workspace packages through their "vmk-source" export), evaluates the
// members as TypeScript does, and replaces `Enum.Member` / `Enum["Member"]` with the value wherever
// the name still refers to the import or to the file's own top-level const enum. Anything it cannot
// resolve or evaluate is left as it was, which stays correct: under isolatedModules every const
// enum is emitted as an ordinary enum object.
import { createRequire } from "node:module";
import { readFileSync, readdirSync, realpathSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

// require(), not import: an ESM import of the 9 MB CommonJS file first runs Node's export-name
// lexer over all of it, which costs more than the whole transform of a package.
const ts = createRequire(import.meta.url)("typescript");

const SOURCE_FILE = /\.(?:[cm]?ts|tsx)$/;
const DECLARATION_FILE = /\.d\.[cm]?ts$/;
const SKIPPED_DIRS = new Set(["node_modules", "dist", "coverage"]);

/**
 * The rollup plugin (also a vite plugin: `enforce: "pre"` puts it ahead of vite's own TypeScript
 * transform; in rollup it has to be listed before the esbuild plugin).
 *
 * @param {{ root?: string, conditions?: string[] }} [options]
 *   root: the directory whose sources are scanned for const enum names (default: cwd);
 *   conditions: package export conditions that lead to TypeScript sources (default ["vmk-source"]).
 */
export function constEnumInliner(options = {}) {
  const inliner = createConstEnumInliner(options);
  return {
    name: "vmk-const-enum-inliner",
    enforce: "pre",
    transform(code, id) {
      const file = id.split("?", 1)[0];
      if (!SOURCE_FILE.test(file) || DECLARATION_FILE.test(file) || file.includes("/node_modules/") || file.startsWith("\0")) return null;
      const result = inliner.transform(code, file);
      if (!result) return null;
      // Rollup re-runs this transform when a declaring module changes in watch mode.
      if (typeof this?.addWatchFile === "function") for (const dep of result.dependencies) this.addWatchFile(dep);
      return { code: result.code, map: result.map };
    },
    watchChange(id) {
      inliner.invalidate(id.split("?", 1)[0]);
    },
  };
}

/**
 * The transform without a bundler around it.
 *
 * transform(code, file) returns { code, map, dependencies, inlined } or null when nothing was
 * inlined; invalidate(file) forgets what was read from a file that changed.
 */
export function createConstEnumInliner({ root = process.cwd(), conditions = ["vmk-source"] } = {}) {
  /** file → { mtimeMs, size, module } for modules read from disk. */
  const modules = new Map();
  /** file → names that file contributes to the pre-filter. */
  const namesByFile = new Map();
  /** Every name under which a const enum may be imported; undefined until the first scan. */
  let knownNames;
  let prefilter;
  /** Files read while the current transform resolves its imports: its watch dependencies. */
  let touched = new Set();

  function scan() {
    if (prefilter !== undefined) return;
    for (const file of listSources(resolve(root))) {
      try {
        namesByFile.set(file, candidateNames(readFileSync(file, "utf8")));
      } catch {
        // Unreadable or vanished since the listing: it cannot declare anything we can inline.
      }
    }
    rebuildPrefilter();
  }

  function rebuildPrefilter() {
    knownNames = new Set();
    for (const names of namesByFile.values()) for (const name of names) knownNames.add(name);
    prefilter = knownNames.size === 0 ? null : new RegExp(`(?<![\\w$])(?:${[...knownNames].map(escapeRegExp).join("|")})(?![\\w$])`);
  }

  function moduleAt(file) {
    touched.add(file);
    let stat;
    try {
      stat = statSync(file);
    } catch {
      modules.delete(file);
      return undefined;
    }
    const cached = modules.get(file);
    if (cached && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) return cached.module;
    const text = readFileSync(file, "utf8");
    const module = describeModule(parse(file, text, false), file);
    modules.set(file, { mtimeMs: stat.mtimeMs, size: stat.size, module });
    const names = candidateNames(text);
    if (!sameNames(namesByFile.get(file), names)) {
      namesByFile.set(file, names);
      if (prefilter !== undefined) rebuildPrefilter();
    }
    return module;
  }

  const resolver = createResolver(conditions);

  /** What `name` exported by `file` is: { enum } for a const enum, { namespace } for a module namespace. */
  function resolveExport(file, name, seen) {
    const key = `${file}\0${name}`;
    if (seen.has(key)) return undefined;
    seen.add(key);
    const module = moduleAt(file);
    if (!module) return undefined;
    const entry = module.exports.get(name);
    if (entry) {
      if (entry.local !== undefined) return resolveBinding(module, entry.local, seen);
      const target = resolver(file, entry.from);
      if (!target) return undefined;
      return entry.name === "*" ? { namespace: target } : resolveExport(target, entry.name, seen);
    }
    if (name === "default") return undefined;
    for (const from of module.stars) {
      const target = resolver(file, from);
      const found = target && resolveExport(target, name, seen);
      if (found) return found;
    }
    return undefined;
  }

  /** What a top-level name of a module is bound to, if it leads to a const enum or a namespace. */
  function resolveBinding(module, local, seen = new Set()) {
    const declared = module.enums.get(local);
    if (declared) return declared.isConst ? { enum: declared } : undefined;
    const imported = module.imports.get(local);
    if (!imported) return undefined;
    const target = resolver(module.file, imported.from);
    if (!target) return undefined;
    return imported.name === "*" ? { namespace: target } : resolveExport(target, imported.name, seen);
  }

  function enumValues(declared) {
    if (declared.values) return declared.values;
    // A member that refers back into an enum being evaluated is not constant: it gets no value.
    if (declared.evaluating) return undefined;
    declared.evaluating = true;
    try {
      declared.values = evaluateEnum(declared, (name) => {
        const other = resolveBinding(declared.module, name)?.enum;
        return other && other !== declared ? enumValues(other) : undefined;
      });
    } finally {
      declared.evaluating = false;
    }
    return declared.values;
  }

  function transform(code, file) {
    scan();
    if (prefilter === null || !prefilter.test(code)) return null;
    const sourceFile = parse(file, code, true);
    const module = describeModule(sourceFile, file);
    touched = new Set();

    const bindings = new Map();
    for (const [name, imported] of module.imports) {
      // Only a name some module declares or re-exports a const enum under can lead to one; the
      // rest need not be followed (which would parse every module this one imports from).
      if (imported.name !== "*" && !knownNames.has(imported.name)) continue;
      const binding = resolveBinding(module, name);
      if (binding) bindings.set(name, binding);
    }
    for (const [name, declared] of module.enums) if (declared.isConst) bindings.set(name, { enum: declared });
    if (bindings.size === 0) return null;

    const valueOf = (binding, member) => {
      if (!binding.enum) return undefined;
      const values = enumValues(binding.enum);
      return values?.get(member);
    };
    const memberOfNamespace = (namespaceFile, name) => resolveExport(namespaceFile, name, new Set());

    const edits = findInlinableAccesses(sourceFile, bindings, valueOf, memberOfNamespace);
    if (edits.length === 0) return null;
    touched.delete(file);
    return { ...applyEdits(code, edits, file), dependencies: [...touched], inlined: edits.length };
  }

  function invalidate(file) {
    modules.delete(file);
    // A file that appeared or vanished changes where specifiers lead.
    resolver.clear();
    // Values may come from initializers that refer to another file's enum: recompute them all.
    for (const { module } of modules.values()) for (const declared of module.enums.values()) declared.values = undefined;
    if (prefilter === undefined || !SOURCE_FILE.test(file) || DECLARATION_FILE.test(file)) return;
    let names;
    try {
      names = candidateNames(readFileSync(file, "utf8"));
    } catch {
      names = [];
    }
    if (!sameNames(namesByFile.get(file), names)) {
      namesByFile.set(file, names);
      rebuildPrefilter();
    }
  }

  return { transform, invalidate };
}

// ---- reading a module ----------------------------------------------------------------------------

/** Doc comments carry nothing we need, and skipping them makes the parse noticeably cheaper. */
const PARSE_OPTIONS = { languageVersion: ts.ScriptTarget.Latest, jsDocParsingMode: ts.JSDocParsingMode?.ParseNone };

function parse(file, text, setParentNodes) {
  return ts.createSourceFile(file, text, PARSE_OPTIONS, setParentNodes, ts.ScriptKind.TS);
}

/**
 * A name the pre-filter must look for: every const enum's name, and every name something is
 * re-exported as, since one of those has to appear in a file that can reach an enum.
 */
function candidateNames(text) {
  const names = [];
  for (const m of text.matchAll(/\bconst\s+enum\s+([A-Za-z_$][\w$]*)/g)) names.push(m[1]);
  for (const m of text.matchAll(/\bexport\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const alias of m[1].matchAll(/\bas\s+([A-Za-z_$][\w$]*)/g)) names.push(alias[1]);
  }
  for (const m of text.matchAll(/\bexport\s*\*\s*as\s+([A-Za-z_$][\w$]*)/g)) names.push(m[1]);
  return [...new Set(names)].sort();
}

function sameNames(a, b) {
  return a !== undefined && a.length === b.length && a.every((name, i) => name === b[i]);
}

function* listSources(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    if (entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) yield* listSources(path);
    } else if (SOURCE_FILE.test(entry.name) && !DECLARATION_FILE.test(entry.name)) {
      yield path;
    }
  }
}

/** The top level of a module: its enums, imports and exports. */
function describeModule(sourceFile, file) {
  const module = { file, enums: new Map(), imports: new Map(), exports: new Map(), stars: [] };
  for (const statement of sourceFile.statements) {
    if (ts.isEnumDeclaration(statement)) {
      const name = statement.name.text;
      const isConst = hasModifier(statement, ts.SyntaxKind.ConstKeyword);
      let declared = module.enums.get(name);
      if (!declared) {
        declared = { name, isConst, module, declarations: [], values: undefined, evaluating: false };
        module.enums.set(name, declared);
      }
      declared.declarations.push(statement);
      if (hasModifier(statement, ts.SyntaxKind.ExportKeyword)) module.exports.set(name, { local: name });
    } else if (ts.isImportDeclaration(statement)) {
      const clause = statement.importClause;
      if (!clause || clause.isTypeOnly || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
      const from = statement.moduleSpecifier.text;
      if (clause.name) module.imports.set(clause.name.text, { from, name: "default" });
      const bindings = clause.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings)) module.imports.set(bindings.name.text, { from, name: "*" });
      else if (bindings) {
        for (const element of bindings.elements) {
          if (!element.isTypeOnly) module.imports.set(element.name.text, { from, name: (element.propertyName ?? element.name).text });
        }
      }
    } else if (ts.isExportDeclaration(statement)) {
      if (statement.isTypeOnly) continue;
      const from = statement.moduleSpecifier && ts.isStringLiteral(statement.moduleSpecifier) ? statement.moduleSpecifier.text : undefined;
      const clause = statement.exportClause;
      if (!clause) {
        if (from !== undefined) module.stars.push(from);
      } else if (ts.isNamespaceExport(clause)) {
        if (from !== undefined) module.exports.set(clause.name.text, { from, name: "*" });
      } else {
        for (const element of clause.elements) {
          if (element.isTypeOnly) continue;
          const inner = (element.propertyName ?? element.name).text;
          module.exports.set(element.name.text, from === undefined ? { local: inner } : { from, name: inner });
        }
      }
    }
  }
  return module;
}

function hasModifier(node, kind) {
  return (ts.getModifiers(node) ?? []).some((modifier) => modifier.kind === kind);
}

// ---- module resolution ---------------------------------------------------------------------------

/** Maps an import specifier to the TypeScript source it names, as NodeNext plus our export conditions do. */
function createResolver(conditions) {
  const cache = new Map();
  const existing = (path) => {
    try {
      return statSync(path).isFile() ? path : undefined;
    } catch {
      return undefined;
    }
  };
  const sourceFor = (path) => {
    const candidates = [path];
    const js = /\.([cm]?)js$/.exec(path);
    if (js) candidates.unshift(`${path.slice(0, -js[0].length)}.${js[1]}ts`, `${path.slice(0, -js[0].length)}.tsx`);
    else if (!SOURCE_FILE.test(path)) candidates.push(`${path}.ts`, `${path}.tsx`, join(path, "index.ts"));
    for (const candidate of candidates) {
      if (SOURCE_FILE.test(candidate) && !DECLARATION_FILE.test(candidate) && existing(candidate)) return candidate;
    }
    return undefined;
  };
  const packageSource = (fromDir, specifier) => {
    const parts = specifier.split("/");
    const nameLength = specifier.startsWith("@") ? 2 : 1;
    const name = parts.slice(0, nameLength).join("/");
    const subpath = parts.length > nameLength ? `./${parts.slice(nameLength).join("/")}` : ".";
    for (let dir = fromDir; ; dir = dirname(dir)) {
      const packageDir = join(dir, "node_modules", name);
      const manifest = existing(join(packageDir, "package.json"));
      if (manifest) {
        let pkg;
        try {
          pkg = JSON.parse(readFileSync(manifest, "utf8"));
        } catch {
          return undefined;
        }
        const target = exportTarget(pkg.exports, subpath, conditions);
        return target === undefined ? undefined : sourceFor(realpathSync(resolve(packageDir, target)));
      }
      if (dirname(dir) === dir) return undefined;
    }
  };
  const resolveSpecifier = (fromFile, specifier) => {
    const fromDir = dirname(fromFile);
    const key = `${fromDir}\0${specifier}`;
    if (cache.has(key)) return cache.get(key);
    let found;
    if (specifier.startsWith(".") || specifier.startsWith("/")) found = sourceFor(resolve(fromDir, specifier));
    else if (!specifier.startsWith("node:")) found = packageSource(fromDir, specifier);
    cache.set(key, found);
    return found;
  };
  resolveSpecifier.clear = () => cache.clear();
  return resolveSpecifier;
}

function exportTarget(exports, subpath, conditions) {
  if (exports === undefined || exports === null) return undefined;
  if (typeof exports === "string" || Array.isArray(exports)) return subpath === "." ? pickCondition(exports, conditions) : undefined;
  const keyed = Object.keys(exports).some((key) => key.startsWith("."));
  if (!keyed) return subpath === "." ? pickCondition(exports, conditions) : undefined;
  return exports[subpath] === undefined ? undefined : pickCondition(exports[subpath], conditions);
}

/** Only the listed conditions count: the point is to reach TypeScript sources, not built output. */
function pickCondition(target, conditions) {
  if (typeof target === "string") return SOURCE_FILE.test(target) && !DECLARATION_FILE.test(target) ? target : undefined;
  if (Array.isArray(target)) {
    for (const item of target) {
      const found = pickCondition(item, conditions);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (target && typeof target === "object") {
    for (const condition of conditions) {
      if (target[condition] !== undefined) {
        const found = pickCondition(target[condition], conditions);
        if (found !== undefined) return found;
      }
    }
  }
  return undefined;
}

// ---- enum values ---------------------------------------------------------------------------------

/**
 * The members' values as TypeScript computes them for a const enum: literal arithmetic, earlier
 * members by bare name or `Enum.Member`, members of other const enums reachable from the module,
 * auto-increment after a numeric member. A member that is not constant gets no entry.
 */
function evaluateEnum(declared, valuesOfEnum) {
  const values = new Map();
  for (const declaration of declared.declarations) {
    let next = 0;
    for (const member of declaration.members) {
      const name = propertyNameText(member.name);
      let value;
      if (member.initializer) value = evaluate(member.initializer, declared, values, valuesOfEnum);
      else value = next;
      if (name !== undefined && value !== undefined) values.set(name, value);
      next = typeof value === "number" ? value + 1 : undefined;
    }
  }
  return values;
}

function evaluate(node, declared, values, valuesOfEnum) {
  const recurse = (child) => evaluate(child, declared, values, valuesOfEnum);
  switch (node.kind) {
    case ts.SyntaxKind.NumericLiteral:
      return Number(node.text);
    case ts.SyntaxKind.StringLiteral:
    case ts.SyntaxKind.NoSubstitutionTemplateLiteral:
      return node.text;
    case ts.SyntaxKind.ParenthesizedExpression:
      return recurse(node.expression);
    case ts.SyntaxKind.TemplateExpression: {
      let text = node.head.text;
      for (const span of node.templateSpans) {
        const value = recurse(span.expression);
        if (value === undefined) return undefined;
        text += String(value) + span.literal.text;
      }
      return text;
    }
    case ts.SyntaxKind.PrefixUnaryExpression: {
      const operand = recurse(node.operand);
      if (typeof operand !== "number") return undefined;
      switch (node.operator) {
        case ts.SyntaxKind.PlusToken: return operand;
        case ts.SyntaxKind.MinusToken: return -operand;
        case ts.SyntaxKind.TildeToken: return ~operand;
        default: return undefined;
      }
    }
    case ts.SyntaxKind.BinaryExpression: {
      const left = recurse(node.left);
      const right = recurse(node.right);
      if (left === undefined || right === undefined) return undefined;
      if (node.operatorToken.kind === ts.SyntaxKind.PlusToken && (typeof left === "string" || typeof right === "string")) return String(left) + String(right);
      if (typeof left !== "number" || typeof right !== "number") return undefined;
      return arithmetic(node.operatorToken.kind, left, right);
    }
    case ts.SyntaxKind.Identifier: {
      if (values.has(node.text)) return values.get(node.text);
      if (node.text === "Infinity") return Infinity;
      if (node.text === "NaN") return NaN;
      return undefined;
    }
    case ts.SyntaxKind.PropertyAccessExpression:
    case ts.SyntaxKind.ElementAccessExpression: {
      const member = accessedMember(node);
      if (member === undefined || !ts.isIdentifier(node.expression)) return undefined;
      if (node.expression.text === declared.name) return values.get(member);
      return valuesOfEnum(node.expression.text)?.get(member);
    }
    default:
      return undefined;
  }
}

function arithmetic(operator, a, b) {
  switch (operator) {
    case ts.SyntaxKind.BarToken: return a | b;
    case ts.SyntaxKind.AmpersandToken: return a & b;
    case ts.SyntaxKind.CaretToken: return a ^ b;
    case ts.SyntaxKind.LessThanLessThanToken: return a << b;
    case ts.SyntaxKind.GreaterThanGreaterThanToken: return a >> b;
    case ts.SyntaxKind.GreaterThanGreaterThanGreaterThanToken: return a >>> b;
    case ts.SyntaxKind.PlusToken: return a + b;
    case ts.SyntaxKind.MinusToken: return a - b;
    case ts.SyntaxKind.AsteriskToken: return a * b;
    case ts.SyntaxKind.SlashToken: return a / b;
    case ts.SyntaxKind.PercentToken: return a % b;
    case ts.SyntaxKind.AsteriskAsteriskToken: return a ** b;
    default: return undefined;
  }
}

function propertyNameText(name) {
  if (ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isNoSubstitutionTemplateLiteral(name) || ts.isPrivateIdentifier(name)) return name.text;
  return undefined;
}

/** `X.name` or `X["name"]`: the member's name, else undefined. */
function accessedMember(node) {
  if (ts.isPropertyAccessExpression(node)) return ts.isIdentifier(node.name) ? node.name.text : undefined;
  if (ts.isElementAccessExpression(node)) {
    const argument = node.argumentExpression;
    return ts.isStringLiteral(argument) || ts.isNoSubstitutionTemplateLiteral(argument) ? argument.text : undefined;
  }
  return undefined;
}

// ---- finding the accesses ------------------------------------------------------------------------

/**
 * Every `Enum.Member` (or `ns.Enum.Member`) whose leading name is one of `bindings` and is not
 * shadowed by a declaration in an enclosing scope, as edits { start, end, text }.
 */
function findInlinableAccesses(sourceFile, bindings, valueOf, memberOfNamespace) {
  const edits = [];
  const names = new Set(bindings.keys());
  /** Scopes between the current node and the module, each the tracked names it declares. */
  const shadows = [];
  const shadowed = (name) => shadows.some((scope) => scope.has(name));
  const namespaceMembers = new Map();

  const leadingBinding = (expression) => {
    if (!ts.isIdentifier(expression) || !names.has(expression.text) || shadowed(expression.text)) return undefined;
    return bindings.get(expression.text);
  };

  const inlinedValue = (node) => {
    const member = accessedMember(node);
    if (member === undefined) return undefined;
    const target = node.expression;
    let binding = leadingBinding(target);
    if (!binding && (ts.isPropertyAccessExpression(target) || ts.isElementAccessExpression(target))) {
      const namespace = leadingBinding(target.expression)?.namespace;
      const exported = namespace && accessedMember(target);
      if (exported !== undefined) {
        const key = `${namespace}\0${exported}`;
        if (!namespaceMembers.has(key)) namespaceMembers.set(key, memberOfNamespace(namespace, exported));
        binding = namespaceMembers.get(key);
      }
    }
    return binding ? valueOf(binding, member) : undefined;
  };

  const visit = (node) => {
    if ((ts.isPropertyAccessExpression(node) || ts.isElementAccessExpression(node)) && !isWriteTarget(node)) {
      const value = inlinedValue(node);
      if (value !== undefined) {
        edits.push({ start: node.getStart(sourceFile), end: node.end, text: literal(value, node) });
        return;
      }
    }
    const declared = declaredNames(node, names);
    if (declared) shadows.push(declared);
    ts.forEachChild(node, visit);
    if (declared) shadows.pop();
  };
  ts.forEachChild(sourceFile, visit);
  return edits;
}

function isWriteTarget(node) {
  const parent = node.parent;
  if (!parent) return false;
  if (ts.isBinaryExpression(parent)) {
    return parent.left === node && parent.operatorToken.kind >= ts.SyntaxKind.FirstAssignment && parent.operatorToken.kind <= ts.SyntaxKind.LastAssignment;
  }
  if (ts.isPrefixUnaryExpression(parent) || ts.isPostfixUnaryExpression(parent)) {
    return parent.operator === ts.SyntaxKind.PlusPlusToken || parent.operator === ts.SyntaxKind.MinusMinusToken;
  }
  return ts.isDeleteExpression(parent);
}

function literal(value, node) {
  if (typeof value === "string") return JSON.stringify(value);
  let text;
  if (Number.isNaN(value)) text = "(0 / 0)";
  else if (value === Infinity) text = "(1 / 0)";
  else if (value === -Infinity) text = "(-1 / 0)";
  else if (value < 0 || Object.is(value, -0)) text = `(-${String(-value)})`;
  else text = String(value);
  // `Enum.Member.toString()` must not become `1.toString()`.
  const parent = node.parent;
  if (parent && (ts.isPropertyAccessExpression(parent) || ts.isCallExpression(parent)) && parent.expression === node && !text.startsWith("(")) text = `(${text})`;
  return text;
}

/**
 * The tracked names a node declares for the code beneath it: parameters and hoisted `var`s of a
 * function, lexical declarations of a block, a loop's `let`/`const`, a catch binding, the name of
 * a function or class expression, enum members inside their enum. Undefined when none is tracked.
 */
function declaredNames(node, tracked) {
  const found = new Set();
  const add = (name) => {
    if (tracked.has(name)) found.add(name);
  };
  switch (node.kind) {
    case ts.SyntaxKind.FunctionDeclaration:
    case ts.SyntaxKind.FunctionExpression:
    case ts.SyntaxKind.ArrowFunction:
    case ts.SyntaxKind.MethodDeclaration:
    case ts.SyntaxKind.Constructor:
    case ts.SyntaxKind.GetAccessor:
    case ts.SyntaxKind.SetAccessor:
      if (node.kind === ts.SyntaxKind.FunctionExpression && node.name) add(node.name.text);
      for (const parameter of node.parameters) bindingNames(parameter.name, add);
      if (node.body) hoistedVars(node.body, add);
      break;
    case ts.SyntaxKind.ClassStaticBlockDeclaration:
      hoistedVars(node.body, add);
      break;
    case ts.SyntaxKind.ClassExpression:
    case ts.SyntaxKind.ClassDeclaration:
      if (node.name) add(node.name.text);
      break;
    case ts.SyntaxKind.Block:
    case ts.SyntaxKind.ModuleBlock:
      lexicalDeclarations(node.statements, add);
      if (node.kind === ts.SyntaxKind.ModuleBlock) hoistedVars(node, add);
      break;
    case ts.SyntaxKind.CaseBlock:
      for (const clause of node.clauses) lexicalDeclarations(clause.statements, add);
      break;
    case ts.SyntaxKind.ForStatement:
    case ts.SyntaxKind.ForInStatement:
    case ts.SyntaxKind.ForOfStatement:
      if (node.initializer && ts.isVariableDeclarationList(node.initializer) && (node.initializer.flags & ts.NodeFlags.BlockScoped) !== 0) {
        for (const declaration of node.initializer.declarations) bindingNames(declaration.name, add);
      }
      break;
    case ts.SyntaxKind.CatchClause:
      if (node.variableDeclaration) bindingNames(node.variableDeclaration.name, add);
      break;
    case ts.SyntaxKind.EnumDeclaration:
      for (const member of node.members) {
        const name = propertyNameText(member.name);
        if (name !== undefined) add(name);
      }
      break;
    default:
      return undefined;
  }
  return found.size > 0 ? found : undefined;
}

function bindingNames(name, add) {
  if (ts.isIdentifier(name)) add(name.text);
  else if (ts.isObjectBindingPattern(name) || ts.isArrayBindingPattern(name)) {
    for (const element of name.elements) if (!ts.isOmittedExpression(element)) bindingNames(element.name, add);
  }
}

function lexicalDeclarations(statements, add) {
  for (const statement of statements) {
    if (ts.isVariableStatement(statement)) {
      if ((statement.declarationList.flags & ts.NodeFlags.BlockScoped) !== 0) {
        for (const declaration of statement.declarationList.declarations) bindingNames(declaration.name, add);
      }
    } else if (
      (ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement) || ts.isEnumDeclaration(statement) || ts.isImportEqualsDeclaration(statement)) &&
      statement.name
    ) {
      add(statement.name.text);
    } else if (ts.isModuleDeclaration(statement) && ts.isIdentifier(statement.name)) {
      add(statement.name.text);
    }
  }
}

/** `var` declarations anywhere in a function body, not inside nested functions or classes. */
function hoistedVars(body, add) {
  const visit = (node) => {
    if (ts.isFunctionLike(node) || ts.isClassLike(node)) return;
    if (ts.isVariableDeclarationList(node) && (node.flags & ts.NodeFlags.BlockScoped) === 0) {
      for (const declaration of node.declarations) bindingNames(declaration.name, add);
    }
    ts.forEachChild(node, visit);
  };
  visit(body);
}

// ---- output --------------------------------------------------------------------------------------

/** The edited code and a source map that keeps every token of the untouched text at its origin. */
function applyEdits(code, edits, file) {
  edits.sort((a, b) => a.start - b.start);
  let output = "";
  const lines = [[]];
  let generatedColumn = 0;
  let originalLine = 0;
  let originalColumn = 0;
  let previousWord = false;

  const mark = () => lines[lines.length - 1].push([generatedColumn, originalLine, originalColumn]);
  const copy = (from, to) => {
    for (let i = from; i < to; i++) {
      const ch = code.charCodeAt(i);
      if (ch === 10) {
        output += "\n";
        lines.push([]);
        generatedColumn = 0;
        originalLine++;
        originalColumn = 0;
        previousWord = false;
        continue;
      }
      const word = isWordChar(ch);
      const space = ch === 32 || ch === 9 || ch === 13;
      if (!space && !(word && previousWord)) mark();
      previousWord = word;
      output += code[i];
      generatedColumn++;
      originalColumn++;
    }
  };
  const skip = (from, to) => {
    for (let i = from; i < to; i++) {
      if (code.charCodeAt(i) === 10) {
        originalLine++;
        originalColumn = 0;
      } else originalColumn++;
    }
  };

  let position = 0;
  for (const edit of edits) {
    copy(position, edit.start);
    mark();
    output += edit.text;
    generatedColumn += edit.text.length;
    previousWord = false;
    skip(edit.start, edit.end);
    position = edit.end;
  }
  copy(position, code.length);

  return { code: output, map: { version: 3, file, sources: [file], sourcesContent: [code], names: [], mappings: encodeMappings(lines) } };
}

function isWordChar(ch) {
  return (ch >= 48 && ch <= 57) || (ch >= 65 && ch <= 90) || (ch >= 97 && ch <= 122) || ch === 95 || ch === 36 || ch > 127;
}

function encodeMappings(lines) {
  let previousLine = 0;
  let previousColumn = 0;
  return lines
    .map((segments) => {
      let previousGenerated = 0;
      return segments
        .map(([generated, line, column]) => {
          const text = vlq(generated - previousGenerated) + vlq(0) + vlq(line - previousLine) + vlq(column - previousColumn);
          previousGenerated = generated;
          previousLine = line;
          previousColumn = column;
          return text;
        })
        .join(",");
    })
    .join(";");
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

function vlq(value) {
  let rest = value < 0 ? (-value << 1) | 1 : value << 1;
  let text = "";
  do {
    let digit = rest & 31;
    rest >>>= 5;
    if (rest > 0) digit |= 32;
    text += BASE64[digit];
  } while (rest > 0);
  return text;
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
