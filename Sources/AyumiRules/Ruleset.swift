import AyumiCore
import Crypto
import Foundation

/// The program as data: everything under `Rules/`, parsed and checked. `version` is a hash of the
/// canonical content, so a comment or re-indentation does not change it, but any change of meaning
/// does; every award records the version that produced it.
public struct Ruleset: Sendable, Hashable, Codable {
    public var program: Program
    public var sponsors: [Sponsor]
    public var zones: [Zone]
    public var rules: [EarningRule]
    /// Sorted by date.
    public var holidays: [Holiday]
    /// From `campaigns.yaml`, in file order.
    public var campaigns: [Campaign] = []
    /// From `draws.yaml`, in file order.
    public var draws: [Draw] = []
    /// From `kpis.yaml`: the targets the city set for its indicators.
    public var kpiTargets: [KPITarget] = []
    /// From `benefits.yaml`, `fares.yaml` and `costs.yaml`: what the beneficiary report multiplies by.
    public var assessment: Assessment?
    public var version: String

    public func sponsor(_ id: String) -> Sponsor? { sponsors.first { $0.id == id } }

    /// JSON with sorted keys: what the version hashes (with an empty version) and what the store
    /// keeps of every version, so any award can be explained under the rules that made it.
    public var canonicalJSON: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }

    /// The names of rules and sponsors in a stored version, whatever else its shape: enough to label
    /// the past awards of rules that have left the program, even from versions an older Ayumi wrote.
    public struct Labels: Sendable, Hashable, Decodable {
        public struct Label: Sendable, Hashable, Decodable {
            public var id: String
            public var name: LocalizedText
            /// A sponsor's kind (government, transit, merchants); nil for rules.
            public var kind: String?
        }

        public var rules: [Label]
        public var sponsors: [Label]

        public init(canonicalJSON: String) throws {
            self = try JSONDecoder().decode(Labels.self, from: Data(canonicalJSON.utf8))
        }
    }
    public func zone(_ id: String) -> Zone? { zones.first { $0.id == id } }
}

extension Ruleset {
    /// Reads what `canonicalJSON` wrote, by this Ayumi or an older one (whose rules had fixed
    /// fields instead of conditions and limits, and no calendar).
    public init(canonicalJSON: String) throws {
        self = try JSONDecoder().decode(Ruleset.self, from: Data(canonicalJSON.utf8))
    }

    enum CodingKeys: String, CodingKey { case program, sponsors, zones, rules, holidays, campaigns, draws, kpiTargets, assessment, version }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        program = try container.decode(Program.self, forKey: .program)
        sponsors = try container.decode([Sponsor].self, forKey: .sponsors)
        zones = try container.decode([Zone].self, forKey: .zones)
        rules = try container.decode([EarningRule].self, forKey: .rules)
        holidays = try container.decodeIfPresent([Holiday].self, forKey: .holidays) ?? []
        campaigns = try container.decodeIfPresent([Campaign].self, forKey: .campaigns) ?? []
        draws = try container.decodeIfPresent([Draw].self, forKey: .draws) ?? []
        kpiTargets = try container.decodeIfPresent([KPITarget].self, forKey: .kpiTargets) ?? []
        assessment = try container.decodeIfPresent(Assessment.self, forKey: .assessment)
        version = try container.decode(String.self, forKey: .version)
    }

    /// Campaigns are written only when there are some, so a program without any keeps its version.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(program, forKey: .program)
        try container.encode(sponsors, forKey: .sponsors)
        try container.encode(zones, forKey: .zones)
        try container.encode(rules, forKey: .rules)
        try container.encode(holidays, forKey: .holidays)
        if !campaigns.isEmpty { try container.encode(campaigns, forKey: .campaigns) }
        if !draws.isEmpty { try container.encode(draws, forKey: .draws) }
        if !kpiTargets.isEmpty { try container.encode(kpiTargets, forKey: .kpiTargets) }
        try container.encodeIfPresent(assessment, forKey: .assessment)
        try container.encode(version, forKey: .version)
    }
}

