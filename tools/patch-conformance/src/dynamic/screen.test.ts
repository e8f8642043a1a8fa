import { describe, expect, it } from 'vitest';
import { screenC } from './screen.js';

const reasons = (code: string) => screenC(code).refusals.map((r) => `${r.line}: ${r.reason}`);

describe(screenC, () => {
  it('blanks kernel-header includes, keeping every other line where it was', () => {
    const code = '#include <linux/kvm_host.h>\n#include "svm.h"\nint x;\n';

    const screened = screenC(code);

    expect(screened.refusals).toEqual([]);
    expect(screened.code).toBe('\n\nint x;\n');
  });

  it.each([
    ['#include "/etc/hostname"', /"\/etc\/hostname"/],
    ['#include <../../../../etc/passwd.h>', /passwd/],
    ['  #  include "id_rsa"', /"id_rsa"/],
    ['%:include "/etc/hostname"', /hostname/],
    ['#inc\\\nlude "/etc/hostname"', /hostname/],
    ['#define F "/etc/hostname"\n#include F', /of a macro/],
    ['#include_next <stdio.h>', /#include_next/],
    ['#include <linux/kvm_host.h> /*\n#include "/etc/hostname" // */', /nothing may follow/],
    ['#include <linux/kvm_host.h> \\\n#include "/etc/hostname"', /nothing may follow/],
    ['#include \\\n<linux/kvm_host.h>', /nothing may follow/],
    ['#pragma GCC dependency "/etc/passwd"', /#pragma/],
    ['#embed "/etc/hostname"', /#embed/],
    ['_Pragma("GCC dependency \\"/etc/passwd\\"")', /_Pragma/],
    ['#if __has_include("/etc/shadow")\n#endif', /__has_include/],
    ['__asm__(".incbin \\"/etc/hostname\\"");', /inline assembly/],
    ['static void __attribute__((constructor)) early(void) {}', /constructor/],
    ['#define P(a, b) a##b', /token pasting/],
  ])('refuses %j', (code, reason) => {
    expect(reasons(code).join('\n')).toMatch(reason);
  });

  it('names the line of the refusal, counting spliced and commented lines', () => {
    const code = '/* one\n two */ int a; \\\n int b;\n// c\n#include "/x"\n';

    expect(screenC(code).refusals.map((r) => r.line)).toEqual([4]);
  });

  it('does not read directives or names inside comments and string literals', () => {
    const code = [
      '/* #include "/etc/hostname" asm constructor */',
      '// _Pragma("x") ## section',
      'const char *s = "#include \\"/etc/passwd\\" asm";',
      "char c = '#';",
      'int sectioned, asm_like, constructor_count;',
    ].join('\n');

    expect(screenC(code).refusals).toEqual([]);
  });
});
