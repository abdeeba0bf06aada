/**
 * The one place that reads the environment. Every setting has a default that
 * works on a machine with the three servers on loopback, an environment
 * variable, and a CLI flag: defaults < env < flags, validated once, frozen.
 */
import { parseDuration, parseSize } from './duration.js';
import { IngestError } from './errors.js';

type Kind = 'string' | 'url' | 'int' | 'port' | 'duration' | 'size' | 'enum' | 'bool';

interface SettingSpec {
  env: string;
  /** The CLI flag, long form without dashes. */
  flag: string;
  kind: Kind;
  default: string | undefined;
  description: string;
  secret?: boolean;
  values?: readonly string[];
  /** kind 'url': the schemes it may have ('http:', ...). */
  schemes?: readonly string[];
  /**
   * Numeric kinds: the smallest and largest value, in the setting's own syntax ('100ms').
   * A duration that feeds a timer is at most 24d: Node fires a longer timer after 1 ms.
   */
  min?: string;
  max?: string;
}

/** Every setting of every component. Add new ones here, nowhere else. */
export const SETTINGS = {
  pgUrl: {
    env: 'INGEST_PG_URL',
    flag: 'pg-url',
    kind: 'url',
    schemes: ['postgres:', 'postgresql:', 'socket:'],
    default: 'postgres://postgres@127.0.0.1:5432/ingest',
    description: 'PostgreSQL URL (system of record)',
    secret: true,
  },
  redisUrl: {
    env: 'INGEST_REDIS_URL',
    flag: 'redis-url',
    kind: 'url',
    schemes: ['redis:', 'rediss:'],
    default: 'redis://127.0.0.1:6379/0',
    description: 'Redis URL (token cache, stats, heartbeats)',
    secret: true,
  },
  amqpUrl: {
    env: 'INGEST_AMQP_URL',
    flag: 'amqp-url',
    kind: 'url',
    schemes: ['amqp:', 'amqps:'],
    default: 'amqp://guest:guest@127.0.0.1:5672',
    description: 'RabbitMQ URL',
    secret: true,
  },
  registryUrl: {
    env: 'INGEST_REGISTRY_URL',
    flag: 'registry-url',
    kind: 'url',
    schemes: ['postgres:', 'postgresql:', 'socket:', 'mongodb:', 'mongodb+srv:'],
    default: undefined,
    description: 'queue registry URL: the PostgreSQL URL by default; mongodb:// selects MongoDB',
    secret: true,
  },
  dispatcherUrl: {
    env: 'INGEST_DISPATCHER_URL',
    flag: 'dispatcher',
    kind: 'url',
    schemes: ['http:'],
    default: 'http://127.0.0.1:8081',
    description: 'dispatcher base URL',
  },
  adminToken: {
    env: 'INGEST_ADMIN_TOKEN',
    flag: 'admin-token',
    kind: 'string',
    default: undefined,
    description:
      'Bearer token for admin endpoints; unset: admin endpoints answer loopback callers only',
    secret: true,
  },
  managementUrl: {
    env: 'INGEST_RABBITMQ_MANAGEMENT_URL',
    flag: 'management-url',
    kind: 'url',
    schemes: ['http:', 'https:'],
    default: 'http://guest:guest@127.0.0.1:15672',
    description: 'RabbitMQ management API (used when reachable, for queue counts and rates)',
    secret: true,
  },
  logLevel: {
    env: 'INGEST_LOG_LEVEL',
    flag: 'log-level',
    kind: 'enum',
    values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    default: 'info',
    description: 'log level',
  },
  logFormat: {
    env: 'INGEST_LOG_FORMAT',
    flag: 'log-format',
    kind: 'enum',
    values: ['auto', 'json', 'pretty'],
    default: 'auto',
    description: 'log format: pretty on a TTY, JSON otherwise (auto)',
  },
  queueType: {
    env: 'INGEST_QUEUE_TYPE',
    flag: 'queue-type',
    kind: 'enum',
    values: ['quorum', 'classic'],
    default: 'quorum',
    description: 'RabbitMQ type of the per-account queues',
  },
  queuePrefix: {
    env: 'INGEST_QUEUE_PREFIX',
    flag: 'queue-prefix',
    kind: 'string',
    default: '',
    description: 'prefix of RabbitMQ queue names (the account id follows it)',
  },
  redisPrefix: {
    env: 'INGEST_REDIS_PREFIX',
    flag: 'redis-prefix',
    kind: 'string',
    default: 'ingest:',
    description: 'prefix of every Redis key',
  },
  host: {
    env: 'INGEST_HOST',
    flag: 'host',
    kind: 'string',
    default: '127.0.0.1',
    description: 'interface HTTP servers listen on (0.0.0.0 for every interface)',
  },
  frontendPort: {
    env: 'INGEST_FRONTEND_PORT',
    flag: 'port',
    kind: 'port',
    default: '8080',
    description: 'frontend HTTP port',
  },
  frontendUrl: {
    env: 'INGEST_FRONTEND_URL',
    flag: 'url',
    kind: 'url',
    schemes: ['http:', 'https:'],
    default: 'http://127.0.0.1:8080',
    description: 'frontend base URL (for load tests and the dashboard)',
  },
  dispatcherPort: {
    env: 'INGEST_DISPATCHER_PORT',
    flag: 'port',
    kind: 'port',
    default: '8081',
    description: 'dispatcher HTTP port',
  },
  metricsPort: {
    env: 'INGEST_METRICS_PORT',
    flag: 'metrics-port',
    kind: 'port',
    default: '0',
    description: 'metrics port of components without an HTTP port (0: none)',
  },
  bodyLimit: {
    env: 'INGEST_BODY_LIMIT',
    flag: 'body-limit',
    kind: 'size',
    default: '8mb',
    description: 'largest accepted request body (after gzip decoding)',
    min: '1b',
    max: '128mb',
  },
  chunkReadings: {
    env: 'INGEST_CHUNK_READINGS',
    flag: 'chunk-readings',
    kind: 'int',
    default: '5000',
    description:
      'a request with more readings is published as several messages of at most this many',
    min: '1',
  },
  publishTimeout: {
    env: 'INGEST_PUBLISH_TIMEOUT',
    flag: 'publish-timeout',
    kind: 'duration',
    default: '5s',
    description:
      "how long a publish may wait for the broker's confirm before it counts as failed (the frontend answers 503; other commands retry or report it)",
    min: '1ms',
    max: '24d',
  },
  tokenCacheTtl: {
    env: 'INGEST_TOKEN_CACHE_TTL',
    flag: 'token-cache-ttl',
    kind: 'duration',
    default: '5s',
    description:
      'in-process cache of token checks (hits and misses); a revoked token stops working within it',
    max: '24d',
  },
  rateLimit: {
    env: 'INGEST_RATE_LIMIT',
    flag: 'rate-limit',
    kind: 'int',
    default: '0',
    description: 'per-gateway requests per second (token bucket, burst = 2x); 0 disables',
  },
  maxQueueDepth: {
    env: 'INGEST_MAX_QUEUE_DEPTH',
    flag: 'max-queue-depth',
    kind: 'int',
    default: '0',
    description: 'answer 429 when the account queue holds more messages than this; 0 disables',
  },
  workers: {
    env: 'INGEST_WORKERS',
    flag: 'workers',
    kind: 'int',
    default: '1',
    description: 'frontend processes sharing the port',
    min: '1',
    max: '64',
  },
  cacheSyncInterval: {
    env: 'INGEST_CACHE_SYNC_INTERVAL',
    flag: 'interval',
    kind: 'duration',
    default: '30s',
    description: 'full cache sync interval (changes are also pushed by LISTEN/NOTIFY)',
    min: '100ms',
    max: '24d',
  },
  strategy: {
    env: 'INGEST_STRATEGY',
    flag: 'strategy',
    kind: 'enum',
    values: ['fifo', 'messages-first'],
    default: 'messages-first',
    description: 'queue delivery strategy',
  },
  leaseTimeout: {
    env: 'INGEST_LEASE_TIMEOUT',
    flag: 'lease-timeout',
    kind: 'duration',
    default: '60s',
    description: 'a queue lease not renewed within this is given back',
    min: '100ms',
    max: '24d',
  },
  maintainInterval: {
    env: 'INGEST_MAINTAIN_INTERVAL',
    flag: 'interval',
    kind: 'duration',
    default: '10s',
    description: 'maintainer pass interval',
    min: '100ms',
    max: '24d',
  },
  heartbeatStale: {
    env: 'INGEST_HEARTBEAT_STALE',
    flag: 'heartbeat-stale',
    kind: 'duration',
    default: '30s',
    description: 'maintainer heartbeat older than this makes the dispatcher fall back to fifo',
    min: '100ms',
    max: '24d',
  },
  deleteGrace: {
    env: 'INGEST_DELETE_GRACE',
    flag: 'delete-grace',
    kind: 'duration',
    default: '30s',
    description:
      "a gone account's queue is removed once it has stayed empty this long (frontends may still accept for the token-cache TTL after a deactivation; a message that lands meanwhile brings the queue back to be drained)",
  },
  ledgerRetention: {
    env: 'INGEST_LEDGER_RETENTION',
    flag: 'ledger-retention',
    kind: 'duration',
    default: '7d',
    description:
      'the maintainer forgets consumed message ids older than this (0: keep them); older replays are still deduplicated row by row',
  },
  consumerConcurrency: {
    env: 'INGEST_CONSUMER_CONCURRENCY',
    flag: 'concurrency',
    kind: 'int',
    default: '2',
    description: 'queues one consumer process drains at once',
    min: '1',
  },
  consumerBatch: {
    env: 'INGEST_CONSUMER_BATCH',
    flag: 'batch',
    kind: 'int',
    default: '500',
    description: 'messages drained from a queue before it is released',
    min: '1',
  },
  notifyRetries: {
    env: 'INGEST_NOTIFY_RETRIES',
    flag: 'retries',
    kind: 'int',
    default: '5',
    description: 'delivery attempts of a notification before it is dead-lettered',
    min: '1',
  },
  notifyRetryDelay: {
    env: 'INGEST_NOTIFY_RETRY_DELAY',
    flag: 'retry-delay',
    kind: 'duration',
    default: '1s',
    description:
      'delay before the first notification retry; doubles per attempt (TTL delay queues), max 5m',
    min: '1ms',
    max: '5m',
  },
  notifyTimeout: {
    env: 'INGEST_NOTIFY_TIMEOUT',
    flag: 'timeout',
    kind: 'duration',
    default: '5s',
    description: 'HTTP timeout of one notification delivery',
    min: '1ms',
    max: '24d',
  },
} as const satisfies Record<string, SettingSpec>;

