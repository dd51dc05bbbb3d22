import { Variable, VariableName, VARIABLES } from '../../app/src/config/contract';

/** The README's environment table header, then one row per variable of the contract, in its order. */
export function environmentTableRows(): string[] {
  const rows = (Object.entries(VARIABLES) as Array<[VariableName, Variable<unknown>]>).map(
    ([name, v]) => `| \`${name}\` | ${defaultCell(v)} | ${v.kind.expected} | ${sourceCell(v)} | ${v.doc} |`,
  );
  return [
    '| Variable | Default | Accepts | MemoApi sets it from | Meaning |',
    '|---|---|---|---|---|',
    ...rows,
  ];
}

function defaultCell(v: Variable<unknown>): string {
  const d = v.default;
  if ('value' in d) {
    const text = v.kind.format(d.value);
    return text === '' ? 'empty' : `\`${text}\``;
  }
  if ('unset' in d) return d.unset;
  if ('computed' in d) return d.computed;
  const only = v.readBy.length === 1 && v.readBy[0] === 'migrations' ? ' by `migrate` only' : '';
  return `required${only}${v.kind.shape.type === 'secret' ? ' (may be empty)' : ''}`;
}

function sourceCell(v: Variable<unknown>): string {
  const s = v.setBy;
  if ('prop' in s) return `\`${s.prop}\``;
  if ('secret' in s) return `\`${s.secret}\` (a Secret)`;
  if ('derived' in s) return s.derived.replace(/([a-z]+\.[a-z]+)/g, '`$1`');
  return s.fixed;
}
