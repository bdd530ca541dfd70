/**
 * The module names the reference installer uses (burrito-steps §5), with the argument rules that can be
 * checked without running anything. A stand-in known-module set until src/modules/ registers real specs;
 * callers may pass their own map to loadPlaybook instead.
 */
import type { Action, ArgProblem, ModuleSpec } from './types.js';

const COMMAND_KEYS = ['creates', 'removes', 'chdir', 'executable', 'stdin', 'stdin_add_newline', 'strip_empty_ends'];

function rules(opts: { required?: string[][]; exclusive?: string[][]; freeForm?: boolean; freeFormKeys?: readonly string[]; needsSomething?: boolean }): ModuleSpec {
  const spec: ModuleSpec = {
    validate(a: Readonly<Action>): ArgProblem[] {
      if (a.varParams !== undefined) return []; // arguments come from a template: checked at run time
      const has = (k: string): boolean => a.args[k] !== undefined;
      const out: ArgProblem[] = [];
      for (const alts of opts.required ?? []) {
        if (!alts.some(has)) out.push({ message: `missing required argument: ${alts.join(' or ')}`, hint: `add ${alts[0]}: …` });
      }
      for (const group of opts.exclusive ?? []) {
        const set = group.filter(has);
        if (set.length > 1) out.push({ message: `arguments are mutually exclusive: ${set.join(', ')}`, arg: set[1]!, hint: `keep only one of ${group.join(', ')}` });
      }
      if (opts.needsSomething && a.freeForm === undefined && Object.keys(a.args).filter((k) => !COMMAND_KEYS.includes(k)).length === 0) {
        out.push({ message: 'no command given', hint: 'write the command after the module name, or use cmd:/argv:' });
      }
      return out;
    },
  };
  if (opts.freeForm) spec.freeForm = true;
  if (opts.freeFormKeys) spec.freeFormKeys = opts.freeFormKeys;
  return spec;
}

const NO_RULES: ModuleSpec = {};

export function floorModules(): Map<string, ModuleSpec> {
  const m = new Map<string, ModuleSpec>();
  const cmd = rules({ freeForm: true, freeFormKeys: COMMAND_KEYS, needsSomething: true, exclusive: [['cmd', 'argv']] });
  m.set('command', cmd);
  m.set('shell', rules({ freeForm: true, freeFormKeys: COMMAND_KEYS, needsSomething: true }));
  m.set('raw', rules({ freeForm: true, freeFormKeys: ['executable'], needsSomething: true }));
  m.set('script', rules({ freeForm: true, freeFormKeys: ['creates', 'removes', 'chdir', 'executable'], needsSomething: true }));
  m.set('set_fact', { freeForm: true });
  m.set('add_host', { freeForm: true });
  m.set('group_by', { freeForm: true });
  m.set('file', rules({ required: [['path', 'dest', 'name']] }));
  m.set('copy', rules({ required: [['dest']], exclusive: [['src', 'content']] }));
  m.set('template', rules({ required: [['src'], ['dest']] }));
  m.set('package', rules({ required: [['name']] }));
  m.set('service', rules({ required: [['name']] }));
  m.set('systemd', NO_RULES);
  m.set('assert', rules({ required: [['that']] }));
  m.set('debug', rules({ exclusive: [['msg', 'var']] }));
  m.set('fail', NO_RULES);
  m.set('slurp', rules({ required: [['src', 'path']] }));
  m.set('stat', rules({ required: [['path']] }));
  m.set('replace', rules({ required: [['path', 'dest', 'destfile', 'name'], ['regexp']] }));
  m.set('lineinfile', rules({ required: [['path', 'dest', 'destfile', 'name']] }));
  m.set('blockinfile', rules({ required: [['path', 'dest', 'destfile', 'name']] }));
  m.set('uri', rules({ required: [['url']] }));
  m.set('get_url', rules({ required: [['url'], ['dest']] }));
  m.set('wait_for', NO_RULES);
  m.set('pause', NO_RULES);
  m.set('ping', NO_RULES);
  m.set('unarchive', rules({ required: [['src'], ['dest']] }));
  m.set('pip', NO_RULES);
  m.set('user', rules({ required: [['name']] }));
  m.set('authorized_key', rules({ required: [['user'], ['key']] }));
  m.set('sysctl', rules({ required: [['name']] }));
  m.set('modprobe', rules({ required: [['name']] }));
  m.set('lvg', rules({ required: [['vg']] }));
  m.set('apt_key', NO_RULES);
  m.set('apt_repository', rules({ required: [['repo']] }));
  m.set('openssh_keypair', rules({ required: [['path']] }));
  m.set('openssl_privatekey', rules({ required: [['path']] }));
  m.set('openssl_csr_pipe', NO_RULES);
  m.set('x509_certificate_pipe', NO_RULES);
  m.set('k8s', NO_RULES);
  m.set('k8s_info', rules({ required: [['kind']] }));
  m.set('k8s_json_patch', NO_RULES);
  m.set('helm', NO_RULES);
  m.set('setup', NO_RULES);
  m.set('dellemc.powerflex.info', NO_RULES);
  return m;
}
