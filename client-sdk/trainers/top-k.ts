/**
 * The k best indices of `scores`, best first, skipping `exclude`: one pass with a k-slot sorted
 * buffer (O(n + inserts · k)), so ranking a catalogue of a million items allocates nothing of its size.
 * NaN scores never enter; ties keep the lower index first.
 */
export function topK(scores: ArrayLike<number>, k: number, exclude?: ReadonlySet<number>): number[] {
  const idx: number[] = [];
  const val: number[] = [];
  if (k <= 0) return idx;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (!(s === s)) continue; // NaN
    if (idx.length === k && !(s > val[k - 1]!)) continue;
    if (exclude?.has(i)) continue;
    let at = idx.length === k ? k - 1 : idx.length;
    while (at > 0 && s > val[at - 1]!) at--;
    if (idx.length === k) {
      idx.pop();
      val.pop();
    }
    idx.splice(at, 0, i);
    val.splice(at, 0, s);
  }
  return idx;
}
