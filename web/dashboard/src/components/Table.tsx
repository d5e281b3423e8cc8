/**
 * The dashboard's one table: columns described once (header, cell, alignment, sort state),
 * rows rendered from data. Replaces the thead/tbody markup each page wrote by hand, so every
 * table gets the same scoped headers, numeric alignment and `aria-sort`.
 *
 * Usage: `<Table rows={runs} rowKey={(r) => r.id} columns={[{ key: 'name', header: 'Name', cell: (r) => r.name }]} />`
 */
import type { ReactNode } from 'react';

export interface Column<T> {
  /** Unique among the table's columns (React's key). */
  key: string;
  header: ReactNode;
  cell: (row: T) => ReactNode;
  /** Right-aligned tabular figures. */
  numeric?: boolean;
  /** The cell is the row's header (`<th scope="row">`), read first by screen readers. */
  rowHeader?: boolean;
  /** How the table is ordered by this column, when it can be. */
  sort?: 'ascending' | 'descending' | 'none';
  className?: string;
}

export interface TableProps<T> {
  rows: readonly T[];
  columns: readonly Column<T>[];
  rowKey: (row: T) => string;
  caption?: ReactNode;
  /** Leave out the header row (a key/value list). */
  headless?: boolean;
  className?: string;
  /** Accessible name when there is no visible caption. */
  label?: string;
}

export function Table<T>({ rows, columns, rowKey, caption, headless, className, label }: TableProps<T>) {
  return (
    <table className={className} aria-label={label}>
      {caption && <caption>{caption}</caption>}
      {!headless && (
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.key} scope="col" aria-sort={c.sort} className={c.numeric ? 'num' : undefined}>
                {c.header}
              </th>
            ))}
          </tr>
        </thead>
      )}
      <tbody>
        {rows.map((row) => (
          <tr key={rowKey(row)}>
            {columns.map((c) => {
              const className = [c.numeric ? 'num' : '', c.className ?? ''].join(' ').trim() || undefined;
              return c.rowHeader ? (
                <th key={c.key} scope="row" className={className}>
                  {c.cell(row)}
                </th>
              ) : (
                <td key={c.key} className={className}>
                  {c.cell(row)}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
