/**
 * The file, content, account and certificate modules (src/modules/files/*), for the registry in
 * src/modules/index.ts.
 */
import type { Module } from '../types.js';
import { authorizedKeyModule } from './authorized_key.js';
import { blockinfileModule } from './blockinfile.js';
import { copyModule } from './copy.js';
import { fetchModule } from './fetch.js';
import { fileModule } from './file.js';
import { getUrlModule } from './get_url.js';
import { lineinfileModule } from './lineinfile.js';
import { modprobeModule } from './modprobe.js';
import { opensshKeypairModule } from './openssh_keypair.js';
import { opensslCsrPipeModule } from './openssl_csr_pipe.js';
import { opensslPrivatekeyModule } from './openssl_privatekey.js';
import { replaceModule } from './replace.js';
import { slurpModule } from './slurp.js';
import { statModule } from './stat.js';
import { sysctlModule } from './sysctl.js';
import { templateModule } from './template.js';
import { unarchiveModule } from './unarchive.js';
import { userModule } from './user.js';
import { x509CertificatePipeModule } from './x509_certificate_pipe.js';

export const FILE_MODULES: Module[] = [
  fileModule,
  copyModule,
  templateModule,
  lineinfileModule,
  blockinfileModule,
  replaceModule,
  statModule,
  slurpModule,
  fetchModule,
  getUrlModule,
  unarchiveModule,
  authorizedKeyModule,
  sysctlModule,
  modprobeModule,
  userModule,
  opensshKeypairModule,
  opensslPrivatekeyModule,
  opensslCsrPipeModule,
  x509CertificatePipeModule,
];