export type SettingKey = keyof typeof SETTINGS;

type ValueOf<K extends SettingKey> = (typeof SETTINGS)[K]['kind'] extends
  'int' | 'port' | 'duration' | 'size'
  ? number
  : (typeof SETTINGS)[K]['kind'] extends 'bool'
    ? boolean
    : (typeof SETTINGS)[K] extends { values: readonly (infer V)[] }
      ? V
      : (typeof SETTINGS)[K]['default'] extends string
        ? string
        : string | undefined;

export type Config = { readonly [K in SettingKey]: ValueOf<K> };

/** Flag values as commander hands them over (only the ones the user gave). */
export type ConfigOverrides = Partial<Record<SettingKey, string | number | boolean | undefined>>;

function parseValue(key: SettingKey, raw: string | number | boolean, source: string): unknown {
  const spec: SettingSpec = SETTINGS[key];
  const value = parseRaw(spec, raw, source);
  if (typeof value === 'number') {
    const problem = outOfRange(spec, value);
    if (problem) throw new IngestError('CONFIG_INVALID', `${source}: ${problem}, got "${raw}"`);
  }
  return value;
}

function parseRaw(spec: SettingSpec, raw: string | number | boolean, source: string): unknown {
  try {
    switch (spec.kind) {
      case 'int': {
        const n = typeof raw === 'number' ? raw : Number(raw);
        if (!Number.isInteger(n) || n < 0) throw new Error(`not a whole number: "${raw}"`);
        return n;
      }
      case 'port': {
        const n = typeof raw === 'number' ? raw : Number(raw);
        if (!Number.isInteger(n) || n < 0 || n > 65_535)
          throw new Error(`not a port (0 to 65535): "${raw}"`);
        return n;
      }
      case 'url': {
        const v = String(raw);
        // Empty: none (e.g. no management API). A secret URL may carry a password: never echoed.
        if (v === '') return v;
        const shown = spec.secret ? '' : ` "${v}"`;
        const schemes = spec.schemes ?? [];
        // Only the scheme is checked: drivers take forms WHATWG URL refuses (several hosts,
        // an empty host with ?host=/socket/dir, socket:...), and PostgreSQL a socket path.
        const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(v)?.[1]?.toLowerCase();
        const socketPath = v.startsWith('/') && schemes.includes('postgres:');
        if (!socketPath && (scheme === undefined || !schemes.includes(`${scheme}:`)))
          throw new Error(
            scheme === undefined
              ? `not a URL${shown} (it must start with ${schemes.map((x) => `${x}//`).join(' or ')})`
              : `must start with ${schemes.map((x) => `${x}//`).join(' or ')}, not ${scheme}:${shown ? ` (${v})` : ''}`,
          );
        // HTTP ones are used as WHATWG URLs: they must parse as one.
        if (scheme === 'http' || scheme === 'https') {
          try {
            new URL(v);
          } catch {
            throw new Error(`not a URL${shown}`);
          }
        }
        return v;
      }
      case 'duration':
        return parseDuration(typeof raw === 'boolean' ? String(raw) : raw);
      case 'size':
        return parseSize(typeof raw === 'boolean' ? String(raw) : raw);
      case 'bool':
        return raw === true || raw === 'true' || raw === '1' || raw === 'yes';
      case 'enum': {
        const v = String(raw);
        if (!spec.values?.includes(v))
          throw new Error(`"${v}" is not one of ${spec.values?.join(', ')}`);
        return v;
      }
      default:
        return String(raw);
    }
  } catch (err) {
    throw new IngestError('CONFIG_INVALID', `${source}: ${(err as Error).message}`);
  }
}