extension EarningRule {
    enum CodingKeys: String, CodingKey {
        case id, trigger, name, group, condition, points, limits, funding, reason, pendingDays, computed
        /// The first rule language's stored fields.
        case event, stepsMin, modes, zones, pointsPerDayMax, countPerDayMax
    }

    enum OlderPoints: Decodable {
        case fixed(Int64)
        case perBand(steps: Int64, points: Int64)
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        name = try container.decode(LocalizedText.self, forKey: .name)
        funding = try container.decode([FundingWeight].self, forKey: .funding)
        reason = try container.decode(LocalizedText.self, forKey: .reason)
        group = try container.decodeIfPresent(String.self, forKey: .group)
        pendingDays = try container.decodeIfPresent(Int.self, forKey: .pendingDays) ?? 0
        computed = try container.decodeIfPresent(Computed.self, forKey: .computed)
        if let trigger = try container.decodeIfPresent(Event.Kind.self, forKey: .trigger) {
            self.trigger = trigger
            condition = try container.decode(Condition.self, forKey: .condition)
            points = try container.decode(Points.self, forKey: .points)
            limits = try container.decode([Limit].self, forKey: .limits)
            return
        }
        trigger = try container.decode(Event.Kind.self, forKey: .event)
        var conditions: [Condition] = []
        if let minimum = try container.decodeIfPresent(Int64.self, forKey: .stepsMin) { conditions.append(.steps(min: minimum, max: nil)) }
        if let modes = try container.decodeIfPresent([String].self, forKey: .modes) { conditions.append(.mode(modes)) }
        if let zones = try container.decodeIfPresent([String].self, forKey: .zones) { conditions.append(.zone(zones)) }
        condition = conditions.count == 1 ? conditions[0] : .all(conditions)
        points = switch try container.decode(OlderPoints.self, forKey: .points) {
        case .fixed(let fixed): .fixed(fixed)
        case .perBand(let steps, let bandPoints): .per(unit: steps, points: bandPoints, round: .down)
        }
        var limits: [Limit] = []
        if let cap = try container.decodeIfPresent(Int64.self, forKey: .pointsPerDayMax) {
            limits.append(Limit(scope: .resident, period: .day, metric: .points, max: cap))
        }
        if let cap = try container.decodeIfPresent(Int64.self, forKey: .countPerDayMax) {
            limits.append(Limit(scope: .resident, period: .day, metric: .count, max: cap))
        }
        self.limits = limits
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(trigger, forKey: .trigger)
        try container.encode(name, forKey: .name)
        try container.encodeIfPresent(group, forKey: .group)
        try container.encode(condition, forKey: .condition)
        try container.encode(points, forKey: .points)
        try container.encode(limits, forKey: .limits)
        try container.encode(funding, forKey: .funding)
        try container.encode(reason, forKey: .reason)
        if pendingDays > 0 { try container.encode(pendingDays, forKey: .pendingDays) }
        try container.encodeIfPresent(computed, forKey: .computed)
    }
}

public struct Program: Sendable, Hashable, Codable {
    public var name: LocalizedText
    /// IANA name; every "day" in Ayumi is a day in this zone.
    public var timeZone: String
    public var yenPerPoint: Int64
    public var pointExpiryMonths: Int
    /// Step counts above this are rejected as implausible (phone-swinging devices report millions).
    public var stepsPerDayMax: Int64
    /// Events from local days further back than this are rejected: late data must not earn points
    /// that would already have expired, nor reopen closed statements.
    public var eventAgeDaysMax: Int
    public var redemptionCodeTTLSeconds: Int
    /// Reports suppress groups with fewer residents than this.
    public var reportGroupSizeMin: Int
    /// Event kind (`walk`, `transit_tap`, `visit`) → who may report it. A resident's app reporting
    /// its own transit taps would mint points a transit operator pays for, with no evidence.
    public var submitters: [String: [SubmitterPermission]]
    /// When the files put this ruleset in force (seconds since 1970; `effectiveFrom` in YAML): from
    /// the moment the server loads them when nil.
    public var effectiveFrom: Int64? = nil
    /// How many days after a redemption its merchant may refund it (`refundDaysMax`; 30 when a
    /// program.yaml from before refunds leaves it out).
    public var refundDaysMax: Int? = nil
    public var refundDays: Int { refundDaysMax ?? 30 }
    /// The local days the program runs (`runs: {from, to}` in YAML, both included, either open):
    /// activity outside them is rejected, and campaigns and draws must lie within them.
    public var runsFrom: LocalDate? = nil
    public var runsTo: LocalDate? = nil

