/**
 * The playbook model: YAML playbooks, task files and roles → typed, positioned nodes.
 *
 * Loading is static (what ansible-playbook does before the first task runs): `import_playbook`, `import_tasks`
 * and `import_role` are expanded, roles and their dependencies are loaded, every keyword and module is
 * validated. Dynamic pieces (`include_tasks`, `include_role`, `include_vars`) stay typed nodes that the
 * executor expands at run time with `expandIncludeTasks` / `expandIncludeRole` (./compile.ts).
 *
 * Keyword names stay as users write them (`delegate_to`, `loop_control`), so error messages, `--explain`
 * output and the model read the same. Templated values (Jinja) are kept raw; the engine templates them.
 */
import type { Tags } from 'yaml';
import type { SourcePos } from '../core/errors.js';
import type { FileDecryptor, VarMap } from '../vars/files.js';

export type { SourcePos } from '../core/errors.js';
export type { VarDef, VarMap } from '../vars/files.js';

// ---------------------------------------------------------------------------------------------------
// Modules: the known-module set is an input, so modules can declare their own argument schema.

/** One thing wrong with a task's module arguments. `arg` (when given) points the error at that argument. */
export interface ArgProblem {
  message: string;
  arg?: string;
  hint?: string;
}

export interface ModuleSpec {
  /** accepts free-form text (`command: echo hi`, `shell: …`), kept in `Action.freeForm` */
  freeForm?: boolean;
  /**
   * For free-form modules that, like `command`/`shell`, keep `k=v` words in the text: the only words split
   * off as arguments (`chdir=`, `creates=` …). Undefined: every `k=v` word is an argument.
   */
  freeFormKeys?: readonly string[];
  /** Checks arguments before anything runs. Called with the normalised action; templated values are raw. */
  validate?(action: Readonly<Action>): ArgProblem[];
}

/** Known modules by short name (`copy`, `k8s`) or by full name when no short name is wanted. */
export type ModuleMap = ReadonlyMap<string, ModuleSpec>;

// ---------------------------------------------------------------------------------------------------
// Keywords

/** One entry of `when` / `failed_when` / `changed_when` / `until`, with where it was written. */
export interface Cond {
  expr: string | boolean;
  pos: SourcePos;
}

export interface LoopControl {
  loop_var?: string;
  index_var?: string;
  label?: string;
  pause?: number | string;
  extended?: boolean | string;
  extended_allitems?: boolean | string;
}

/** Boolean keyword: a literal, or a template string the engine evaluates. */
export type BoolOrTemplate = boolean | string;
/** Integer keyword: a literal, or a template string. */
export type IntOrTemplate = number | string;

/**
 * Task, block, role and play keywords (each node kind accepts its own subset, see ./keywords.ts).
 * Values are normalised: lists where Ansible takes lists (`tags: a,b` → ['a','b'], `notify: h` → ['h']),
 * booleans from `yes`/`no`/`true` strings; templates stay strings.
 */
export interface Keywords {
  when?: Cond[];
  loop?: unknown;
  /** the lookup of a `with_<lookup>:` loop (`items`, `fileglob`, `dict` …); its terms are in `loop` */
  loop_with?: string;
  loop_control?: LoopControl;
  register?: string;
  until?: Cond[];
  retries?: IntOrTemplate;
  delay?: IntOrTemplate;
  failed_when?: Cond[];
  changed_when?: Cond[];
  ignore_errors?: BoolOrTemplate;
  ignore_unreachable?: BoolOrTemplate;
  delegate_to?: string;
  delegate_facts?: BoolOrTemplate;
  run_once?: BoolOrTemplate;
  become?: BoolOrTemplate;
  become_user?: string;
  become_method?: string;
  become_flags?: string;
  become_exe?: string;
  /** each entry a mapping or a template string; later entries win when merged */
  environment?: unknown[];
  no_log?: BoolOrTemplate;
  tags?: string[];
  check_mode?: BoolOrTemplate;
  diff?: BoolOrTemplate;
  notify?: string[];
  vars?: VarMap;
  listen?: string[];
  any_errors_fatal?: BoolOrTemplate;
  throttle?: IntOrTemplate;
  remote_user?: string;
  connection?: string;
  port?: IntOrTemplate;
  timeout?: IntOrTemplate;
  async?: IntOrTemplate;
  poll?: IntOrTemplate;
  module_defaults?: unknown;
  collections?: string[];
  debugger?: string;
}
export type KeywordName = keyof Keywords;
export type KeywordPositions = Partial<Record<KeywordName | string, SourcePos>>;

