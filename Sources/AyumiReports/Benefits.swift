import AyumiCore
import Foundation

/// The Smart City Guidebook's "clarify beneficiaries" table for a period: what residents, the city,
/// the transit operators and the shopping street each gained, measured against each participant's
/// own baseline (their first days in the program) and put in yen by the coefficients of
/// `Rules/benefits.yaml` and `Rules/fares.yaml`; what the program cost (points redeemed, paid by
/// their sponsors; the operating cost of `Rules/costs.yaml`); and a share of that cost for each
/// paying party in proportion to its benefit, beside what it paid. `docs/reports.md` gives every
/// formula; the report prints its coefficients and their sources.
///
/// Private: no figure comes from fewer than k residents, and none can be worked out from the others:
/// see `ResidentsTable` for the residents' table.
public struct BenefitReport: Sendable, Hashable {
    public enum Unit: String, Sendable, Hashable {
        case residents, points, yen, steps, stepDays = "step-days", rides, visits, redemptions

        public var name: LocalizedText {
            switch self {
            case .residents: LocalizedText(ja: "人", en: "residents")
            case .points: LocalizedText(ja: "ポイント", en: "points")
            case .yen: LocalizedText(ja: "円", en: "yen")
            case .steps: LocalizedText(ja: "歩/日", en: "steps a day")
            case .stepDays: LocalizedText(ja: "歩・日", en: "step-days")
            case .rides: LocalizedText(ja: "回（乗車）", en: "rides")
            case .visits: LocalizedText(ja: "回（来訪）", en: "visits")
            case .redemptions: LocalizedText(ja: "件", en: "redemptions")
            }
        }
    }

    /// One figure of a party: nil value when suppressed, or when there is none (a mean of nobody).
    public struct Figure: Sendable, Hashable {
        public var id: String
        public var name: LocalizedText
        public var value: Int64?
        public var suppressed: Bool
        public var unit: Unit
        /// How it was computed, in words.
        public var basis: LocalizedText
    }

    public struct PartySection: Sendable, Hashable {
        public var party: Party
        public var figures: [Figure]

        public func value(_ id: String) -> Int64? { figures.first { $0.id == id }?.value }
    }

    public struct Counts: Sendable, Hashable {
        public var participants: Int64 = 0
        public var active: Int64 = 0
        public var pointsEarned: Int64 = 0
        public var pointsRedeemed: Int64 = 0
        /// Not published: only to judge whether a cell is too small.
        var earners: Int64 = 0
        var redeemers: Int64 = 0

        mutating func add(_ participant: ParticipantFacts.Participant) {
            participants += 1
            active += participant.active ? 1 : 0
            pointsEarned += participant.pointsEarned
            pointsRedeemed += participant.pointsRedeemed
            earners += participant.pointsEarned != 0 ? 1 : 0
            redeemers += participant.redeemedAny ? 1 : 0
        }

        mutating func add(_ other: Counts) {
            participants += other.participants
            active += other.active
            pointsEarned += other.pointsEarned
            pointsRedeemed += other.pointsRedeemed
            earners += other.earners
            redeemers += other.redeemers
        }

        /// 1 to k−1 residents behind one of its figures, or not active (a count shown beside the participants).
        func isSmall(_ k: Int64) -> Bool { [participants, active, participants - active, earners, redeemers].contains { $0 > 0 && $0 < k } }
    }

    /// A cell of the residents' table: nil band or district is the margin over all of them; nil
    /// counts is suppressed.
    public struct ResidentCell: Sendable, Hashable {
        public var ageBand: String?
        public var district: String?
        public var counts: Counts?
    }

    public struct SponsorCost: Sendable, Hashable {
        public var id: String
        public var name: LocalizedText
        public var party: Party?
        public var redeemedPoints: Int64?
        public var yen: Int64?
        public var expiredPoints: Int64?
    }

    public struct LayerCost: Sendable, Hashable {
        public var id: String
        public var name: LocalizedText
        public var yenPerMonth: Int64
        /// For the period: the monthly cost of each month it covers, in proportion to its days.
        public var yen: Int64
        /// Yen per payer, by the layer's percentages (largest remainder: they add up to `yen`).
        public var paidBy: [Party: Int64]
    }

    public struct Share: Sendable, Hashable {
        public var party: Party
        public var benefitYen: Int64?
        /// Share of the benefits in tenths of a percent.
        public var permille: Int64?
        public var proposedYen: Int64?
        public var paidYen: Int64?
        public var differenceYen: Int64?
        /// No proposal because a figure it depends on is suppressed (else: no benefit, or no cost).
        public var proposalSuppressed: Bool
    }

