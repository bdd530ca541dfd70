/**
 * Explicit command map (oclif "explicit" strategy): no directory scan at start-up, which keeps
 * `./run ping` fast. Keys are command ids; a space in the CLI is a colon here ("vault view" → "vault:view").
 */
import Config from './config.js';

export const COMMANDS = {
  config: Config,
};
