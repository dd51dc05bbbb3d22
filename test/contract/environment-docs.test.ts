import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';
import { Variable, VariableName, VARIABLES } from '../../app/src/config/contract';
import { LogLevel } from '../../charts/api/log-level';
import { environmentTableRows } from './environment-table';

/*
 * The documentation of the environment contract is the table written out: the README's
 * environment-variable table row for row, and the MemoApiProps doc of each prop that sets a
 * variable (its variable named, its @default the table's default).
 */

const ROOT = path.join(__dirname, '..', '..');

/** The table lines of the README section "### Environment variables". */
function readmeTable(): string[] {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n### Environment variables\n');
  expect(start).toBeGreaterThan(-1);
  const section = readme.slice(start + 1).split(/\n(?=#{1,3} )/)[0];
  return section.split('\n').filter((line) => line.startsWith('|'));
}

interface PropDoc {
  readonly text: string;
  readonly defaultTag: string | undefined;
}

/** The doc comment and @default of every member of MemoApiProps, from the source. */
function memoApiPropDocs(): Map<string, PropDoc> {
  const file = path.join(ROOT, 'charts', 'api', 'memo-api.ts');
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const props = source.statements.find(
    (s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === 'MemoApiProps',
  );
  if (props === undefined) throw new Error(`no interface MemoApiProps in ${file}`);
  const docs = new Map<string, PropDoc>();
  for (const member of props.members) {
    if (member.name === undefined || !ts.isIdentifier(member.name)) continue;
    const jsDoc = ts.getJSDocCommentsAndTags(member).filter(ts.isJSDoc);
    const tag = ts.getJSDocTags(member).find((t) => t.tagName.text === 'default');
    docs.set(member.name.text, {
      text: jsDoc.map((d) => ts.getTextOfJSDocComment(d.comment) ?? '').join('\n'),
      defaultTag: tag === undefined ? undefined : (ts.getTextOfJSDocComment(tag.comment) ?? '').trim(),
    });
  }
  return docs;
}

/** Props typed with an enum write their default as its member: `LogLevel.INFO`, not `"info"`. */
const ENUM_PROPS: Record<string, { readonly name: string; readonly members: object }> = {
  logLevel: { name: 'LogLevel', members: LogLevel },
};

/** How a props doc writes a default value: `300`, `"info"`, `false`; an empty list is a behaviour. */
function documented(prop: string, value: unknown): string {
  const enumType = ENUM_PROPS[prop];
  if (enumType !== undefined) {
    const member = Object.entries(enumType.members).find(([, v]) => v === value);
    return `${enumType.name}.${member?.[0] ?? `<no member for ${JSON.stringify(value)}>`}`;
  }
  if (Array.isArray(value)) return value.length === 0 ? '- none' : JSON.stringify(value);
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

const PROP_DOCS = memoApiPropDocs();
const topLevelProps = (Object.entries(VARIABLES) as Array<[VariableName, Variable<unknown>]>).flatMap(
  ([name, v]) => ('prop' in v.setBy && !v.setBy.prop.includes('.') ? [[v.setBy.prop, name, v] as const] : []),
);

describe('the environment contract, documented', () => {
  test('when the README lists the environment variables, then its table is the contract table row for row', () => {
    expect(readmeTable()).toEqual(environmentTableRows());
  });

  test.each(topLevelProps)(
    'when MemoApiProps documents %s, then it names %s and its @default is the table default',
    (prop, name, variable) => {
      const doc = PROP_DOCS.get(prop);
      expect(doc?.text).toContain(name);
      const d = variable.default;
      if ('value' in d) {
        // A behaviour default may go on after a colon ("- none: no CORS headers").
        const tag = doc?.defaultTag?.replace(/:.*$/s, '');
        expect({ prop, default: tag }).toEqual({ prop, default: documented(prop, d.value) });
      }
    },
  );
});
