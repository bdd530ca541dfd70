// Lets Node run the TypeScript sources directly (with --experimental-transform-types): a relative
// `./x.js` import resolves to `./x.ts` when only the .ts file exists (the sources use NodeNext-style
// `.js` specifiers). Used by the benchmarks only; the CLI runs the compiled dist/.
import { existsSync } from 'node:fs';
import { URL, fileURLToPath } from 'node:url';
import { registerHooks } from 'node:module';

registerHooks({
  resolve(specifier, context, next) {
    if ((specifier.startsWith('./') || specifier.startsWith('../')) && specifier.endsWith('.js') && context.parentURL) {
      const url = new URL(specifier, context.parentURL);
      if (!existsSync(fileURLToPath(url))) {
        const ts = new URL(specifier.slice(0, -3) + '.ts', context.parentURL);
        if (existsSync(fileURLToPath(ts))) return next(ts.href, context);
      }
    }
    return next(specifier, context);
  },
});