    /// The `runs` window as the checker words it: "2026-04-01 to 2027-03-31".
    var runsText: String { "\(runsFrom?.description ?? "the start") to \(runsTo?.description ?? "the end")" }

    /// `within` the program's days, or which end of them `from`...`to` crosses.
    func outside(from: LocalDate, to: LocalDate) -> (start: Bool, end: Bool) {
        (runsFrom.map { from < $0 } ?? false, runsTo.map { to > $0 } ?? false)
    }

    /// Whether `submitter` may report events of `kind`.
    public func permits(_ kind: Event.Kind, from submitter: Submitter) -> Bool {
        (submitters[kind.rawValue] ?? []).contains { $0.admits(submitter) }
    }
}

/// One entry of `submitters` in `program.yaml`: `resident` (the resident's own app), `ingest` (any
/// ingest feed) or `ingest:NAME` (only the feed whose tokens carry `--source NAME`).
public enum SubmitterPermission: Sendable, Hashable, Codable, CustomStringConvertible {
    case resident
    case anyFeed
    case feed(String)

    public init?(_ text: String) {
        switch text {
        case "resident": self = .resident
        case "ingest": self = .anyFeed
        case _ where text.hasPrefix("ingest:") && Identifier.isValid(String(text.dropFirst("ingest:".count))):
            self = .feed(String(text.dropFirst("ingest:".count)))
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .resident: "resident"
        case .anyFeed: "ingest"
        case .feed(let name): "ingest:\(name)"
        }
    }

    /// The shell variable the first start writes a feed's token to: `transit-operator` →
    /// `AYUMI_FEED_TRANSIT_OPERATOR_TOKEN`.
    public static func variableName(feed: String) -> String {
        "AYUMI_FEED_" + String(feed.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }) + "_TOKEN"
    }

    func admits(_ submitter: Submitter) -> Bool {
        switch (self, submitter) {
        case (.resident, .resident), (.anyFeed, .feed): true
        case (.feed(let allowed), .feed(let name)): allowed == name
        default: false
        }
    }
}

public struct Sponsor: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case government, transit, merchants
    }

    public var id: String
    public var kind: Kind
    public var name: LocalizedText
    /// The most this sponsor pays per period, over all rules it funds.
    public var budgets: [Budget] = []

    public init(id: String, kind: Kind, name: LocalizedText, budgets: [Budget] = []) {
        self.id = id
        self.kind = kind
        self.name = name
        self.budgets = budgets
    }

    enum CodingKeys: String, CodingKey { case id, kind, name, budgets }

    /// Sponsors an older Ayumi stored have no budgets.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        kind = try container.decode(Kind.self, forKey: .kind)
        name = try container.decode(LocalizedText.self, forKey: .name)
        budgets = try container.decodeIfPresent([Budget].self, forKey: .budgets) ?? []
    }

    /// Written only when there are budgets, so a program without any keeps its version.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(kind, forKey: .kind)
        try container.encode(name, forKey: .name)
        if !budgets.isEmpty { try container.encode(budgets, forKey: .budgets) }
    }
}

