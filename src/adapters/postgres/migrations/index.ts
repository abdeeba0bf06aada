/**
 * Every migration, in order. A migration is never edited once released: add a
 * new file with the next number and list it here.
 */
import * as core from './001-core.js';

export interface Migration {
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [core];
