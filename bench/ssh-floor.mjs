// The floor for `./run ping`: raw ssh2, nothing else. For every host at once: connect (key auth, no host
// key check), exec `true`, wait for the channel to close, disconnect. Plain JS importing only ssh2, so
// its start-up is the least a Node process needs. Usage: node bench/ssh-floor.mjs hosts.json
// (hosts.json: [{ "host": "127.77.0.1", "port": 22, "user": "root", "key": "/path/to/key" }, …])
import { readFileSync } from 'node:fs';
import process from 'node:process';
/* global console */
import ssh2 from 'ssh2';

const hosts = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const keys = new Map();
let failed = 0;
await Promise.all(
  hosts.map(
    (h) =>
      new Promise((resolve) => {
        if (!keys.has(h.key)) keys.set(h.key, readFileSync(h.key));
        const c = new ssh2.Client();
        const done = (ok) => {
          if (!ok) failed++;
          c.end();
          resolve();
        };
        c.on('ready', () => {
          c.exec('true', (err, s) => {
            if (err) return done(false);
            s.on('close', () => done(true)).resume();
            s.stderr.resume();
          });
        });
        c.on('error', () => done(false));
        c.connect({ host: h.host, port: h.port, username: h.user, privateKey: keys.get(h.key), readyTimeout: 60_000 });
        c.setNoDelay(true); // as the runner does: without it every small packet waits for a delayed ACK
      }),
  ),
);
if (failed) {
  console.error(`floor: ${failed} of ${hosts.length} hosts failed`);
  process.exit(1);
}