    public struct TrendPoint: Sendable, Hashable {
        public var from: LocalDate
        public var to: LocalDate
        /// Average steps per walk day of walkers past their baseline days; nil when fewer than k
        /// (suppressed) or none.
        public var averageSteps: Int64?
        public var suppressed: Bool
    }

    public struct Assumption: Sendable, Hashable {
        public var id: String
        public var name: LocalizedText
        public var value: LocalizedText
        public var source: LocalizedText?
    }

    public enum ReportError: Error, Sendable, Equatable { case overflow }

    public var ageBands: [String]
    public var districts: [String]
    /// Every band (then all bands) × every district (then all districts), in that order.
    public var residents: [ResidentCell]
    public var parties: [PartySection]
    public var sponsors: [SponsorCost]
    public var layers: [LayerCost]
    /// Points redeemed in yen plus the operating cost; nil when the redeemed total is suppressed.
    public var totalCost: Int64?
    public var sharing: [Share]
    public var trend: [TrendPoint]
    /// Average steps per walk day in the baseline days of the walkers measured; nil when fewer than k.
    public var baselineSteps: Int64?
    /// Whether a missing `baselineSteps` is hidden (fewer than k walkers) rather than of nobody.
    public var baselineSuppressed: Bool
    public var assumptions: [Assumption]
    public var yenPerPoint: Int64

    public func party(_ party: Party) -> PartySection { parties.first { $0.party == party }! }

    /// The days of a trend bucket: a day for a period up to 31 days, a week up to 26 weeks, else 30 days.
    public static func bucketDays(from: LocalDate, to: LocalDate) -> Int {
        let days = to.dayNumber - from.dayNumber + 1
        return days <= 31 ? 1 : (days <= 182 ? 7 : 30)
    }

    // MARK: Making it

    /// - Parameters:
    ///   - ledgerRows: the ledger summary's rows (its sponsor rows, suppressed as they are there, give
    ///     each sponsor's redeemed and expired points; its program row the totals).
    ///   - sponsorParties: the party each sponsor is (its `kind`).
    ///   - redemptions: redemptions of the period and the residents who made them.
    public static func make(facts: ParticipantFacts, ledgerRows: [BeneficiaryReport.Row], sponsorParties: [String: Party],
                            redemptions: (count: Int64, residents: Int64), assessment: Assessment, yenPerPoint: Int64,
                            groupSizeMin: Int, from: LocalDate, to: LocalDate, measuredThrough: LocalDate) throws -> BenefitReport {
        let k = Int64(groupSizeMin)
        let table = ResidentsTable.make(facts.participants, assessment: assessment, year: to.year, k: k)
        let tally = try Tally(facts.participants, from: from, through: min(to, measuredThrough), baselineDays: assessment.baselineDays)
        let measures = try Measures(tally, assessment: assessment, k: k)
        let costs = try Costs(ledgerRows: ledgerRows, sponsorParties: sponsorParties, assessment: assessment, from: from, to: to)
        let wording = Wording(measures: measures, costs: costs, all: table.grid[table.bands.count][table.districts.count],
                              redemptions: redemptions, assessment: assessment, yenPerPoint: yenPerPoint)
        return BenefitReport(ageBands: table.bands, districts: table.districts, residents: table.cells, parties: wording.parties,
                             sponsors: costs.sponsors, layers: costs.layers, totalCost: costs.total, sharing: sharing(measures, costs),
                             trend: try trend(facts.walkTrend, from: from, to: to, k: k),
                             baselineSteps: measures.walkersShown && tally.walkers > 0
                                 ? try rounded(Int128(tally.baselineSteps), Int128(tally.baselineWalkDays)) : nil,
                             baselineSuppressed: !measures.walkersShown,
                             assumptions: assumptions(assessment, yenPerPoint: yenPerPoint, groupSizeMin: groupSizeMin, year: to.year),
                             yenPerPoint: yenPerPoint)
    }

    /// The party figures' arithmetic, in whole units, apart from their labels; and which of them may
    /// be shown (no group of 1 to k − 1 residents behind them).
    struct Measures {
        let tally: Tally
        let k: Int64
        /// The city's figures stand on the walkers measured.
        let walkersShown: Bool
        /// With fares that differ by mode, the revenue and the rides together give each mode's rides:
        /// every mode's riders must be no small group then.
        let faresShown: Bool, extraFareShown: Bool
        let medical: Int64, baselineMean: Int64, afterMean: Int64, changeMean: Int64
        let fareRevenue: Int64, extraRideCount: Int64, extraFare: Int64
        let extraSales: Int64, extraVisitCount: Int64

