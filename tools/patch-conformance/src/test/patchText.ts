// Test helpers: edited copies of a patch that still read as a well-formed diff.

/** Rewrites each hunk header's line counts to match the hunk's lines (after an edit added or removed some). */
export function recountHunks(text: string): string {
  const lines = text.split('\n');
  for (let h = 0; h < lines.length; h++) {
    const header = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@(.*)$/.exec(lines[h] ?? '');
    if (header === null) continue;
    let [from, to] = [0, 0];
    for (let i = h + 1; i < lines.length; i++) {
      const line = lines[i] ?? '';
      if (line.startsWith('@@') || line.startsWith('--- ') || line.startsWith('diff ')) break;
      if (line.startsWith('+')) to++;
      else if (line.startsWith('-')) from++;
      else if (line.startsWith(' ')) {
        from++;
        to++;
      }
    }
    lines[h] = `@@ -${header[1]},${from} +${header[2]},${to} @@${header[3]}`;
  }
  return lines.join('\n');
}

/** A plain diff adding `code`'s lines to arch/x86/kvm/svm/sev.c, as a patch's text. */
export function sevPatchText(code: readonly string[]): string {
  return [
    'diff --git a/arch/x86/kvm/svm/sev.c b/arch/x86/kvm/svm/sev.c',
    '--- a/arch/x86/kvm/svm/sev.c',
    '+++ b/arch/x86/kvm/svm/sev.c',
    `@@ -0,0 +1,${code.length} @@`,
    ...code.map((line) => `+${line}`),
    '',
  ].join('\n');
}
