// Files of the @snp-ref/cli package. This module sits one directory below the package root both as
// source (src/) and bundled (dist/), so one relative path serves both.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The absolute path of a file of the package, such as examples/demo.json. */
export const packageFile = (path: string): string => fileURLToPath(new URL(`../${path}`, import.meta.url));

export const PACKAGE_VERSION: string = createRequire(import.meta.url)('../package.json').version;