/// The most a sponsor pays in a period (local day, ISO week, month, or the whole program), in
/// points, whichever rules award them. Enforced in the transaction that records an award, guarded
/// in the statement like a limit, so concurrent events can never overspend it by one point.
public struct Budget: Sendable, Hashable, Codable {
    public enum Exhausted: String, Sendable, Hashable, Codable, CaseIterable {
        /// An award the budget cannot pay in full is not made.
        case stop
        /// An award is reduced to what the budget can still pay.
        case scale
        /// An award the budget cannot pay in full is made whole, held as pending until the next
        /// period begins, and paid from that period's budget (not made when that cannot pay it either).
        case pend
    }

    public var period: Limit.Period
    public var points: Int64
    public var onExhausted: Exhausted

    public init(period: Limit.Period, points: Int64, onExhausted: Exhausted) {
        self.period = period
        self.points = points
        self.onExhausted = onExhausted
    }

    /// "50,000 points a month", in both languages.
    public var text: LocalizedText {
        Limit(scope: .resident, period: period, metric: .points, max: points).text
    }
}

/// A zone of the city (RFC 7946 polygon). Visits carry only the zone id.
public struct Zone: Sendable, Hashable, Codable {
    public var id: String
    public var name: LocalizedText
    /// Exterior ring as [longitude, latitude] pairs in 1e-7 degrees (integers keep the hash exact).
    public var ring: [[Int64]]
}

/// One earning rule: when it fires (a trigger and a condition tree), what it pays (a points
/// formula), how much it may pay (limits) and who pays (funding). Every feature is data here; the
/// evaluator has one path for all of them.
public struct EarningRule: Sendable, Hashable, Codable {
    public enum Points: Sendable, Hashable, Codable {
        /// The same points for every matching event (for a walk: once for the day).
        case fixed(Int64)
        /// `points` for each `unit` steps of the day, rounded as written: 1 point per 2,000 steps,
        /// rounded down, is Yokohama's rule.
        case per(unit: Int64, points: Int64, round: Rounding)
        /// A table for the day's steps: the points of the highest band reached.
        case bands([Band])
    }

    public enum Rounding: String, Sendable, Hashable, Codable, CaseIterable {
        case down, up, nearest
    }

    /// From `steps` steps of a day on, the day earns `points` in total.
    public struct Band: Sendable, Hashable, Codable {
        public var steps: Int64
        public var points: Int64
    }

    public var id: String
    public var trigger: Event.Kind
    public var name: LocalizedText
    /// Rules of one group with `pick: best` award only the best of them for an event.
    public var group: String?
    public var condition: Condition
    public var points: Points
    public var limits: [Limit]
    /// Sponsor id → weight (percent when written with `%`); see `carriedSplit`.
    public var funding: [FundingWeight]
    /// Templates with `{steps}`, `{date}`, `{points}`, `{mode}`, `{route}`, `{stop}`, `{zone}`, `{zoneName}`.
    public var reason: LocalizedText
    /// Days the rule's points are held as pending (visible, not spendable) after the day they were
    /// earned, for programs that review before paying; 0: spendable at once.
    public var pendingDays: Int = 0
    /// A computed trigger: the rule pays when a run of days or a running total is reached, not for
    /// each event (`trigger` is then the kind of event that makes progress).
    public var computed: Computed?

    public enum Computed: Sendable, Hashable, Codable {
        /// `days` consecutive local days with a walk meeting the conditions; pays at every `days`th.
        case streak(days: Int)
        /// Every time the resident's total steps (each day counted at its largest report) passes a
        /// multiple of `steps`.
        case milestoneSteps(Int64)
        /// Every time the resident's taps meeting the conditions pass a multiple of `rides`.
        case milestoneRides(Int64)
    }
}

/// The most a rule may pay in a period: per resident or for everyone together, per local day, ISO
/// week (Monday to Sunday), calendar month or the whole program, in points or in awards.
public struct Limit: Sendable, Hashable, Codable {
    public enum Scope: String, Sendable, Hashable, Codable, CaseIterable {
        case resident, program
    }

