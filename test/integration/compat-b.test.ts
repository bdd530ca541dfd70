/**
 * Compatibility suite, second half (cases 2, 4, 6, … of test/fixtures/compat/ in name order). See
 * compat-a.test.ts and docs/compat.md.
 */
import { compatSuite } from './compat-suite.js';

compatSuite('compat (b)', (i) => i % 2 === 1);
