/**
 * `replace`: Python `re.subn(regexp, replace, text)` with MULTILINE over the whole file (or the section
 * between `after` and `before`, found with DOTALL), on text decoded with `encoding`.
 */
import { boolArg, defineModule, Fail, FILE_COMMON, pathArg, strArg, wantAttrs } from './common.js';
import { commitEdit, readTarget } from './edit.js';
import { pyLineRegex, pySubn } from './regex.js';

const PARAMS = ['path', 'dest', 'destfile', 'name', 'regexp', 'replace', 'after', 'before', 'backup', 'validate', 'encoding', 'others', ...FILE_COMMON];

export const replaceModule = defineModule({
  name: 'replace',
  params: PARAMS,
  async run(args, ctx, r) {
    const path = await r.expandUser(pathArg(args, ['path', 'dest', 'destfile', 'name']));
    const regexp = strArg(args, 'regexp', { required: true })!;
    const repl = strArg(args, 'replace') ?? '';
    const after = strArg(args, 'after');
    const before = strArg(args, 'before');
    const encoding = (strArg(args, 'encoding') ?? 'utf-8').toLowerCase();
    const validate = strArg(args, 'validate');
    const want = wantAttrs(args, ctx, r);
    const t = await readTarget(r, path);
    if (!t.info.exists) throw new Fail(`Path ${path} does not exist !`, { rc: 257 });
    const latin = ['latin-1', 'latin1', 'iso-8859-1', 'iso8859-1', 'ascii', 'us-ascii'].includes(encoding);
    if (!latin && encoding !== 'utf-8' && encoding !== 'utf8') throw new Fail(`encoding ${encoding} is not supported: use utf-8 or latin-1`);
    let contents: string;
    try {
      contents = latin ? t.content!.toString('latin1') : new TextDecoder('utf-8', { fatal: true }).decode(t.content!);
    } catch {
      throw new Fail(`Unable to read the contents of ${path}: it is not valid ${encoding} (set encoding)`);
    }
    let pattern = '';
    if (after && before) pattern = `${after}(?P<subsection>.*?)${before}`;
    else if (after) pattern = `${after}(?P<subsection>.*)`;
    else if (before) pattern = `(?P<subsection>.*)${before}`;
    let section = contents;
    let start = 0;
    let end = contents.length;
    if (pattern) {
      const re0 = pyLineRegex(pattern, { dotall: true });
      const m = new RegExp(re0.source, re0.flags + 'd').exec(contents);
      if (!m) return { changed: false, rc: 0, msg: `Pattern for before/after params did not match the given file: ${pattern}` };
      [start, end] = m.indices!.groups!.subsection!;
      section = contents.slice(start, end);
    }
    const [out, n] = pySubn(pyLineRegex(regexp, { multiline: true, global: true }), repl, section);
    const changed = n > 0 && out !== section;
    const result = changed ? contents.slice(0, start) + out + contents.slice(end) : contents;
    const extra: Record<string, unknown> = { rc: 0 };
    const enc = (s: string): Buffer => Buffer.from(s, latin ? 'latin1' : 'utf8');
    return commitEdit(r, ctx, {
      t,
      next: enc(result),
      changed,
      msg: changed ? `${n} replacements made` : '',
      want,
      backup: boolArg(args, 'backup'),
      ...(validate ? { validate } : {}),
      ...(changed ? { diff: { before_header: path, before: contents, after_header: path, after: result } } : {}),
      extra,
      backupKey: 'backup_file',
    });
  },
});