// ---------------------------------------------------------------------------------------------------
// Tasks

export interface Action {
  /** normalised module name: `ansible.builtin.copy` → `copy`, `kubernetes.core.k8s` → `k8s` */
  module: string;
  /** the module as written (Ansible shows this in listings when a task has no name) */
  written: string;
  args: Record<string, unknown>;
  /** where the module's arguments start (the module key's value) */
  argsPos: SourcePos;
  /** where each argument was written (inline mapping, `args:` or `k=v` text) */
  argPos: Record<string, SourcePos>;
  /** free-form text: `command: echo hi` → `echo hi`; `include_tasks: x.yml` → `x.yml` */
  freeForm?: string;
  /** `args: "{{ x }}"` or `copy: "{{ x }}"`: a template that evaluates to (more) arguments */
  varParams?: string;
}

interface NodeBase {
  /** raw (Jinja kept) */
  name?: string;
  keywords: Keywords;
  keywordPos: KeywordPositions;
  /** start of the task/block mapping */
  pos: SourcePos;
  /** the role whose file defines this node */
  role?: Role;
}

/** Anything with a module. `local_action` sets `keywords.delegate_to` to `localhost`. */
export interface Task extends NodeBase {
  kind: 'task';
  action: Action;
  /** handlers only: the topics this handler listens to besides its name */
  listen?: string[];
}

export type Handler = Task & { listen: string[] };

/** `apply:` of include_tasks / include_role: keywords applied to the included tasks through a block. */
export interface ApplyKeywords {
  keywords: Keywords;
  keywordPos: KeywordPositions;
  pos: SourcePos;
}

/** Dynamic task include, expanded by the executor (templated file names, loops). */
export interface IncludeTasks extends NodeBase {
  kind: 'include_tasks';
  action: Action;
  /** raw file name, may be templated */
  file: string;
  apply?: ApplyKeywords;
  /** absolute path, when `file` has no template and was found at load */
  resolved?: string;
  /** import/include base directories in effect, for run-time resolution (innermost first) */
  searchDirs: string[];
}

/** Dynamic role include, expanded by the executor. */
export interface IncludeRole extends NodeBase {
  kind: 'include_role';
  action: Action;
  /** role name, may be templated */
  roleName: string;
  tasksFrom?: string;
  varsFrom?: string;
  defaultsFrom?: string;
  handlersFrom?: string;
  public?: BoolOrTemplate;
  allowDuplicates?: boolean;
  apply?: ApplyKeywords;
  /** the role directory, when `roleName` has no template and was found at load */
  resolved?: string;
}

/** `include_vars` (file, dir or free-form file), run by the engine. */
export interface IncludeVars extends NodeBase {
  kind: 'include_vars';
  action: Action;
  /** file or directory (raw, may be templated) */
  source: { file?: string; dir?: string };
  /** `name:`: load into this variable instead of the top level */
  into?: string;
}

/**
 * `import_role`: static, so the role is loaded (and validated) at load time; compile() expands it into
 * the role's dependencies and tasks at this place.
 */
export interface ImportRole extends NodeBase {
  kind: 'import_role';
  action: Action;
  ref: RoleRef;
}

/** What a block stands for when it is not a user `block:` but an expanded static import. */
export interface ImportOrigin {
  kind: 'import_tasks';
  /** as written (may have been templated with play/extra vars) */
  target: string;
  /** absolute path of the imported file */
  file: string;
}

export interface Block extends NodeBase {
  kind: 'block';
  block: TaskNode[];
  rescue: TaskNode[];
  always: TaskNode[];
  /** set when this block is an expanded `import_tasks` (its keywords are the import's) */
  origin?: ImportOrigin;
}

export type TaskNode = Task | Block | IncludeTasks | IncludeRole | IncludeVars | ImportRole;
export type TaskLike = Exclude<TaskNode, Block>;