    public enum Period: String, Sendable, Hashable, Codable, CaseIterable {
        case day, week, month, program
        /// The days of the campaign the limit names, and only those.
        case campaign
    }

    public enum Metric: String, Sendable, Hashable, Codable, CaseIterable {
        case points, count
    }

    public var scope: Scope
    public var period: Period
    public var metric: Metric
    public var max: Int64
    /// The campaign of a `per: campaign` limit.
    public var campaign: String?

    public init(scope: Scope, period: Period, metric: Metric, max: Int64, campaign: String? = nil) {
        self.scope = scope
        self.period = period
        self.metric = metric
        self.max = max
        self.campaign = campaign
    }

    /// "5 points a day", "4 awards a week, for everyone together", in both languages.
    public var text: LocalizedText {
        let number = grouped(max)
        let (jaPeriod, enPeriod) = switch period {
        case .day: ("1日", "a day")
        case .week: ("1週間", "a week")
        case .month: ("1か月", "a month")
        case .program: ("期間中", "in the program")
        case .campaign: ("キャンペーン\(campaign ?? "")期間中", "in campaign \(campaign ?? "")")
        }
        let (jaAmount, enAmount) = switch metric {
        case .points: ("\(number)ポイント", max == 1 ? "1 point" : "\(number) points")
        case .count: ("\(number)回", max == 1 ? "1 award" : "\(number) awards")
        }
        return switch scope {
        case .resident: LocalizedText(ja: "\(jaPeriod)\(jaAmount)", en: "\(enAmount) \(enPeriod)")
        case .program: LocalizedText(ja: "全員で\(jaPeriod)\(jaAmount)", en: "\(enAmount) \(enPeriod) for everyone together")
        }
    }
}

/// A condition tree: `all`, `any` and `not` over typed predicates on the event and the resident.
public indirect enum Condition: Sendable, Hashable, Codable {
    case all([Condition])
    case any([Condition])
    case not(Condition)
    /// The day's steps (walk), inclusive bounds.
    case steps(min: Int64?, max: Int64?)
    case mode([String])
    case route([String])
    case stop([String])
    /// The transit operator of a tap: the ingest feed that reported it (`operator` in YAML). An
    /// operator's tap records are its evidence, so a resident's own app can never claim one.
    case transitOperator([String])
    case zone([String])
    /// Local time of day of a tap or visit, in minutes after midnight: from (inclusive) to
    /// (exclusive); a window that wraps midnight has `from > to`.
    case time(from: Int, to: Int)
    case days([DayKind])
    /// Local dates, inclusive.
    case dates(from: LocalDate?, to: LocalDate?)
    /// The age the resident reaches in the year of the event (birth year known, birthday not).
    case age(min: Int?, max: Int?)
    case district([String])
    /// Days from enrolment to the event's day (the enrolment day is day 0).
    case enrolledDays(min: Int?, max: Int?)
    /// The resident carries at least one of these tags (set by the city's staff).
    case tags([String])
    /// The resident has given every one of these consents.
    case consent([String])

    public static let always = Condition.all([])
}

/// `weekday` is Monday to Friday unless a national holiday; `weekend` is Saturday and Sunday;
/// `holiday` is a day of `Rules/calendar/`.
public enum DayKind: String, Sendable, Hashable, Codable, CaseIterable {
    case weekday, weekend, holiday
}

/// A campaign from `Rules/campaigns.yaml`: between two local dates (both included) the rules it
/// names pay `percent` % of their points (rounded down); a `per: campaign` limit counts its days.
public struct Campaign: Sendable, Hashable, Codable {
    public var id: String
    public var name: LocalizedText
    public var from: LocalDate
    public var to: LocalDate
    public var percent: Int64
    public var rules: [String]

    public func covers(_ date: LocalDate) -> Bool { from <= date && date <= to }
}

