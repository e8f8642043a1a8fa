import { describe, expect, it } from 'vitest';
import { KERNEL_APIS, kernelApi } from './catalogue.js';
import { MODEL_APIS } from './modelCatalogue.js';

describe('the catalogues of kernel and model APIs', () => {
  it('names each kernel API once per form, each with where it is defined', () => {
    const keys = KERNEL_APIS.map((api) => `${api.form}:${api.name}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const api of KERNEL_APIS) expect(api.source, api.name).toMatch(/\/|series/);
  });

  it('says what each release does and how each RMP write goes', () => {
    for (const api of KERNEL_APIS) {
      expect(api.releases !== undefined, api.name).toBe(api.concern === 'release');
      expect(api.write !== undefined, api.name).toBe(api.concern === 'rmp-write');
    }
    expect(kernelApi('call', 'unpin_user_pages_dirty_lock')?.releases).toEqual(['dirty', 'unpin']);
    expect(kernelApi('call', '__rmpupdate')?.write).toBe('raw');
  });

  it("ties each model API to the kernel's counterpart", () => {
    for (const api of MODEL_APIS) expect(api.kernel, api.name).not.toBe('');
  });
});
