// The package-lock.json of an empty project that depends on the packed tarballs, with every npm
// package they need pinned where the repository's lockfile has it. `npm ci --offline` then installs
// the project from what the repository's `npm ci` left in npm's cache: an install that resolves
// ranges afresh needs registry metadata that `npm ci` never fetched.

/** An entry of a lockfile's "packages", as far as this module reads it (undefined fields are not written). */
interface LockEntry {
  readonly version?: string | undefined;
  readonly link?: boolean | undefined;
  readonly dependencies?: Readonly<Record<string, string>> | undefined;
  readonly optionalDependencies?: Readonly<Record<string, string>> | undefined;
  readonly peerDependencies?: Readonly<Record<string, string>> | undefined;
  readonly peerDependenciesMeta?: Readonly<Record<string, { readonly optional?: boolean }>> | undefined;
  readonly [field: string]: unknown;
}

/** A tarball made by `npm pack`: its package.json, where it is, and its sha512 integrity. */
export interface Tarball {
  readonly manifest: {
    readonly name: string;
    readonly version: string;
    readonly license?: string;
    readonly dependencies?: Readonly<Record<string, string>>;
    readonly bin?: Readonly<Record<string, string>>;
    readonly engines?: Readonly<Record<string, string>>;
  };
  readonly file: string;
  readonly integrity: string;
}

/** The consumer's package.json and package-lock.json. */
export interface Consumer {
  readonly packageJson: object;
  readonly lockfile: object;
}

/** `node_modules/a/node_modules/b` → `node_modules/a`; a top-level location → the project root (''). */
const parentOf = (location: string) => location.slice(0, Math.max(0, location.lastIndexOf('/node_modules/')));

/**
 * The consumer project of `tarballs`, pinned by `repositoryLock` (the "packages" of the repository's
 * package-lock.json).
 * @throws Error when a package the tarballs need is not in the repository's lockfile.
 */
export function consumerProject(
  tarballs: readonly Tarball[],
  repositoryLock: Readonly<Record<string, LockEntry>>,
): Consumer {
  const packed = new Map(tarballs.map((t) => [t.manifest.name, t]));
  const dependencies = Object.fromEntries(tarballs.map((t) => [t.manifest.name, `file:${t.file}`]));
  const packages: Record<string, LockEntry> = { '': { name: 'consumer', version: '1.0.0', dependencies } };
  const queue: string[] = [];
  for (const { manifest, file, integrity } of tarballs) {
    const { name, version, license, dependencies: deps, bin, engines } = manifest;
    const entry = { version, resolved: `file:${file}`, integrity, license, dependencies: deps, bin, engines };
    packages[`node_modules/${name}`] = entry;
    queue.push(`node_modules/${name}`);
  }
  // Node's lookup: the nearest node_modules/<name> from the requiring package up to the root.
  const locate = (from: string, name: string): string | undefined => {
    if (packed.has(name)) return `node_modules/${name}`;
    for (let dir = from; ; dir = parentOf(dir)) {
      const at = dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
      if (repositoryLock[at] !== undefined && repositoryLock[at].link !== true) return at;
      if (dir === '') return undefined;
    }
  };
  for (let at = queue.pop(); at !== undefined; at = queue.pop()) {
    const entry = packages[at] ?? {};
    const optional = new Set(Object.keys(entry.optionalDependencies ?? {}));
    const peers = Object.keys(entry.peerDependencies ?? {}).filter(
      (name) => entry.peerDependenciesMeta?.[name]?.optional !== true,
    );
    for (const name of [...Object.keys(entry.dependencies ?? {}), ...optional, ...peers]) {
      const found = locate(at, name);
      if (found === undefined) {
        if (optional.has(name)) continue;
        throw new Error(`${at} needs ${name}, which the repository's package-lock.json does not have`);
      }
      if (packages[found] !== undefined) continue;
      // Whether it was a dev dependency of the repository says nothing here.
      const { dev: _d, devOptional: _o, peer: _p, ...pinned } = repositoryLock[found] ?? {};
      packages[found] = pinned;
      queue.push(found);
    }
  }
  return {
    packageJson: { name: 'consumer', version: '1.0.0', private: true, type: 'module', dependencies },
    lockfile: { name: 'consumer', version: '1.0.0', lockfileVersion: 3, requires: true, packages },
  };
}
