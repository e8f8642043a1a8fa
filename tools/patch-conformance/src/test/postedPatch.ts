// Test helper: C written for a test, as a posted series carries it.
import { type Patch, parsePatch } from '../c/patch.js';

/** One posted patch adding each file's C, as git format-patch writes a new file. */
export function posted(files: Record<string, string>): Patch {
  const diffs = Object.entries(files).map(([path, code]) => {
    const lines = code.split('\n');
    return [
      `diff --git a/${path} b/${path}`,
      'new file mode 100644',
      '--- /dev/null',
      `+++ b/${path}`,
      `@@ -0,0 +1,${lines.length} @@`,
      ...lines.map((l) => `+${l}`),
    ].join('\n');
  });
  const text = [
    'From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001',
    'From: A Developer <dev@example.org>',
    'Subject: [PATCH 1/1] KVM: SEV: a launch update',
    '',
    '---',
    ...diffs,
    '',
  ].join('\n');
  return parsePatch([{ name: 'shape.patch', text }], 'shape.patch');
}
