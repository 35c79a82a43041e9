// A Briefcase code tool (QuickJS): CSV text → JSON records. No host access is granted or needed.
// Contract: a global `main(args, host)` returning a JSON value (docs/code-tools.md).

function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (quoted) throw new Error('unterminated quoted field');
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ''));
}

// eslint-disable-next-line @typescript-eslint/no-unused-vars -- called by the Briefcase
function main(args) {
  const rows = parseCsv(args.csv);
  if (rows.length === 0) return { columns: [], records: [], count: 0 };
  const header = rows[0];
  const select = args.select ?? header;
  for (const column of [...select, ...(args.where ? [args.where.column] : [])]) {
    if (!header.includes(column)) throw new Error(`no column named ${JSON.stringify(column)}`);
  }
  const records = [];
  for (const r of rows.slice(1)) {
    const record = Object.fromEntries(header.map((h, i) => [h, r[i] ?? '']));
    if (args.where && record[args.where.column] !== args.where.equals) continue;
    records.push(Object.fromEntries(select.map((c) => [c, record[c]])));
    if (args.limit && records.length >= args.limit) break;
  }
  return { columns: select, records, count: records.length };
}
