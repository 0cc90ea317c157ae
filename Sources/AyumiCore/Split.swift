/// Splits `points` by integer `weights` with the largest-remainder method, so the parts always add
/// up to the whole. Ties between equal remainders are broken by `tieBreak` (lower wins), which the
/// caller derives from the event id: a stream of 1-point awards funded half and half then lands on
/// both sponsors evenly instead of always on the first one listed, and the same event always
/// splits the same way.
///
/// The products `points × weight` are overflow-checked: `splitFits` is what the rules check asks
/// of every rule's largest award, so a program that could overflow here never loads, and an
/// overflow at run time is a programmer error that stops the write, not a wrong split.
public func largestRemainderSplit(points: Int64, weights: [Int64], tieBreak: [UInt64]) -> [Int64] {
    precondition(points >= 0 && !weights.isEmpty && weights.count == tieBreak.count)
    precondition(splitFits(pointsMax: points, weights: weights), "the rules check bounds points and weights")
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

/// Whether splitting up to `pointsMax` points by `weights` stays within `Int64`: every weight is
/// positive, their sum does not overflow, and neither does `pointsMax × weight`.
public func splitFits(pointsMax: Int64, weights: [Int64]) -> Bool {
    guard pointsMax >= 0, !weights.isEmpty, weights.allSatisfy({ $0 > 0 }) else { return false }
    var total: Int64 = 0
    for weight in weights {
        let (sum, sumOverflow) = total.addingReportingOverflow(weight)
        let (_, productOverflow) = pointsMax.multipliedReportingOverflow(by: weight)
        guard !sumOverflow, !productOverflow else { return false }
        total = sum
    }
    return true
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