/// A prize draw from `Rules/draws.yaml` (Yokohama's: residents with at least 200 points in a
/// quarter may win shop vouchers): residents who earned at least `pointsMin` on the local days
/// `from`…`to` and meet `condition` (resident predicates only) are eligible; `prizes` of them win
/// `prizePoints` each, funded by `sponsor`, picked reproducibly from a published seed.
public struct Draw: Sendable, Hashable, Codable {
    public var id: String
    public var name: LocalizedText
    public var from: LocalDate
    public var to: LocalDate
    public var pointsMin: Int64
    public var condition: Condition
    public var prizes: Int
    public var prizePoints: Int64
    public var sponsor: String

    /// The rule name a prize is recorded under in the ledger.
    public var ruleID: String { Award.drawRulePrefix + id }

    /// Whether a resident meets the draw's conditions, judged on its last day.
    public func admits(_ resident: Resident) -> Bool {
        let facts = Facts(event: Event(id: "draw", residentID: resident.id, detail: .walk(date: to, steps: 0, source: "draw")), submitter: nil,
                          resident: resident, date: to, minutes: nil, holiday: false)
        return facts.failure(of: condition) == nil
    }

    /// The winners among `eligible` (resident ids): a Fisher–Yates shuffle driven by SplitMix64
    /// seeded with SHA-256 of the draw id and the seed, the first `prizes` of it. Anyone with the
    /// seed and the list of eligible residents (sorted) gets the same winners.
    public func winners(eligible: [String], seed: String) -> [String] {
        var pool = eligible.sorted()
        let digest = Array(SHA256.hash(data: Data((id + "\u{0}" + seed).utf8)))
        var generator = SplitMix64(seed: digest.prefix(8).reduce(0) { $0 << 8 | UInt64($1) })
        let count = min(prizes, pool.count)
        for index in 0..<count {
            let pick = index + Int(generator.next() % UInt64(pool.count - index))
            pool.swapAt(index, pick)
        }
        return Array(pool.prefix(count))
    }
}

/// A named day off from `Rules/calendar/*.yaml` (Japanese national holidays for 2025 to 2027).
public struct Holiday: Sendable, Hashable, Codable {
    public var date: LocalDate
    public var name: LocalizedText
}

public struct FundingWeight: Sendable, Hashable, Codable {
    public var sponsorID: String
    public var weight: Int64
}

/// Explains past awards: the reason templates and limits of every rule in one stored ruleset
/// version, and its zone names. Read leniently (only the keys it needs), so versions an older Ayumi
/// stored, whose other keys differ, still explain the awards they made.
public struct ReasonExplainer: Sendable {
    struct Stored: Decodable {
        struct Rule: Decodable { var id: String; var reason: LocalizedText; var limits: [Limit]? }
        struct Zone: Decodable { var id: String; var name: LocalizedText }
        struct Sponsor: Decodable { var name: LocalizedText; var budgets: [Budget]? }
        var rules: [Rule]
        var zones: [Zone]
        var sponsors: [Sponsor]?
        var campaigns: [Campaign]?
        struct Draw: Decodable { var id: String; var name: LocalizedText }
        var draws: [Draw]?
    }

    struct Templates {
        var ja: ReasonTemplate
        var en: ReasonTemplate
        var limits: [Limit]
    }

    let templates: [String: Templates]
    let zoneNames: [String: LocalizedText]
    /// Every sponsor's budgets in order, with the sponsor's name: what a negative `cappedBy` names.
    let budgets: [(sponsor: LocalizedText, budget: Budget)]
    let campaigns: [Campaign]
    /// Draw id → name: a prize's reason.
    let drawNames: [String: LocalizedText]

    public init(canonicalJSON: String) throws {
        let stored = try JSONDecoder().decode(Stored.self, from: Data(canonicalJSON.utf8))
        self.init(rules: stored.rules.map { ($0.id, $0.reason, $0.limits ?? []) }, zones: stored.zones.map { ($0.id, $0.name) },
                  budgets: (stored.sponsors ?? []).flatMap { sponsor in (sponsor.budgets ?? []).map { (sponsor.name, $0) } },
                  campaigns: stored.campaigns ?? [], draws: (stored.draws ?? []).map { ($0.id, $0.name) })
    }

