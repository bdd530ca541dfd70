/**
 * The system modules (commands, packages, services, HTTP, waits, LVM, Kubernetes and Helm), registered by
 * src/modules/index.ts.
 */
import type { Module } from '../types.js';
import { command } from './command.js';
import { helmModule } from './helm.js';
import { k8s } from './k8s.js';
import { k8sInfo } from './k8s_info.js';
import { k8sJsonPatch } from './k8s_json_patch.js';
import { lvg } from './lvg.js';
import { pkg } from './package.js';
import { pause } from './pause.js';
import { ping } from './ping.js';
import { pip } from './pip.js';
import { raw } from './raw.js';
import { service } from './service.js';
import { setup } from './setup.js';
import { shell } from './shell.js';
import { systemd, systemdService } from './systemd.js';
import { uri } from './uri.js';
import { waitFor } from './wait_for.js';

export const SYSTEM_MODULES: Module[] = [
  command,
  shell,
  raw,
  ping,
  setup,
  pkg,
  service,
  systemd,
  systemdService,
  pip,
  uri,
  waitFor,
  pause,
  lvg,
  k8s,
  k8sInfo,
  k8sJsonPatch,
  helmModule,
];
