import AyumiCore

// How the reports count residents' activity: the methodology, in pure code over what any store's
// reader returns (enrolments, accepted events, the ledger's points per resident). A store reads
// rows; it does not decide that a day's walk is its largest report, where a baseline ends or what
// reaching 8,000 steps means.

extension IndicatorFacts {
    /// The daily steps a walker's average must reach to count among `walkersReaching8000`.
    public static let stepsPerDayTarget: Int64 = 8_000
}

/// A day's walk counts once, at its largest report: a phone that syncs the same day three times
/// walked that day once.
struct WalkDays {
    private(set) var steps: [Key: Int64] = [:]

    struct Key: Hashable {
        var resident: Int64
        var day: Int
    }

    mutating func add(resident: Int64, day: LocalDate, steps reported: Int64) {
        let key = Key(resident: resident, day: day.dayNumber)
        steps[key] = max(steps[key] ?? 0, reported)
    }
}

extension ReportReader {
    /// What the monthly indicators count, for each period of local days (`from...to`); visits only to
    /// `visitZones` (every zone when nil).
    public func indicatorFacts(_ periods: [(from: LocalDate, to: LocalDate)], visitZones: [String]?) throws -> [IndicatorFacts] {
        let zones = visitZones.map(Set.init)
        let enrolments = try enrolments(through: periods.map(\.to).max() ?? LocalDate(dayNumber: 0))
        return try periods.map { period in
            var walks = WalkDays()
            var active = Set<Int64>(), riders = Set<Int64>(), visitors = Set<Int64>()
            var rides: Int64 = 0, visits: Int64 = 0
            try forEachActivity(from: period.from, to: period.to) { activity in
                active.insert(activity.resident)
                switch activity.detail {
                case .walk(let steps): walks.add(resident: activity.resident, day: activity.day, steps: steps)
                case .ride:
                    rides += 1
                    riders.insert(activity.resident)
                case .visit(let zone):
                    guard zones.map({ $0.contains(zone) }) ?? true else { return }
                    visits += 1
                    visitors.insert(activity.resident)
                }
            }
            // Per walker: walk days and their steps; a walker reaches the target when the average does.
            var walkers: [Int64: (days: Int64, steps: Int64)] = [:]
            for (key, steps) in walks.steps {
                walkers[key.resident, default: (0, 0)].days += 1
                walkers[key.resident, default: (0, 0)].steps += steps
            }
            let points = try residentPoints(from: period.from, to: period.to)
            return IndicatorFacts(
                enrolled: Int64(enrolments.count { $0.enrolled <= period.to }), active: Int64(active.count),
                pointsAwarded: points.awarded.values.reduce(0, +), redemptions: points.redemptions.values.reduce(0, +),
                walkDays: Int64(walks.steps.count), steps: walks.steps.values.reduce(0, +), walkers: Int64(walkers.count),
                walkersReaching8000: Int64(walkers.values.count { $0.steps >= IndicatorFacts.stepsPerDayTarget * $0.days }),
                rides: rides, visits: visits, awardedResidents: Int64(points.awarded.count), redeemers: Int64(points.redemptions.count),
                riders: Int64(riders.count), visitors: Int64(visitors.count))
        }
    }

    /// Every resident enrolled by `to`, with what the beneficiary report counts of them: activity in
    /// their first `baselineDays` from enrolment, in the period after those days up to
    /// `measuredThrough` (the last day that has ended), and in the whole period (visits only to
    /// `visitZones`, every zone when nil); and the walks of the period after their baseline days of the
    /// walkers who reported walks in their baseline, per bucket of `bucketDays` days from `from`.
    public func participantFacts(from: LocalDate, to: LocalDate, measuredThrough: LocalDate, baselineDays: Int, bucketDays: Int,
                                 visitZones: [String]?) throws -> ParticipantFacts {
        let enrolments = try enrolments(through: to)
        var tally = ParticipantTally(enrolments, from: from, measuredThrough: measuredThrough, baselineDays: baselineDays,
                                     visitZones: visitZones.map(Set.init))
        // Baselines reach back before the period: every day up to its end is read.
        try forEachActivity(from: nil, to: to) { tally.add($0) }
        return tally.facts(points: try residentPoints(from: from, to: to), bucketDays: max(1, bucketDays))
    }
}

/// Adds up the beneficiary report's participants from their accepted events, one event at a time.
struct ParticipantTally {
    let from: LocalDate
    let measuredThrough: LocalDate
    let baselineDays: Int
    let visitZones: Set<String>?
    private var participants: [Int64: ParticipantFacts.Participant]
    private let order: [Int64]
    private var walks = WalkDays()