        init(_ tally: Tally, assessment: Assessment, k: Int64) throws {
            self.tally = tally
            self.k = k
            let large = { (groups: [Int64]) in Self.large(groups, k: k) }
            let faresDiffer = { (modes: [String: Int64]) in Set(modes.keys.map(assessment.fare(mode:))).count > 1 }
            walkersShown = large([tally.walkers])
            faresShown = large([tally.riders]) && (!faresDiffer(tally.ridersByMode) || large(Array(tally.ridersByMode.values)))
            extraFareShown = large([tally.measured, tally.measuredRiders])
                && (!faresDiffer(tally.measuredRidersByMode) || large(Array(tally.measuredRidersByMode.values)))
            let (walkers, baselineDays) = (Int128(tally.walkers), Int128(assessment.baselineDays))
            let coefficient = assessment.medicalCost.value
            medical = try truncated(Int128(tally.stepDays) * Int128(coefficient.units), Int128(coefficient.denominator))
            baselineMean = walkers > 0 ? try rounded(Int128(tally.baselineSum), walkers * 100) : 0
            afterMean = walkers > 0 ? try rounded(Int128(tally.afterSum), walkers * 100) : 0
            changeMean = walkers > 0 ? try rounded(Int128(tally.afterSum) - Int128(tally.baselineSum), walkers * 100) : 0
            fareRevenue = try tally.rides.reduce(Int64(0)) { sum, ride in
                let (value, overflow) = ride.value.multipliedReportingOverflow(by: assessment.fare(mode: ride.key))
                guard !overflow else { throw ReportError.overflow }
                return sum + value
            }
            extraRideCount = try rounded(Int128(tally.extraRides.values.reduce(0, +)), baselineDays)
            extraFare = try truncated(tally.extraRides.reduce(Int128(0)) { $0 + Int128($1.value) * Int128(assessment.fare(mode: $1.key)) }, baselineDays)
            let spend = assessment.visitSpend.value
            extraSales = try truncated(Int128(tally.extraVisits) * Int128(spend.units), baselineDays * Int128(spend.denominator))
            extraVisitCount = try rounded(Int128(tally.extraVisits), baselineDays)
        }

        /// No group of 1 to k − 1 residents behind a figure (none is no group).
        static func large(_ groups: [Int64], k: Int64) -> Bool { groups.allSatisfy { $0 == 0 || $0 >= k } }

        func large(_ groups: Int64...) -> Bool { Self.large(groups, k: k) }

        func shownIf(_ value: Int64, _ groups: Int64...) -> Int64? { Self.large(groups, k: k) ? value : nil }

        /// Each paying party's measured benefit in yen; nil when suppressed.
        func benefit(_ party: Party) -> Int64? {
            switch party {
            case .government: walkersShown ? medical : nil
            case .transit: extraFareShown ? extraFare : nil
            case .merchants: large(tally.measured, tally.measuredVisitors) ? extraSales : nil
            case .residents: nil
            }
        }
    }

    /// What the program cost: the sponsors' redeemed points as the ledger summary shows them, and the
    /// operating cost of each layer for the period, split among its payers.
    struct Costs {
        let program: BeneficiaryReport.Row?
        let sponsors: [SponsorCost]
        let layers: [LayerCost]
        /// Points redeemed in yen plus the operating cost; nil when the redeemed total is suppressed.
        let total: Int64?

        init(ledgerRows: [BeneficiaryReport.Row], sponsorParties: [String: Party], assessment: Assessment, from: LocalDate, to: LocalDate) throws {
            program = ledgerRows.first { $0.kind == .program }
            sponsors = ledgerRows.filter { $0.kind == .sponsor && $0.id != BeneficiaryReport.suppressedRowID }.map { row in
                SponsorCost(id: row.id, name: row.name, party: sponsorParties[row.id], redeemedPoints: row.redeemed?.points, yen: row.redeemed?.yen,
                            expiredPoints: row.expired?.points)
            }
            layers = try assessment.costLayers.map { layer in
                let yen = try periodCost(layer.yenPerMonth, from: from, to: to)
                let paidBy = largestRemainder(yen, weights: Party.payers.map { layer.paidBy[$0] ?? 0 })
                return LayerCost(id: layer.id, name: layer.name, yenPerMonth: layer.yenPerMonth, yen: yen,
                                 paidBy: Dictionary(uniqueKeysWithValues: zip(Party.payers, paidBy)))
            }
            let operating = layers.reduce(Int64(0)) { $0 + $1.yen }
            total = program?.redeemed?.yen.map { $0 + operating }
        }

