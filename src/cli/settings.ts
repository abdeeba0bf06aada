/**
 * Commands declare which settings they take; each becomes a flag whose help
 * names its environment variable and default. contextFrom() turns the parsed
 * flags into the frozen Config (defaults < env < flags), a logger and a lifecycle.
 */
import { type Command, Option } from 'commander';
import {
  SETTINGS,
  loadConfig,
  settingRange,
  type Config,
  type ConfigOverrides,
  type SettingKey,
} from '../core/config.js';
import { createLifecycle, type Lifecycle } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';

const declared = new WeakMap<Command, Map<string, SettingKey>>();

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Add the flags of these settings to a command. */
export function addSettings(cmd: Command, keys: readonly SettingKey[]): Command {
  const map = declared.get(cmd) ?? new Map<string, SettingKey>();
  for (const key of keys) {
    const spec = SETTINGS[key];
    const valueName =
      spec.kind === 'duration'
        ? 'duration'
        : spec.kind === 'int'
          ? 'n'
          : spec.kind === 'port'
            ? 'port'
            : spec.kind === 'url'
              ? 'url'
              : 'value';
    const range = settingRange(key);
    const values = 'values' in spec ? ` (${spec.values.join('|')})` : range ? ` (${range})` : '';
    const def =
      spec.default === undefined
        ? ''
        : `; default ${'secret' in spec ? 'see ingest config' : JSON.stringify(spec.default)}`;
    cmd.addOption(
      new Option(
        `--${spec.flag} <${valueName}>`,
        `${spec.description}${values} [env ${spec.env}${def}]`,
      ),
    );
    map.set(camel(spec.flag), key);
  }
  declared.set(cmd, map);
  return cmd;
}

export interface CommandContext {
  config: Config;
  logger: Logger;
  lifecycle: Lifecycle;
}

/**
 * Build the typed context of a command from its parsed flags. Async because the
 * logger (pino) loads here, on first use: registering commands and --help never pay for it.
 */
export async function contextFrom(cmd: Command, name?: string): Promise<CommandContext> {
  const opts = cmd.optsWithGlobals<Record<string, string | undefined>>();
  const overrides: ConfigOverrides = {};
  for (const [attr, key] of declared.get(cmd) ?? []) {
    if (opts[attr] !== undefined) overrides[key] = opts[attr];
  }
  if (opts.logLevel !== undefined) overrides.logLevel = opts.logLevel;
  if (opts.logFormat !== undefined) overrides.logFormat = opts.logFormat;
  const config = loadConfig(overrides);
  const { createLogger } = await import('../core/logger.js');
  const logger = createLogger({
    level: config.logLevel,
    format: config.logFormat,
    name: name ?? `ingest ${cmd.name()}`,
  });
  const lifecycle = createLifecycle(logger);
  return { config, logger, lifecycle };
}