    init(_ enrolments: [Enrolment], from: LocalDate, measuredThrough: LocalDate, baselineDays: Int, visitZones: Set<String>?) {
        self.from = from
        self.measuredThrough = measuredThrough
        self.baselineDays = baselineDays
        self.visitZones = visitZones
        order = enrolments.map(\.resident)
        participants = Dictionary(uniqueKeysWithValues: enrolments.map {
            ($0.resident, ParticipantFacts.Participant(birthYear: $0.birthYear, district: $0.district, enrolled: $0.enrolled, active: false,
                                                       pointsEarned: 0, pointsRedeemed: 0))
        })
    }

    /// Whether `day` is among the resident's first `baselineDays` from enrolment.
    func inBaseline(_ day: LocalDate, enrolled: LocalDate) -> Bool {
        day >= enrolled && day.dayNumber < enrolled.dayNumber + baselineDays
    }

    mutating func add(_ activity: Activity) {
        guard participants[activity.resident] != nil else { return }
        if activity.day >= from { participants[activity.resident]!.active = true }
        switch activity.detail {
        case .walk(let steps):
            // Counted per day, at the day's largest report, when every event is in; days in neither
            // the baseline nor the period count nowhere, and are not kept.
            guard activity.day >= from || inBaseline(activity.day, enrolled: participants[activity.resident]!.enrolled) else { return }
            walks.add(resident: activity.resident, day: activity.day, steps: steps)
        case .ride(let mode):
            count(activity.resident, on: activity.day) { $0.rides[mode, default: 0] += 1 }
        case .visit(let zone):
            guard visitZones.map({ $0.contains(zone) }) ?? true else { return }
            count(activity.resident, on: activity.day) { $0.visits += 1 }
        }
    }

    /// Adds one day's activity to the baseline, the period and the measured part after the baseline
    /// it belongs to; days in neither the baseline nor the period count nowhere.
    private mutating func count(_ resident: Int64, on day: LocalDate, _ body: (inout ParticipantFacts.Activity) -> Void) {
        let baseline = inBaseline(day, enrolled: participants[resident]!.enrolled), period = day >= from
        if baseline { body(&participants[resident]!.baseline) }
        if period { body(&participants[resident]!.inPeriod) }
        if period && !baseline && day <= measuredThrough { body(&participants[resident]!.afterBaseline) }
    }

    /// The participants with their walks and the ledger's points, in the store's order, and the walk
    /// trend of the walkers the city's figures compare (those with walks in their baseline).
    mutating func facts(points: ResidentPoints, bucketDays: Int) -> ParticipantFacts {
        var based = Set<Int64>()
        for (key, _) in walks.steps where inBaseline(LocalDate(dayNumber: key.day), enrolled: participants[key.resident]!.enrolled) {
            based.insert(key.resident)
        }
        var buckets: [Int: (days: Int64, steps: Int64, walkers: Set<Int64>)] = [:]
        for (key, steps) in walks.steps {
            let day = LocalDate(dayNumber: key.day)
            count(key.resident, on: day) {
                $0.walkDays += 1
                $0.steps += steps
            }
            let enrolled = participants[key.resident]!.enrolled
            guard based.contains(key.resident), day >= from, key.day >= enrolled.dayNumber + baselineDays else { continue }
            let bucket = (key.day - from.dayNumber) / bucketDays
            buckets[bucket, default: (0, 0, [])].days += 1
            buckets[bucket, default: (0, 0, [])].steps += steps
            buckets[bucket, default: (0, 0, [])].walkers.insert(key.resident)
        }
        for (resident, awarded) in points.awarded { participants[resident]?.pointsEarned = awarded }
        // Redeemed in the period less what shops refunded in it, as the ledger summary counts them.
        for resident in Set(points.redeemed.keys).union(points.refunded.keys) where participants[resident] != nil {
            participants[resident]!.pointsRedeemed = (points.redeemed[resident] ?? 0) - (points.refunded[resident] ?? 0)
            participants[resident]!.redeemedAny = true
        }
        let trend = buckets.keys.sorted().map { bucket in
            let totals = buckets[bucket]!
            return ParticipantFacts.WalkBucket(bucket: bucket, walkDays: totals.days, steps: totals.steps, walkers: Int64(totals.walkers.count))
        }
        return ParticipantFacts(participants: order.map { participants[$0]! }, walkTrend: trend)
    }
}
