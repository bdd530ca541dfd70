#!/usr/bin/env node
/**
 * Bootstrap: turn on Node's compile cache before anything else is loaded (start-up matters: `./run ping` at
 * 200 hosts is a few seconds, and every command pays this cost), then load the real entry point.
 */
import module from 'node:module';

module.enableCompileCache?.();
// A reader that stops early (`./run inventory --list | head`) is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});
void import('./main.js');
