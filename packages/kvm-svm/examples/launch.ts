// A VMM launches an SNP guest through KVM: pages are given by hva AND gpa, measured by the firmware,
// and a firmware failure part-way reverts exactly the pages that call changed.

import { Kvm, launchUpdateReviewed, Machine } from '@snp-ref/kvm-svm';
import { SeededPages, SevStatus } from '@snp-ref/psp-firmware';
import { entryText } from '@snp-ref/rmp-core';

const machine = Machine.create({ hostPages: 4096, seed: 'example' });
const kvm = new Kvm(machine);
const vm = kvm.createVm({ name: 'guest', vcpus: 1 });
const hva = 0x7f00_0000_0000;
vm.addressSpace.map(hva, 0x100, 8); // the VMM's guest memory: host pages 0x100..0x107
const contents = new SeededPages('example');
for (let pfn = 0x100; pfn < 0x108; pfn++) machine.memory.write(pfn, contents.next());

console.log('LAUNCH_START', vm.launchStart({ policy: 0x3_0000n }));
console.log('LAUNCH_UPDATE 0x0-0x3fff', launchUpdateReviewed(vm, { gpa: 0, hva, len: 4 * 4096, type: 1 }));

machine.faults.inject('psp.launch_update', 2, SevStatus.INVALID_PAGE_STATE); // the firmware will fail page 1
const failed = launchUpdateReviewed(vm, { gpa: 0x4000, hva: hva + 4 * 4096, len: 4 * 4096, type: 1 });
console.log('LAUNCH_UPDATE 0x4000-0x7fff', failed);
for (let pfn = 0x103; pfn < 0x108; pfn++)
  console.log(`  pfn 0x${pfn.toString(16)}`, entryText(machine.rmp.read(pfn)));
console.log('pinned pages left:', machine.pages.pinned().size);

console.log('LAUNCH_FINISH', vm.launchFinish());
console.log('measurement', Buffer.from(machine.firmware.launchDigest(vm.gctx ?? 0) ?? []).toString('hex'));