// ---------------------------------------------------------------------------------------------------
// Roles

export interface Role {
  /** as referenced (a path reference keeps the path; an absolute path becomes its basename), as Ansible names it */
  name: string;
  /** absolute role directory */
  path: string;
  /** identity within a play: same name + params + when/tags/vars + from-files → same Role object */
  id: string;
  /** role parameters (keys of the reference that are not keywords) */
  params: VarMap;
  /** keywords of the (first) reference: when, tags, vars, become … */
  keywords: Keywords;
  keywordPos: KeywordPositions;
  /** defaults/main.yml (or defaults/main/*), positioned */
  defaults: VarMap;
  /** vars/main.yml (or vars/main/*), positioned */
  vars: VarMap;
  tasks: TaskNode[];
  handlers: TaskNode[];
  dependencies: RoleRef[];
  allowDuplicates: boolean;
  /** the files loaded for each part (absent when the role has none) */
  files: { tasks?: string; handlers?: string; defaults: string[]; vars: string[]; meta?: string };
  /** loaded by include_role/import_role (from_files apply) rather than `roles:` */
  fromInclude: boolean;
}

/** One mention of a role (`roles:` entry, meta dependency, import_role). */
export interface RoleRef {
  name: string;
  pos: SourcePos;
  role: Role;
}

// ---------------------------------------------------------------------------------------------------
// Plays and playbooks

export interface VarsFileRef {
  /** a file, or a list tried in order (first found wins); raw, may be templated */
  path: string | string[];
  pos: SourcePos;
}

export interface VarsPrompt {
  name: string;
  prompt?: string;
  default?: unknown;
  private: boolean;
  confirm?: boolean;
  encrypt?: string;
  salt_size?: number;
  salt?: string;
  unsafe?: boolean;
  pos: SourcePos;
}

export interface Play {
  /** raw; defaults to the host pattern joined with ',' as Ansible does */
  name: string;
  /** raw pattern(s), may be templated */
  hosts: string | string[];
  pos: SourcePos;
  /** the playbook file that defines the play */
  file: string;
  /** base directory for relative paths and `roles/` (the defining playbook's directory) */
  dir: string;
  vars: VarMap;
  vars_files: VarsFileRef[];
  vars_prompt: VarsPrompt[];
  gather_facts?: BoolOrTemplate;
  gather_subset?: string[];
  gather_timeout?: IntOrTemplate;
  fact_path?: string;
  max_fail_percentage?: number | string;
  /** batch sizes: a number, a percentage (`30%`), a template, or a list of those */
  serial?: number | string | (number | string)[];
  strategy?: string;
  order?: string;
  force_handlers?: BoolOrTemplate;
  /** conditions carried from `import_playbook … when:` (outermost first) */
  when: Cond[];
  /** inheritable keywords (become…, any_errors_fatal, environment, tags, vars, check_mode …) */
  keywords: Keywords;
  keywordPos: KeywordPositions;
  roles: RoleRef[];
  pre_tasks: TaskNode[];
  tasks: TaskNode[];
  post_tasks: TaskNode[];
  handlers: TaskNode[];
  /** handlers brought in by `import_role` (Ansible appends them to the play's handlers) */
  importedHandlers: { role: Role; nodes: TaskNode[] }[];
  /** import_playbook statements that led here, outermost first */
  importedFrom: SourcePos[];
}

export interface LoadOptions {
  /** the known modules (besides the engine's own: include_*, import_*, meta) */
  modules: ModuleMap;
  /** extra role directories searched after `<playbook dir>/roles` */
  rolesPath?: readonly string[];
  /** values for templated static names (import paths, role names), like ansible-playbook's `-e` */
  extraVars?: Readonly<Record<string, unknown>>;
  /** YAML tags (`!vault`) */
  customTags?: Tags;
  /** whole-file vault decryption for role vars/defaults */
  decryptFile?: FileDecryptor;
  /** bound on nested imports/includes/role dependencies (default 32) */
  maxDepth?: number;
}

export interface Playbook {
  file: string;
  plays: Play[];
  /** every file read while loading (playbooks, task files, role files) */
  files: string[];
  options: LoadOptions;
}
