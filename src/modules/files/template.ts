/**
 * `template`: render a controller template (ctx.findFile('templates', …), ctx.renderTemplate) and write it
 * with copy's semantics (checksum first, backup, validate, mode/owner/group, diff). The template options
 * Ansible passes to Jinja (trim_blocks, lstrip_blocks, the delimiters) are handed to the renderer as a
 * `#jinja2:` header line, which a header already in the file overrides — as in Ansible.
 */
import { readFileSync, statSync } from 'node:fs';
import { baseName, boolArg, defineModule, Fail, FILE_COMMON, ModuleArgError, strArg, wantAttrs } from './common.js';
import { bufferSource, deliver } from './copy.js';

const OPTIONS = [
  'trim_blocks',
  'lstrip_blocks',
  'block_start_string',
  'block_end_string',
  'variable_start_string',
  'variable_end_string',
  'comment_start_string',
  'comment_end_string',
] as const;

const PARAMS = [
  'src',
  'dest',
  'backup',
  'force',
  'follow',
  'validate',
  'newline_sequence',
  'output_encoding',
  ...OPTIONS,
  ...FILE_COMMON,
];

function pyStr(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r')}'`;
}

/** `#jinja2:` line for the task's template options (none given → no header). */
function headerFor(args: Record<string, unknown>): string | undefined {
  const parts: string[] = [];
  for (const k of OPTIONS) {
    const v = args[k];
    if (v === undefined || v === null) continue;
    if (k === 'trim_blocks' || k === 'lstrip_blocks') parts.push(`${k}: ${boolArg(args, k) ? 'True' : 'False'}`);
    else {
      const s = String(v);
      if (s.includes(',')) throw new ModuleArgError(`${k} must not contain a comma`);
      parts.push(`${k}: ${pyStr(s)}`);
    }
  }
  return parts.length ? parts.join(', ') : undefined;
}

export const templateModule = defineModule({
  name: 'template',
  params: PARAMS,
  async run(args, ctx, r) {
    const srcArg = strArg(args, 'src');
    const destArg = strArg(args, 'dest');
    if (!srcArg || !destArg) throw new ModuleArgError('src and dest are required');
    let nl = strArg(args, 'newline_sequence') ?? '\n';
    nl = ({ '\\n': '\n', '\\r': '\r', '\\r\\n': '\r\n' } as Record<string, string>)[nl] ?? nl;
    if (!['\n', '\r', '\r\n'].includes(nl)) throw new ModuleArgError('newline_sequence needs to be one of: \\n, \\r or \\r\\n');
    const enc = (strArg(args, 'output_encoding') ?? 'utf-8').toLowerCase().replace('_', '-');
    if (enc !== 'utf-8' && enc !== 'utf8') throw new ModuleArgError(`output_encoding ${enc} is not supported (only utf-8)`);

    const file = ctx.findFile('templates', srcArg);
    if (!file) throw new Fail(`could not find or access '${srcArg}': looked in the role's and playbook's templates/ directories; check the path`);
    let text: string;
    let srcMode: number;
    try {
      const raw = readFileSync(file);
      srcMode = statSync(file).mode & 0o7777;
      text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch (e) {
      if (e instanceof TypeError) throw new Fail(`Template source files must be utf-8 encoded: ${file}`);
      throw new Fail(`could not read template ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const header = headerFor(args);
    if (header) {
      if (text.startsWith('#jinja2:')) text = `#jinja2: ${header}, ${text.slice('#jinja2:'.length)}`;
      else text = `#jinja2: ${header}\n${text}`;
    }
    let out: string;
    try {
      out = ctx.renderTemplate(text, file);
    } catch (e) {
      const m = e instanceof Error ? e.message : String(e);
      throw new Fail(`${e instanceof Error ? e.name : 'Error'}: ${m} (in template ${file})`);
    }
    if (nl !== '\n') out = out.replace(/\r\n|\r|\n/g, nl);
    const dest = await r.expandUser(destArg);
    const src = bufferSource(Buffer.from(out, 'utf8'), file, baseName(file), srcMode);
    return deliver(r, ctx, {
      dest,
      src,
      want: wantAttrs(args, ctx, r),
      force: boolArg(args, 'force', true),
      follow: boolArg(args, 'follow', false),
      backup: boolArg(args, 'backup'),
      isContent: false,
      ...(strArg(args, 'validate') ? { validate: strArg(args, 'validate')! } : {}),
    });
  },
});