        /// Yen of the points redeemed from its sponsors' lots and its share of the operating cost; nil
        /// when a sponsor's figure is suppressed.
        func paid(_ party: Party) -> Int64? {
            let own = sponsors.filter { $0.party == party }
            guard !own.contains(where: { $0.yen == nil }) else { return nil }
            return own.reduce(0) { $0 + ($1.yen ?? 0) } + layers.reduce(0) { $0 + ($1.paidBy[party] ?? 0) }
        }
    }

    /// The total cost proposed to each paying party in proportion to its benefit, beside what it paid.
    static func sharing(_ measures: Measures, _ costs: Costs) -> [Share] {
        let weights = Party.payers.map { max(0, measures.benefit($0) ?? 0) }
        let known = Party.payers.allSatisfy { measures.benefit($0) != nil } && weights.reduce(0, +) > 0
        // Refunds of earlier months can make a period's cost negative: nothing to share then.
        let proposed = known ? costs.total.flatMap { $0 > 0 ? largestRemainder($0, weights: weights) : nil } : nil
        let permille = known ? largestRemainder(1_000, weights: weights) : nil
        return Party.payers.enumerated().map { index, party in
            let proposal = proposed?[index], payment = costs.paid(party)
            return Share(party: party, benefitYen: measures.benefit(party), permille: permille?[index], proposedYen: proposal, paidYen: payment,
                         differenceYen: proposal.flatMap { p in payment.map { p - $0 } },
                         proposalSuppressed: Party.payers.contains { measures.benefit($0) == nil } || costs.total == nil)
        }
    }

    /// Average steps per walk day of each bucket of days, hidden where fewer than k walkers walked.
    static func trend(_ walkTrend: [ParticipantFacts.WalkBucket], from: LocalDate, to: LocalDate, k: Int64) throws -> [TrendPoint] {
        let bucket = bucketDays(from: from, to: to)
        let buckets = Dictionary(uniqueKeysWithValues: walkTrend.map { ($0.bucket, $0) })
        return try stride(from: from.dayNumber, through: to.dayNumber, by: bucket).enumerated().map { index, first in
            let found = buckets[index]
            let average = try found.flatMap { $0.walkers >= k && $0.walkDays > 0 ? try rounded(Int128($0.steps), Int128($0.walkDays)) : nil }
            return TrendPoint(from: LocalDate(dayNumber: first), to: LocalDate(dayNumber: min(first + bucket - 1, to.dayNumber)), averageSteps: average,
                              suppressed: average == nil && (found?.walkers ?? 0) > 0)
        }
    }

