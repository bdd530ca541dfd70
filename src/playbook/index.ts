/** Public API of the playbook model. */
export type * from './types.js';
export { loadPlaybook } from './load.js';
export { resolveTaskFile, type FromFiles } from './loader.js';
export {
  compilePlay, expandIncludeRole, expandIncludeTasks, isGroup,
  type IncludedRole, type KeywordSource, type PlanNode, type PlayPlan, type Section, type TaskContext,
} from './compile.js';
export { formatListing, listTasks, selectTasks, shouldRun, taskLabel, type ListedTask, type PlayListing, type TagSelection } from './tags.js';
export { normaliseModule, ENGINE_ACTIONS } from './actions.js';
export { floorModules } from './floor-modules.js';
