// A module resolve hook that adds the workspace's "@snp-ref/source" export condition, so sibling
// packages resolve to their TypeScript sources (what `node --conditions=@snp-ref/source` does).
export async function resolve(specifier, context, nextResolve) {
  return nextResolve(specifier, { ...context, conditions: ['@snp-ref/source', ...context.conditions] });
}
