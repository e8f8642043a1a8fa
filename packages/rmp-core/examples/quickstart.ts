// A guest page's life in the RMP: the host assigns it, the guest validates and uses it, the host
// is locked out, the sanity check refuses a double assignment, and the page goes back to the host.
import {
  checkGuestAccess,
  checkHostAccess,
  checkInvariants,
  codeName,
  entryText,
  formatFtrace,
  HostRmp,
  hostRmpUpdateRetName,
  PvalidateRet,
  pvalidate,
  RmpTable,
  TraceRing,
} from '@snp-ref/rmp-core';

const host = new HostRmp(RmpTable.create(2 ** 18), { rejectAssignedOnUpdate: true }); // 1 GiB host
const ring = new TraceRing();
host.table.trace.subscribe(ring.sink);

const guest = { asid: 1, vmpl: 0 } as const;
const pfn = 0x1234;
const gpa = 0x7000;

host.makePrivate(pfn, gpa, guest.asid, false, 'kvm');
console.log('assigned:   ', entryText(host.table.read(pfn)));

const before = checkGuestAccess(host.table, guest, { pfn, gpa, kind: 'read', private: true });
console.log('guest read before PVALIDATE:', before.kind);

const validated = pvalidate(host.table, guest, { pfn, gpa, pageSize: '4K', validate: true });
console.log('PVALIDATE:', validated.kind === 'ret' ? codeName(PvalidateRet, validated.ret) : validated.kind);
console.log('validated:  ', entryText(host.table.read(pfn)));

console.log(
  'guest read: ',
  checkGuestAccess(host.table, guest, { pfn, gpa, kind: 'read', private: true }).kind,
);
console.log('host write: ', checkHostAccess(host.table, { pfn, kind: 'write' }).kind);

const again = host.makePrivate(pfn, 0x9000, 2, false, 'kvm');
console.log('reassign to ASID 2:', hostRmpUpdateRetName(again));

host.resetToHypervisor(pfn, 'kvm');
console.log('host write after reset:', checkHostAccess(host.table, { pfn, kind: 'write' }).kind);
console.log('invariant violations:', checkInvariants(host.table).length);
process.stdout.write(formatFtrace(ring.events()));