    /// The coefficients and sources the report prints with its figures.
    static func assumptions(_ assessment: Assessment, yenPerPoint: Int64, groupSizeMin: Int, year: Int) -> [Assumption] {
        let (coefficient, spend, n) = (assessment.medicalCost.value, assessment.visitSpend.value, assessment.baselineDays)
        let fares = assessment.fares.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return [
            Assumption(id: "medical-cost", name: LocalizedText(ja: "医療費抑制の係数", en: "Medical cost coefficient"),
                       value: LocalizedText(ja: "1日の歩数1歩の増加あたり \(coefficient)円（1人1日）", en: "¥\(coefficient) per additional step a day, per person per day"),
                       source: assessment.medicalCost.source),
            Assumption(id: "baseline", name: LocalizedText(ja: "基準期間", en: "Baseline"),
                       value: LocalizedText(ja: "各参加者の登録日から\(n)日間。期間の日のうち終わった日（前日まで）と比べる",
                                            en: "Each participant's first \(n) days from enrolment, compared with the period's days that have ended (to yesterday)"),
                       source: nil),
            Assumption(id: "downtown-zones", name: LocalizedText(ja: "中心市街地", en: "Downtown"),
                       value: LocalizedText(ja: "ゾーン \(assessment.downtownZones.joined(separator: ", "))", en: "Zones \(assessment.downtownZones.joined(separator: ", "))"),
                       source: nil),
            Assumption(id: "age-bands", name: LocalizedText(ja: "年齢区分", en: "Age bands"),
                       value: LocalizedText(ja: assessment.ageBandLabels.joined(separator: ", ") + "（少人数の区分は隣と合わせる）",
                                            en: assessment.ageBandLabels.joined(separator: ", ") + " (a small band joins its neighbour)"),
                       source: nil),
            Assumption(id: "steps-trend", name: LocalizedText(ja: "歩数の推移", en: "Steps trend"),
                       value: LocalizedText(ja: "基準期間に記録のある参加者の（歩数の合計 ÷ 記録日数）。破線は同じ参加者の基準期間の値",
                                            en: "Steps ÷ walk days of the walkers with walks in their baseline, pooled; the dashed line is their baselines, pooled"),
                       source: nil),
            Assumption(id: "cost-sharing", name: LocalizedText(ja: "費用分担の提案", en: "Cost sharing"),
                       value: LocalizedText(ja: "事業費の合計 × 各主体の便益（負は0）÷ 便益の合計、円単位で最大剰余法",
                                            en: "Total cost × each party's benefit (0 if negative) ÷ the benefits' sum, in whole yen by largest remainder"),
                       source: nil),
            Assumption(id: "visit-spend", name: LocalizedText(ja: "来訪1回あたり購買額", en: "Spend per downtown visit"),
                       value: LocalizedText(ja: "\(spend)円", en: "¥\(spend)"), source: assessment.visitSpend.source),
            Assumption(id: "fares", name: LocalizedText(ja: "運賃表", en: "Fare table"),
                       value: LocalizedText(ja: "\(fares)（記載のない種別 \(assessment.defaultFare)円）", en: "\(fares) (any other mode ¥\(assessment.defaultFare))"),
                       source: assessment.faresSource),
            Assumption(id: "yen-per-point", name: LocalizedText(ja: "1ポイントの円換算額", en: "Yen per point"),
                       value: LocalizedText(ja: "\(yenPerPoint)円", en: "¥\(yenPerPoint)"), source: nil),
            Assumption(id: "age", name: LocalizedText(ja: "年齢", en: "Age"),
                       value: LocalizedText(ja: "\(year)年中に達する年齢（\(year) − 生年）", en: "Age reached in \(year) (\(year) − birth year)"), source: nil),
            Assumption(id: "suppression", name: LocalizedText(ja: "秘匿", en: "Suppression"),
                       value: LocalizedText(ja: "\(groupSizeMin)人未満から計算される値は X（他の値と合計から逆算できないよう追加秘匿あり）",
                                            en: "A figure drawn from fewer than \(groupSizeMin) residents reads X, and so do the figures that would give it back"),
                       source: nil),
            Assumption(id: "operating-cost", name: LocalizedText(ja: "運営費", en: "Operating cost"),
                       value: LocalizedText(ja: "月額 × その月のうち期間に含まれる日数 ÷ その月の日数、を月ごとに合計し円未満切り捨て",
                                            en: "Monthly cost × the month's days in the period ÷ the month's days, summed over the months, fractions of a yen dropped"),
                       source: nil),
        ]
    }

    /// What the party figures count of the participants, in one pass.
    struct Tally {
        /// The city: walkers with walks in their baseline and after it; their averages in hundredths
        /// of a step, summed; additional step-days; steps and walk days of their baselines pooled.
        var walkers: Int64 = 0, baselineSum: Int64 = 0, afterSum: Int64 = 0, stepDays: Int64 = 0
        var baselineSteps: Int64 = 0, baselineWalkDays: Int64 = 0
        /// Transit and downtown: rides and visits after the baseline against the baseline's rate,
        /// in baseline-days-ths; all of the period's, and the residents behind them.
        var measured: Int64 = 0, measuredRiders: Int64 = 0, measuredVisitors: Int64 = 0
        var extraRides: [String: Int64] = [:], extraVisits: Int64 = 0
        var rides: [String: Int64] = [:], riders: Int64 = 0, visits: Int64 = 0, visitors: Int64 = 0
        /// Residents who rode each mode: in the period, and among those measured.
        var ridersByMode: [String: Int64] = [:], measuredRidersByMode: [String: Int64] = [:]