    /// For the ruleset in force: the evaluator words its awards with the same templates.
    init(ruleset: Ruleset) {
        self.init(rules: ruleset.rules.map { ($0.id, $0.reason, $0.limits) }, zones: ruleset.zones.map { ($0.id, $0.name) },
                  budgets: ruleset.sponsors.flatMap { sponsor in sponsor.budgets.map { (sponsor.name, $0) } }, campaigns: ruleset.campaigns,
                  draws: ruleset.draws.map { ($0.id, $0.name) })
    }

    private init(rules: [(String, LocalizedText, [Limit])], zones: [(String, LocalizedText)], budgets: [(sponsor: LocalizedText, budget: Budget)],
                 campaigns: [Campaign], draws: [(String, LocalizedText)]) {
        self.budgets = budgets
        self.campaigns = campaigns
        self.drawNames = Dictionary(draws, uniquingKeysWith: { first, _ in first })
        templates = Dictionary(rules.map { ($0.0, Templates(ja: ReasonTemplate($0.1.ja), en: ReasonTemplate($0.1.en), limits: $0.2)) },
                               uniquingKeysWith: { first, _ in first })
        zoneNames = Dictionary(zones, uniquingKeysWith: { first, _ in first })
    }

    /// The reason of an award of `points` under `ruleID` for an event, as it read when it was made
    /// (with "capped at …" when a limit reduced it); nil when the version has no such rule.
    public func reason(ruleID: String, detail: Event.Detail, date: LocalDate, points: Int64, cappedBy: Int? = nil) -> LocalizedText? {
        guard let rule = templates[ruleID] else { return nil }
        return ruleReason(rule, ruleID: ruleID, detail: detail, date: date, points: points, cappedBy: cappedBy)
    }

    /// The reason of a prize of a draw of this version.
    public func prizeReason(ruleID: String) -> LocalizedText? {
        guard ruleID.hasPrefix(Award.drawRulePrefix), let name = drawNames[String(ruleID.dropFirst(Award.drawRulePrefix.count))] else { return nil }
        return LocalizedText(ja: "\(name.ja)の当選", en: "Prize of the \(name.en)")
    }

    private func ruleReason(_ rule: Templates, ruleID: String, detail: Event.Detail, date: LocalDate, points: Int64, cappedBy: Int?) -> LocalizedText {
        var reason = ReasonTemplate.render(ja: rule.ja, en: rule.en, detail: detail, date: date, points: points) { zoneNames[$0] }
        // The campaign that multiplied the award is known from the rule and the date alone.
        if let campaign = campaigns.filter({ $0.rules.contains(ruleID) && $0.covers(date) }).max(by: { $0.percent < $1.percent }) {
            reason.ja += "（\(campaign.name.ja) \(campaign.percent)%）"
            reason.en += " (\(campaign.name.en), \(campaign.percent)%)"
        }
        guard let cappedBy else { return reason }
        if cappedBy == Award.cappedByBudgetOfAnotherVersion {
            return LocalizedText(ja: reason.ja + "（負担者の予算により減額）", en: reason.en + " (reduced by a sponsor's budget)")
        }
        if cappedBy < 0, budgets.indices.contains(-1 - cappedBy) {
            let (sponsor, budget) = budgets[-1 - cappedBy], text = budget.text
            return LocalizedText(ja: reason.ja + "（\(sponsor.ja)の予算 \(text.ja) により減額）",
                                 en: reason.en + " (reduced by the budget of \(sponsor.en), \(text.en))")
        }
        guard rule.limits.indices.contains(cappedBy) else { return reason }
        let limit = rule.limits[cappedBy].text
        return LocalizedText(ja: reason.ja + "（上限 \(limit.ja) により減額）", en: reason.en + " (capped at \(limit.en))")
    }
}

