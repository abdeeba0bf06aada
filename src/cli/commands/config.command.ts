import type { Command } from 'commander';
import { SETTINGS, describeConfig, settingRange, type SettingKey } from '../../core/config.js';
import { addSettings, contextFrom } from '../settings.js';
import { printJson, printTable } from '../output.js';

export function registerConfig(program: Command): void {
  const cmd = program
    .command('config')
    .description('print the effective configuration (defaults < env < flags), secrets redacted')
    .option('--json', 'print as JSON')
    .option('--markdown', 'print every setting as a Markdown table (env, flag, default, meaning)');
  // Every setting is accepted here, so `ingest config --pg-url ...` shows the result.
  const keys = (Object.keys(SETTINGS) as SettingKey[]).filter(
    (k) => !['dispatcherPort', 'maintainInterval', 'logLevel', 'logFormat'].includes(k),
  );
  addSettings(cmd, keys).action(async (opts: { json?: boolean; markdown?: boolean }) => {
    const { config } = await contextFrom(cmd);
    const rows = describeConfig(config);
    if (opts.markdown) {
      const lines = ['| variable | flag | default | meaning |', '|---|---|---|---|'];
      for (const k of Object.keys(SETTINGS) as SettingKey[]) {
        const s = SETTINGS[k];
        const def =
          s.default === undefined ? '(unset)' : s.default === '' ? '(empty)' : `\`${s.default}\``;
        const range = settingRange(k);
        const meaning = `${s.description}${range ? ` (${range})` : ''}`;
        lines.push(
          `| \`${s.env}\` | \`--${s.flag}\` | ${def} | ${meaning.replace(/\|/g, '\\|')} |`,
        );
      }
      process.stdout.write(`${lines.join('\n')}\n`);
      return;
    }
    if (opts.json) return printJson(Object.fromEntries(rows.map((r) => [r.key, r.value])));
    printTable(
      ['setting', 'value', 'env'],
      rows.map((r) => [r.key, r.value, r.env]),
    );
  });
}
