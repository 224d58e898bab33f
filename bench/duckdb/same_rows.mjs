// Whether two CSV results hold the same rows, in any order: fields compare as text, or as
// numbers when both are numbers (DuckDB writes 227.0 where flowc writes 227; f64 results may
// differ in the last digit of their shortest form). Exits 1, naming a difference, when not.
// Usage: node same_rows.mjs A.csv B.csv
import { readFileSync } from 'node:fs';

const [a, b] = process.argv.slice(2);
const rows = (file) => readFileSync(file, 'utf8').split('\n').slice(1).filter((l) => l !== '').sort();
const number = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;
const sameField = (x, y) =>
  x === y || (number.test(x) && number.test(y) && Math.abs(Number(x) - Number(y)) <= 1e-12 * Math.max(1, Math.abs(Number(x))));
// Sorted as text, 227 and 227.0 may sort apart: rows are keyed by their fields with numbers
// normalized first.
const normalized = (line) => line.split(',').map((f) => (number.test(f) ? String(Number(f)) : f)).join(',');
const left = rows(a).map(normalized).sort();
const right = rows(b).map(normalized).sort();
if (left.length !== right.length) {
  console.error(`${a} has ${left.length} rows, ${b} has ${right.length}`);
  process.exit(1);
}
for (let i = 0; i < left.length; ++i) {
  const x = left[i].split(','), y = right[i].split(',');
  if (x.length !== y.length || x.some((f, k) => !sameField(f, y[k]))) {
    console.error(`rows differ:\n  ${a}: ${left[i]}\n  ${b}: ${right[i]}`);
    process.exit(1);
  }
}
