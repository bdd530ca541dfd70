/**
 * Lets plain `node` (Node 24 strips types natively) run the project's TypeScript test tools, whose relative
 * imports end in `.js` as NodeNext requires: a relative `./x.js` that does not exist resolves to `./x.ts`.
 *   node --import ./test/support/ts-resolve.ts test/support/hosts-cli.ts --count 50
 * (Written by hand: a dozen lines; a loader package would be a new dependency for this alone.)
 */
import { registerHooks } from 'node:module';

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (e) {
      if ((specifier.startsWith('.') || specifier.startsWith('/')) && specifier.endsWith('.js')) {
        return nextResolve(`${specifier.slice(0, -3)}.ts`, context);
      }
      throw e;
    }
  },
});
