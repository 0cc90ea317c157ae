import AyumiCore
import Foundation

/// The program as data: everything under `Rules/`, parsed and checked. `version` is a hash of the
/// canonical content, so a comment or re-indentation does not change it, but any change of meaning
/// does; every award records the version that produced it.
public struct Ruleset: Sendable, Hashable, Codable {
    public var program: Program
    public var sponsors: [Sponsor]
    public var zones: [Zone]
    public var rules: [EarningRule]
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
    /// Reads what `canonicalJSON` wrote.
    public init(canonicalJSON: String) throws {
        self = try JSONDecoder().decode(Ruleset.self, from: Data(canonicalJSON.utf8))
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
}

/// A zone of the city (RFC 7946 polygon). Visits carry only the zone id.
public struct Zone: Sendable, Hashable, Codable {
    public var id: String
    public var name: LocalizedText
    /// Exterior ring as [longitude, latitude] pairs in 1e-7 degrees (integers keep the hash exact).
    public var ring: [[Int64]]
}

public struct EarningRule: Sendable, Hashable, Codable {
    public enum Points: Sendable, Hashable, Codable {
        /// The same points for every matching event.
        case fixed(Int64)
        /// `points` for each full band of `steps` (Yokohama: 1 point per 2,000 steps).
        case perBand(steps: Int64, points: Int64)
    }

    public var id: String
    public var event: Event.Kind
    public var name: LocalizedText
    public var stepsMin: Int64?
    public var modes: [String]?
    public var zones: [String]?
    public var points: Points
    public var pointsPerDayMax: Int64?
    public var countPerDayMax: Int64?
    /// Sponsor id → weight; points are split by these weights with the largest remainder.
    public var funding: [FundingWeight]
    /// Templates with `{steps}`, `{date}`, `{points}`, `{mode}`, `{route}`, `{stop}`, `{zone}`.
    public var reason: LocalizedText
}

public struct FundingWeight: Sendable, Hashable, Codable {
    public var sponsorID: String
    public var weight: Int64
}

/// Explains past awards: the reason templates of every rule in one stored ruleset version, and its
/// zone names. Read leniently (only the keys it needs), so versions an older Ayumi stored, whose
/// other keys differ, still explain the awards they made.
public struct ReasonExplainer: Sendable {
    struct Stored: Decodable {
        struct Rule: Decodable { var id: String; var name: LocalizedText; var reason: LocalizedText }
        struct Zone: Decodable { var id: String; var name: LocalizedText }
        var rules: [Rule]
        var zones: [Zone]
    }

    let templates: [String: (ja: ReasonTemplate, en: ReasonTemplate)]
    let zoneNames: [String: LocalizedText]

    public init(canonicalJSON: String) throws {
        let stored = try JSONDecoder().decode(Stored.self, from: Data(canonicalJSON.utf8))
        self.init(reasons: stored.rules.map { ($0.id, $0.reason) }, zones: stored.zones.map { ($0.id, $0.name) })
    }

    /// For the ruleset in force: the evaluator words its awards with the same templates.
    init(ruleset: Ruleset) {
        self.init(reasons: ruleset.rules.map { ($0.id, $0.reason) }, zones: ruleset.zones.map { ($0.id, $0.name) })
    }

    private init(reasons: [(String, LocalizedText)], zones: [(String, LocalizedText)]) {
        templates = Dictionary(reasons.map { ($0.0, (ja: ReasonTemplate($0.1.ja), en: ReasonTemplate($0.1.en))) },
                               uniquingKeysWith: { first, _ in first })
        zoneNames = Dictionary(zones, uniquingKeysWith: { first, _ in first })
    }

    /// The reason of an award of `points` under `ruleID` for an event, as it read when it was made;
    /// nil when the version has no such rule.
    public func reason(ruleID: String, detail: Event.Detail, date: LocalDate, points: Int64) -> LocalizedText? {
        guard let rule = templates[ruleID] else { return nil }
        return ReasonTemplate.render(ja: rule.ja, en: rule.en, detail: detail, date: date, points: points) { zoneNames[$0] }
    }
}
