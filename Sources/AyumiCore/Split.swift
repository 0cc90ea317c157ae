/// Splits `points` by integer `weights` with the largest-remainder method, so the parts always add
/// up to the whole. Ties between equal remainders are broken by `tieBreak` (lower wins), which the
/// caller derives from the event id: a stream of 1-point awards funded half and half then lands on
/// both sponsors evenly instead of always on the first one listed, and the same event always
/// splits the same way.
public func largestRemainderSplit(points: Int64, weights: [Int64], tieBreak: [UInt64]) -> [Int64] {
    precondition(points >= 0 && !weights.isEmpty && weights.count == tieBreak.count)
    precondition(weights.allSatisfy { $0 > 0 })
    let total = weights.reduce(0, +)
    var parts = weights.map { points * $0 / total }
    let remainders = weights.map { points * $0 % total }
    var left = points - parts.reduce(0, +)
    let order = weights.indices.sorted { (remainders[$0], tieBreak[$1]) > (remainders[$1], tieBreak[$0]) }
    for index in order where left > 0 {
        parts[index] += 1
        left -= 1
    }
    precondition(parts.reduce(0, +) == points)
    return parts
}

/// FNV-1a: a stable hash (Swift's `Hasher` is seeded per process, so it cannot be used for results
/// that must replay identically).
public func stableHash(_ text: String) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 {
        hash ^= UInt64(byte)
        hash &*= 0x0000_0100_0000_01B3
    }
    return hash
}
