/**
 * The settings `ingest up` takes as flags; each reaches every child process
 * through its environment variable. Kept apart from up.ts so the command's
 * help does not load the supervisor and the dashboard.
 */
import type { SettingKey } from '../core/config.js';

export const UP_SETTINGS: readonly SettingKey[] = [
  'pgUrl',
  'redisUrl',
  'amqpUrl',
  'registryUrl',
  'redisPrefix',
  'queuePrefix',
  'queueType',
  'strategy',
  'host',
  'adminToken',
];
