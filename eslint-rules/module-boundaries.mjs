import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Modules talk only through each other's index.ts (DESIGN.md, "How modules talk"), and platform
 * code knows no module. The import is resolved against the importing file, so `../users/x`,
 * `../../modules/users/x` and nested folders are all judged by where they land, not how they are
 * spelled. A module importing its own files, and anything importing a module's index, is fine.
 */
// The repository root, wherever ESLint is started from.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const INDEX = new Set(['', 'index', 'index.ts', 'index.js']);

/** `{ module, rest }` when `file` lies under `<root>/src/modules/<module>/`, else null. */
function moduleOf(root, file) {
  const relative = path.relative(path.join(root, 'src', 'modules'), file);
  if (relative.startsWith('..') || path.isAbsolute(relative)) return null;
  const [module, ...rest] = relative.split(path.sep);
  return { module, rest: rest.join('/') };
}

function isUnder(root, folder, file) {
  const relative = path.relative(path.join(root, ...folder), file);
  return !relative.startsWith('..') && !path.isAbsolute(relative);
}

export const moduleBoundaries = {
  meta: {
    type: 'problem',
    docs: { description: "Import another module only through its index.ts; platform code imports no module" },
    schema: [],
    messages: {
      internal:
        "'{{from}}' imports '{{source}}', an internal file of module '{{to}}'. Import '{{to}}' through its index.ts (its contract) instead.",
      platform: "Platform code imports '{{source}}' from the modules; platform must not depend on business modules.",
    },
  },
  create(context) {
    const root = ROOT;
    const file = context.filename;
    const fromModule = moduleOf(root, file);
    const inPlatform = isUnder(root, ['src', 'platform'], file);
    const inSrc = isUnder(root, ['src'], file);
    if (!inSrc) return {};

    function check(node, source) {
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const target = moduleOf(root, path.resolve(path.dirname(file), source));
      if (!target) return;
      if (inPlatform) {
        context.report({ node, messageId: 'platform', data: { source } });
        return;
      }
      // The composition root (src/modules/index.ts) has module '' after the split: not a module file.
      if (target.module === 'index' || target.module === 'index.ts' || target.module === '') return;
      if (fromModule && fromModule.module === target.module) return;
      if (INDEX.has(target.rest.replace(/\/$/, ''))) return;
      context.report({
        node,
        messageId: 'internal',
        data: { from: fromModule ? `module ${fromModule.module}` : path.relative(root, file), source, to: target.module },
      });
    }

    const fromSource = (node) => {
      if (node.source) check(node.source, node.source.value);
    };
    return {
      ImportDeclaration: fromSource,
      ExportNamedDeclaration: fromSource,
      ExportAllDeclaration: fromSource,
      ImportExpression(node) {
        if (node.source.type === 'Literal') check(node.source, node.source.value);
      },
      TSImportEqualsDeclaration(node) {
        const ref = node.moduleReference;
        if (ref.type === 'TSExternalModuleReference' && ref.expression.type === 'Literal') check(ref.expression, ref.expression.value);
      },
      TSImportType(node) {
        const arg = node.argument;
        const literal = arg?.type === 'TSLiteralType' ? arg.literal : arg;
        if (literal?.type === 'Literal') check(literal, literal.value);
      },
    };
  },
};

export default { rules: { 'module-boundaries': moduleBoundaries } };
