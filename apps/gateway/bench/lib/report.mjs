// Shared report helpers: machine description, Markdown tables, writing bench/results/<name>.{json,md}.
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

export function machine() {
  const cores = cpus();
  return {
    node: process.version,
    cpu: cores[0]?.model?.trim() ?? 'unknown',
    cpuCount: cores.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    platform: `${process.platform} ${process.arch}`,
    /** 1-minute load average when the report was made: other work on the machine skews figures. */
    loadAverage1m: Math.round(loadavg()[0] * 100) / 100,
  };
}

export function table(header, rows) {
  const escape = (cell) => String(cell ?? '').replaceAll('|', '\\|');
  return [
    `| ${header.map(escape).join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ].join('\n');
}

export const fmt = (value, digits = 0) =>
  value === null || value === undefined || Number.isNaN(value)
    ? 'n/a'
    : Number(value).toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

export async function writeReport(name, json, markdown) {
  await mkdir(RESULTS_DIR, { recursive: true });
  const jsonPath = join(RESULTS_DIR, `${name}.json`);
  const mdPath = join(RESULTS_DIR, `${name}.md`);
  await writeFile(jsonPath, `${JSON.stringify(json, null, 2)}\n`);
  await writeFile(mdPath, markdown.endsWith('\n') ? markdown : `${markdown}\n`);
  return { jsonPath, mdPath };
}
