// `discretion report`: argument parsing around prepareReport/writeReport (src/app/report.ts).
import type { Command } from 'commander';
import { Option } from 'commander';
import { resolve } from 'node:path';
import { UsageError } from '../../core/errors';
import { prepareReport, REPORT_FORMATS, writeReport, type ReportFormat } from '../../app/report';
import { checkFolderTarget } from '../../app/outputFiles';
import { say, withStore } from '../context';
import { dbOption } from './data';

export function parseFormats(s: string): ReportFormat[] {
  const parts = s.split(',').map((x) => x.trim().toLowerCase()).filter(Boolean);
  const bad = parts.filter((p) => !(REPORT_FORMATS as readonly string[]).includes(p));
  if (bad.length || parts.length === 0) throw new UsageError(`--format: unknown format(s) ${bad.join(', ') || '(none)'}; choose from ${REPORT_FORMATS.join(', ')}`);
  return [...new Set(parts)] as ReportFormat[];
}

const intArg = (name: string) => (v: string) => {
  if (!/^\d+$/.test(v)) throw new UsageError(`${name} must be a non-negative integer, not "${v}"`);
  return Number(v);
};

export function registerReportCommand(program: Command): void {
  program.command('report').description('write a discretion report (report.html, report.md, metrics.json, pairs.csv) into a folder')
    .addOption(dbOption())
    .option('--dataset <name>', 'dataset to analyse')
    .option('--principles <list>', 'principle list (name or name@version)')
    .option('--principle-source <source>', "where principle preferences come from: an oracle annotator's name, 'self', 'majority' or 'majority:a,b'")
    .option('--reference <annotator>', 'reference annotator for the discretion discrepancy')
    .option('--run <id>', 'report a stored metric run instead of computing (see `discretion runs`)', intArg('--run'))
    .option('--bootstrap <n>', 'DD bootstrap resamples', intArg('--bootstrap'), 100)
    .option('--da-bootstrap <n>', 'DA bootstrap resamples', intArg('--da-bootstrap'), 1000)
    .option('--seed <s>', 'bootstrap seed', intArg('--seed'), 0)
    .option('--ps-annotator <name>', 'annotator of the principle-supremacy heat map (default: the reference)')
    .option('--overrides <n>', 'how many consensus-override pairs to list', intArg('--overrides'), 25)
    .requiredOption('--out <dir>', 'output folder')
    .addOption(new Option('--format <list>', 'comma-separated formats: html,md,json,csv').default('html,md,json,csv'))
    .action(async (o: { db: string; dataset?: string; principles?: string; principleSource?: string; reference?: string; run?: number; bootstrap: number; daBootstrap: number; seed: number; psAnnotator?: string; overrides: number; out: string; format: string }) => {
      const formats = parseFormats(o.format);
      checkFolderTarget(o.out, 'the report folder');
      const t0 = Date.now();
      const prepared = await withStore(o.db, (store) => prepareReport(store, {
        dataset: o.dataset, principles: o.principles, principleSource: o.principleSource, reference: o.reference, run: o.run,
        bootstrap: o.bootstrap, daBootstrap: o.daBootstrap, seed: o.seed, psAnnotator: o.psAnnotator, overrideLimit: o.overrides,
      }));
      const written = writeReport(o.out, prepared, formats);
      say(`wrote ${written.length} file(s) to ${resolve(o.out)} in ${((Date.now() - t0) / 1000).toFixed(1)} s:`);
      for (const w of written) say(`  ${w}`);
    });
}
