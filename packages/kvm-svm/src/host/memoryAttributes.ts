/**
 * A VM's memory attributes (KVM_SET_MEMORY_ATTRIBUTES, virt/kvm/kvm_main.c): which guest frames are
 * private (KVM_MEMORY_ATTRIBUTE_PRIVATE). Kept as sorted, disjoint, non-adjacent gfn ranges, so that
 * a range of any size costs one entry.
 */
export class MemoryAttributes {
  /** [first gfn, end gfn) of each private range, in order. */
  private ranges: [number, number][] = [];

  /** Sets [start, end) private or shared. */
  set(start: number, end: number, isPrivate: boolean): void {
    const kept: [number, number][] = [];
    for (const [s, e] of this.ranges) {
      if (e <= start || s >= end) kept.push([s, e]);
      else {
        if (s < start) kept.push([s, start]);
        if (e > end) kept.push([end, e]);
      }
    }
    if (isPrivate) kept.push([start, end]);
    kept.sort((a, b) => a[0] - b[0]);
    const merged: [number, number][] = [];
    for (const range of kept) {
      const last = merged.at(-1);
      if (last !== undefined && last[1] >= range[0]) last[1] = Math.max(last[1], range[1]);
      else merged.push([range[0], range[1]]);
    }
    this.ranges = merged;
  }

  /** Whether guest frame `gfn` is private. */
  isPrivate(gfn: number): boolean {
    let [lo, hi] = [0, this.ranges.length - 1];
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const [s, e] = this.ranges[mid] as [number, number];
      if (gfn < s) hi = mid - 1;
      else if (gfn >= e) lo = mid + 1;
      else return true;
    }
    return false;
  }
}
