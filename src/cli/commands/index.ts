/**
 * The command registry: every `ingest` subcommand is registered here, one
 * module each. A command file only maps flags into a typed context and calls
 * its component.
 */
import type { Command } from 'commander';
import { registerDashboard } from './dashboard.command.js';
import { registerUp } from './up.command.js';
import { registerConfig } from './config.command.js';
import { registerDb } from './db.command.js';
import { registerLoadtest } from './loadtest.command.js';
import { registerConsume } from './consume.command.js';
import { registerNotify } from './notify.command.js';
import { registerAlerts } from './alerts.command.js';
import { registerDeadletters } from './deadletters.command.js';
import { registerDispatch } from './dispatch.command.js';
import { registerMaintain } from './maintain.command.js';
import { registerQueues } from './queues.command.js';
import { registerDispatcher } from './dispatcher.command.js';
import { registerAccounts } from './accounts.command.js';
import { registerGateways } from './gateways.command.js';
import { registerSyncCache } from './sync-cache.command.js';
import { registerServeFrontend } from './serve-frontend.command.js';

export const COMMANDS: ReadonlyArray<(program: Command) => void> = [
  registerUp,
  registerDashboard,
  registerDb,
  registerConfig,
  registerAccounts,
  registerGateways,
  registerSyncCache,
  registerServeFrontend,
  registerDispatch,
  registerMaintain,
  registerQueues,
  registerDispatcher,
  registerConsume,
  registerNotify,
  registerAlerts,
  registerDeadletters,
  registerLoadtest,
];