        /// - Parameter through: the last day compared with the baselines: the period's last, or the
        ///   last that has ended when the period reaches today (days to come have no activity yet).
        init(_ participants: [ParticipantFacts.Participant], from: LocalDate, through: LocalDate, baselineDays n: Int) throws {
            let baselineDays = Int64(n)
            for participant in participants {
                for (mode, count) in participant.inPeriod.rides {
                    rides[mode, default: 0] += count
                    ridersByMode[mode, default: 0] += count > 0 ? 1 : 0
                }
                riders += participant.inPeriod.rideCount > 0 ? 1 : 0
                visits += participant.inPeriod.visits
                visitors += participant.inPeriod.visits > 0 ? 1 : 0
                let firstAfter = participant.enrolled.adding(days: n)
                let days = Int64(through.dayNumber - max(from.dayNumber, firstAfter.dayNumber) + 1)
                let (base, after) = (participant.baseline, participant.afterBaseline)
                // Measured: days after the baseline in the period, and a baseline to compare with (walks
                // reported in it: the resident was using the program, so no rides there means no rides).
                guard days > 0, base.walkDays > 0 else { continue }
                measured += 1
                measuredRiders += base.rideCount + after.rideCount > 0 ? 1 : 0
                for mode in Set(base.rides.keys).union(after.rides.keys) { measuredRidersByMode[mode, default: 0] += 1 }
                measuredVisitors += base.visits + after.visits > 0 ? 1 : 0
                for mode in Set(base.rides.keys).union(after.rides.keys) {
                    extraRides[mode, default: 0] += (after.rides[mode] ?? 0) * baselineDays - (base.rides[mode] ?? 0) * days
                }
                extraVisits += after.visits * baselineDays - base.visits * days
                guard after.walkDays > 0 else { continue }
                walkers += 1
                baselineSum += try rounded(Int128(base.steps) * 100, Int128(base.walkDays))
                afterSum += try rounded(Int128(after.steps) * 100, Int128(after.walkDays))
                baselineSteps += base.steps
                baselineWalkDays += base.walkDays
                // (after / a − base / b) × days, in whole step-days.
                stepDays += try rounded((Int128(after.steps) * Int128(base.walkDays) - Int128(base.steps) * Int128(after.walkDays)) * Int128(days),
                                        Int128(after.walkDays) * Int128(base.walkDays))
            }
        }
    }

    /// `numerator / denominator` rounded half away from zero.
    static func rounded(_ numerator: Int128, _ denominator: Int128) throws -> Int64 {
        let half = numerator >= 0 ? denominator / 2 : -(denominator / 2)
        guard denominator > 0, let value = Int64(exactly: (numerator + half) / denominator) else { throw ReportError.overflow }
        return value
    }

    /// `numerator / denominator` with the fraction dropped (toward zero).
    static func truncated(_ numerator: Int128, _ denominator: Int128) throws -> Int64 {
        guard denominator > 0, let value = Int64(exactly: numerator / denominator) else { throw ReportError.overflow }
        return value
    }

    /// `total` split by `weights` into whole parts that add up to it: each its quota rounded down,
    /// and the rest one by one to the largest remainders (the first on a tie).
    static func largestRemainder(_ total: Int64, weights: [Int64]) -> [Int64] {
        let sum = Int128(weights.reduce(0, +))
        precondition(total >= 0 && weights.allSatisfy { $0 >= 0 }, "shares of a positive whole")
        guard sum > 0 else { return weights.map { _ in 0 } }
        var parts = weights.map { Int64(Int128(total) * Int128($0) / sum) }
        let remainders = weights.map { Int128(total) * Int128($0) % sum }
        let order = remainders.indices.sorted { (remainders[$0], -$0) > (remainders[$1], -$1) }
        for index in order.prefix(Int(total - parts.reduce(0, +))) { parts[index] += 1 }
        return parts
    }

    /// A monthly cost over the days `from...to`: each month's cost × its days in the period ÷ its days.
    /// Exact: every month's share is counted in 377,580ths (the least common multiple of 28, 29,
    /// 30 and 31) and the sum is cut to whole yen once.
    static func periodCost(_ yenPerMonth: Int64, from: LocalDate, to: LocalDate) throws -> Int64 {
        let common: Int128 = 377_580
        var total: Int128 = 0
        var first = LocalDate(year: from.year, month: from.month, day: 1)!
        while first <= to {
            let next = first.adding(months: 1)
            let days = Int128(next.dayNumber - first.dayNumber)
            let covered = Int128(min(to.dayNumber, next.dayNumber - 1) - max(from.dayNumber, first.dayNumber) + 1)
            total += Int128(yenPerMonth) * covered * (common / days)
            first = next
        }
        return try truncated(total, common)
    }

    // MARK: Suppression

    struct Cell: Hashable, Comparable {
        var row: Int
        var column: Int
        static func < (a: Cell, b: Cell) -> Bool { (a.row, a.column) < (b.row, b.column) }
    }
}
