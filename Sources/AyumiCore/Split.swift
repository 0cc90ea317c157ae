/// Splits an award of `points` between sponsors by integer `weights`, carrying what earlier awards
/// of the same rule gave each sponsor (`funded`, in the same order), so that each sponsor's running
/// total stays within one point of its exact share (`total × weight / Σ weights`) after every award.
///
/// Splitting each award alone cannot do that: a 1-point tap funded half and half lands whole on one
/// sponsor, and any per-award tie-break is fair only on average. Here the running totals are
/// apportioned by largest remainder (ties to the sponsor listed first), and the award pays the
/// difference: 1-point taps funded half and half alternate, and a first award splits exactly as
/// largest remainder would split it alone. When that would take a point back from a sponsor (the
/// "Alabama paradox" of largest remainder), the award is split instead one point at a time by
/// Balinski and Young's quota method: each point to the sponsor with the largest
/// `weight / (funded + 1)` among those still below their exact share of the new total. Either way no
/// sponsor's total ever shrinks, every total stays within one point of its share (the property test
/// checks it over random streams), and the split is deterministic: the same awards in the same order
/// split the same way, in the ledger and in a backtest. With two sponsors largest remainder is
/// rounding to the nearest point, so each total stays within half a point and every run of awards
/// (a day, a month) within one; with more, a run can be off by less than two, and no method can do
/// one for every set of weights (such a sequence would be a balanced word: Fraenkel's conjecture).
///
/// `splitFits`, checked when the rules load, bounds one award times the weights. The running totals
/// times the weights must also fit: with shares in percent that holds up to 9 × 10^16 points under
/// one rule; with the older integer weights at their bound (32 × 10^6) up to about 2.8 × 10^11.
public func carriedSplit(points: Int64, weights: [Int64], funded: [Int64]) -> [Int64] {
    precondition(points >= 0 && !weights.isEmpty && weights.count == funded.count)
    precondition(splitFits(pointsMax: points, weights: weights), "the rules check bounds points and weights")
    if weights.count == 1 { return [points] }
    let weightTotal = weights.reduce(0, +)
    var total = funded.reduce(0, +) + points
    // Largest remainder on the running total.
    var target = weights.map { total * $0 / weightTotal }
    let remainders = weights.map { total * $0 % weightTotal }
    let order = weights.indices.sorted { (remainders[$0], $1) > (remainders[$1], $0) }
    for index in order.prefix(Int(total - target.reduce(0, +))) { target[index] += 1 }
    if zip(target, funded).allSatisfy({ $0 >= $1 }) { return zip(target, funded).map { $0 - $1 } }
    // The quota method, one point at a time.
    total -= points
    var totals = funded
    var parts = [Int64](repeating: 0, count: weights.count)
    for _ in 0..<points {
        total += 1
        var chosen = -1
        for index in weights.indices where totals[index] * weightTotal < total * weights[index] {
            if chosen < 0 || weights[index] * (totals[chosen] + 1) > weights[chosen] * (totals[index] + 1) { chosen = index }
        }
        totals[chosen] += 1
        parts[chosen] += 1
    }
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
