/**
 * Every migration, in order. A migration is never edited once released: add a
 * new file with the next number and list it here.
 */
import * as core from './001-core.js';
import * as registry from './002-registry.js';
import * as alerts from './003-alerts.js';
import * as ledgerRetention from './004-ledger-retention.js';
import * as publishHints from './005-publish-hints.js';
import * as alertRulesUnique from './006-alert-rules-unique.js';
import * as goneAccounts from './007-gone-accounts.js';

export interface Migration {
  name: string;
  sql: string;
  /**
   * false: runs outside a transaction (CREATE INDEX CONCURRENTLY); it must then be
   * one statement that is safe to run again, since a failure cannot roll it back.
   */
  transaction?: boolean;
}

export const MIGRATIONS: readonly Migration[] = [
  core,
  registry,
  alerts,
  ledgerRetention,
  publishHints,
  alertRulesUnique,
  goneAccounts,
];
