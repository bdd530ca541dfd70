/**
 * Explicit command map (oclif "explicit" strategy): no directory scan at start-up, which keeps
 * `./run ping` fast. Keys are command ids; a space in the CLI is a colon here ("vault view" → "vault:view").
 */
import Config from './config.js';
import Inventory from './inventory.js';
import Ping from './ping.js';
import Playbook from './playbook.js';
import Vars from './vars.js';
import Status from './status.js';
import Hosts from './hosts.js';
import Exec from './exec.js';
import Eval from './eval.js';
import { STEP_COMMANDS } from './step.js';
import { VAULT_COMMANDS } from './vault/index.js';

export const COMMANDS = {
  ...STEP_COMMANDS,
  status: Status,
  hosts: Hosts,
  exec: Exec,
  eval: Eval,
  config: Config,
  inventory: Inventory,
  ping: Ping,
  playbook: Playbook,
  vars: Vars,
  ...VAULT_COMMANDS,
};
