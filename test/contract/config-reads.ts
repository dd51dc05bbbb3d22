import * as fs from 'fs';
import * as ts from 'typescript';

/**
 * The environment variables each exported loader of the service's config module reads, found by
 * parsing its source (no execution): names passed to its helper parsers (`required(env, 'X')`),
 * direct reads (`env.X`, `env['X']`), and, transitively, what other local functions it calls
 * with the environment read. Exported so the contract test compares names, not behaviour.
 */
export function variablesReadBy(configFile: string): Map<string, Set<string>> {
  const source = ts.createSourceFile(
    configFile,
    fs.readFileSync(configFile, 'utf8'),
    ts.ScriptTarget.ES2022,
    true,
  );
  const direct = new Map<string, Set<string>>();
  const calls = new Map<string, Set<string>>();
  const exported = new Set<string>();

  for (const statement of source.statements) {
    if (!ts.isFunctionDeclaration(statement) || statement.name === undefined || statement.body === undefined)
      continue;
    const name = statement.name.text;
    if (statement.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) exported.add(name);
    const reads = new Set<string>();
    const callees = new Set<string>();
    const visit = (node: ts.Node): void => {
      if (ts.isPropertyAccessExpression(node)) {
        const base = node.expression.getText(source);
        if (base === 'env' || base === 'process.env') reads.add(node.name.text);
      }
      if (ts.isElementAccessExpression(node) && ts.isStringLiteral(node.argumentExpression)) {
        const base = node.expression.getText(source);
        if (base === 'env' || base === 'process.env') reads.add(node.argumentExpression.text);
      }
      if (ts.isCallExpression(node) && ts.isIdentifier(node.expression)) {
        callees.add(node.expression.text);
        const [first, second] = node.arguments;
        if (
          first !== undefined &&
          second !== undefined &&
          first.getText(source) === 'env' &&
          ts.isStringLiteral(second)
        ) {
          reads.add(second.text);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(statement.body);
    direct.set(name, reads);
    calls.set(name, callees);
  }

  const closure = (name: string, seen = new Set<string>()): Set<string> => {
    if (seen.has(name)) return new Set();
    seen.add(name);
    const out = new Set(direct.get(name) ?? []);
    for (const callee of calls.get(name) ?? []) {
      if (direct.has(callee)) for (const v of closure(callee, seen)) out.add(v);
    }
    return out;
  };
  return new Map([...exported].map((name) => [name, closure(name)]));
}

/** The exported loaders an entry file calls (`loadConfig()` in index.ts, ...). */
export function loadersCalledBy(entryFile: string, loaders: Iterable<string>): string[] {
  const text = fs.readFileSync(entryFile, 'utf8');
  return [...loaders].filter((name) => new RegExp(`\\b${name}\\(`).test(text));
}