/** A numeric setting's allowed range in words ("at least 100ms", "1 to 64"), or ''. */
export function settingRange(key: SettingKey): string {
  const spec: SettingSpec = SETTINGS[key];
  if (spec.min !== undefined && spec.max !== undefined) return `${spec.min} to ${spec.max}`;
  if (spec.min !== undefined) return `at least ${spec.min}`;
  return spec.max !== undefined ? `at most ${spec.max}` : '';
}

/** A numeric setting outside its spec's min/max: the reason, in the setting's own terms. */
function outOfRange(spec: SettingSpec, n: number): string | undefined {
  const bound = (b: string | undefined): number | undefined =>
    b === undefined ? undefined : (parseRaw(spec, b, 'bound') as number);
  const min = bound(spec.min);
  const max = bound(spec.max);
  if ((min === undefined || n >= min) && (max === undefined || n <= max)) return undefined;
  if (min !== undefined && max !== undefined) return `must be between ${spec.min} and ${spec.max}`;
  return min !== undefined ? `must be at least ${spec.min}` : `must be at most ${spec.max}`;
}

export function loadConfig(
  overrides: ConfigOverrides = {},
  env: NodeJS.ProcessEnv = process.env,
): Config {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(SETTINGS) as SettingKey[]) {
    const spec: SettingSpec = SETTINGS[key];
    const flag = overrides[key];
    const fromEnv = env[spec.env];
    if (flag !== undefined) out[key] = parseValue(key, flag, `--${spec.flag}`);
    else if (fromEnv !== undefined && fromEnv !== '') out[key] = parseValue(key, fromEnv, spec.env);
    else
      out[key] = spec.default === undefined ? undefined : parseValue(key, spec.default, 'default');
  }
  if (out.registryUrl === undefined) out.registryUrl = out.pgUrl;
  return Object.freeze(out) as Config;
}

/** Hide passwords in URLs and whole secret values. */
export function redact(key: SettingKey, value: unknown): string {
  if (value === undefined) return '(unset)';
  const spec: SettingSpec = SETTINGS[key];
  const s = String(value);
  if (!spec.secret) return s;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) {
    try {
      const u = new URL(s);
      if (u.password) u.password = '***';
      return u.toString().replace(/\/$/, s.endsWith('/') ? '/' : '');
    } catch {
      return '***';
    }
  }
  return '***';
}

export function describeConfig(config: Config): Array<{
  key: SettingKey;
  env: string;
  flag: string;
  value: string;
  description: string;
}> {
  return (Object.keys(SETTINGS) as SettingKey[]).map((key) => ({
    key,
    env: SETTINGS[key].env,
    flag: `--${SETTINGS[key].flag}`,
    value: redact(key, config[key]),
    description: SETTINGS[key].description,
  }));
}

/** The RabbitMQ queue of an account. */
export function accountQueueName(config: Pick<Config, 'queuePrefix'>, accountId: string): string {
  return `${config.queuePrefix}${accountId}`;
}
