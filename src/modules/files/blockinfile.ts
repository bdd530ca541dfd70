/**
 * `blockinfile`: a block between `# BEGIN …` / `# END …` marker lines, inserted at EOF/BOF or after/before
 * the last line matching a regex (a `(?m)` regex is searched in the whole file), replaced in place when the
 * markers exist, removed with state=absent or an empty block. Ansible's algorithm on bytes.
 */
import type { FileDiff } from '../types.js';
import { boolArg, choiceArg, defineModule, Fail, FILE_COMMON, ModuleArgError, pathArg, strArg, wantAttrs } from './common.js';
import { argBytes, bytesToStr, commitEdit, readTarget, strToBytes, utf8 } from './edit.js';
import { pyLineRegex } from './regex.js';

const PARAMS = [
  'path',
  'dest',
  'destfile',
  'name',
  'state',
  'marker',
  'block',
  'content',
  'insertafter',
  'insertbefore',
  'create',
  'backup',
  'validate',
  'marker_begin',
  'marker_end',
  ...FILE_COMMON,
];

/** Python's bytes.splitlines(keepends=True): splits after \n, \r\n and \r. */
function splitlinesKeep(s: string): string[] {
  const out: string[] = [];
  const re = /\r\n|\r|\n/g;
  let i = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    out.push(s.slice(i, m.index + m[0].length));
    i = m.index + m[0].length;
  }
  if (i < s.length) out.push(s.slice(i));
  return out;
}

export const blockinfileModule = defineModule({
  name: 'blockinfile',
  params: PARAMS,
  async run(args, ctx, r) {
    const path = await r.expandUser(pathArg(args, ['path', 'dest', 'destfile', 'name']));
    const state = choiceArg(args, 'state', ['present', 'absent'] as const, 'present')!;
    let insertafter = strArg(args, 'insertafter');
    const insertbefore = strArg(args, 'insertbefore');
    if (insertafter !== undefined && insertbefore !== undefined) throw new ModuleArgError('parameters are mutually exclusive: insertbefore|insertafter');
    const validate = strArg(args, 'validate');
    const want = wantAttrs(args, ctx, r);
    const t = await readTarget(r, path);
    if (!t.info.exists && !boolArg(args, 'create')) throw new Fail(`Path ${path} does not exist !`, { rc: 257 });
    const original = t.content ? bytesToStr(t.content) : undefined;
    const lines = original !== undefined ? splitlinesKeep(original) : [];
    const present = state === 'present';
    if (!present && !t.info.exists) return { changed: false, msg: `File ${path} not present` };

    const diff: FileDiff = { before: original ? utf8(original) : '', after: '', before_header: `${path} (content)`, after_header: `${path} (content)` };
    if (insertbefore === undefined && insertafter === undefined) insertafter = 'EOF';
    let insertre: RegExp | undefined;
    let multiline = false;
    const insArg = insertafter !== undefined && insertafter !== 'EOF' ? insertafter : insertbefore !== undefined && insertbefore !== 'BOF' ? insertbefore : undefined;
    if (insArg !== undefined) {
      multiline = /^\(\?[aiLsux]*m[aiLmsux]*\)/.test(insArg);
      insertre = pyLineRegex(argBytes(insArg));
    }
    const markerArg = argBytes(strArg(args, 'marker') ?? '# {mark} ANSIBLE MANAGED BLOCK');
    const m0 = markerArg.replace(/\{mark\}/g, argBytes(strArg(args, 'marker_begin') ?? 'BEGIN')) + '\n';
    const m1 = markerArg.replace(/\{mark\}/g, argBytes(strArg(args, 'marker_end') ?? 'END')) + '\n';
    let block = argBytes(strArg(args, ['block', 'content']) ?? '');
    let blocklines: string[] = [];
    if (present && block) {
      if (!block.endsWith('\n')) block += '\n';
      blocklines = [m0, ...splitlinesKeep(block), m1];
    }
    let n0: number | undefined;
    let n1: number | undefined;
    lines.forEach((l, i) => {
      if (l === m0) n0 = i;
      if (l === m1) n1 = i;
    });
    if (n0 === undefined || n1 === undefined) {
      n0 = undefined;
      if (insertre) {
        if (multiline) {
          const m = insertre.exec(original ?? '');
          if (m) {
            const upto = insertafter !== undefined ? m.index + m[0].length : m.index;
            n0 = (original ?? '').slice(0, upto).split('\n').length - 1;
          }
        } else {
          lines.forEach((l, i) => {
            if (insertre!.test(l)) n0 = i;
          });
        }
        if (n0 === undefined) n0 = lines.length;
        else if (insertafter !== undefined) n0 += 1;
      } else if (insertbefore !== undefined) n0 = 0;
      else n0 = lines.length;
    } else if (n0 < n1) {
      lines.splice(n0, n1 - n0 + 1);
    } else {
      lines.splice(n1, n0 - n1 + 1);
      n0 = n1;
    }
    if (n0 > 0 && !lines[n0 - 1]!.endsWith('\n')) lines[n0 - 1] += '\n';
    lines.splice(n0, 0, ...blocklines);
    const result = lines.join('');
    diff.after = utf8(result);
    let msg = '';
    let changed = true;
    if (original === result) {
      changed = false;
    } else if (original === undefined) msg = 'File created';
    else if (blocklines.length === 0) msg = 'Block removed';
    else msg = 'Block inserted';
    return commitEdit(r, ctx, {
      t,
      next: strToBytes(result),
      changed,
      msg,
      want,
      backup: boolArg(args, 'backup'),
      ...(validate ? { validate } : {}),
      diff,
      attrDiffHeader: true,
      makeParents: true,
      backupKey: 'backup_file',
    });
  },
});
