import AyumiCore
import Crypto
import Foundation

/// Every problem found in a rules directory; `rules check` prints them all, not just the first.
public struct RulesCheckFailure: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [RulesDiagnostic]
    /// A directory or file could not be read at all (missing, not permitted, not UTF-8 text), as
    /// opposed to read and found wrong: `rules check` exits 2 for this, 1 for problems in the text.
    public var unreadable = false
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }

    public init(diagnostics: [RulesDiagnostic], unreadable: Bool = false) {
        self.diagnostics = diagnostics
        self.unreadable = unreadable
    }
}

/// Turns the text of the files in `Rules/` into a checked `Ruleset`. Pure: the caller reads the
/// files, so tests feed text directly and the server and CLI share one reading path.
public enum RulesParser {
    public static let programFile = "program.yaml"
    public static let sponsorsFile = "sponsors.yaml"
    public static let zonesFile = "zones.geojson"

    /// - Parameter files: file name (relative to the rules directory) → contents. Every `.yaml` file
    ///   other than program and sponsors is one earning rule. `displayPrefix` is prepended to file
    ///   names in diagnostics (such as `Rules/`).
    public static func parse(files: [String: String], displayPrefix: String = "") throws(RulesCheckFailure) -> Ruleset {
        try check(files: files, displayPrefix: displayPrefix).ruleset
    }

    /// `parse`, and the warnings of a program that loads: parts of it that can never do what they
    /// were written for, such as a rule no event can fire.
    public static func check(files: [String: String], displayPrefix: String = "") throws(RulesCheckFailure)
        -> (ruleset: Ruleset, warnings: [RulesDiagnostic]) {
        var diagnostics: [RulesDiagnostic] = []
        var warnings: [RulesDiagnostic] = []
        func attempt<T>(_ body: () throws(RulesDiagnostic) -> T) -> T? {
            do { return try body() } catch { diagnostics.append(error); return nil }
        }
        func text(_ name: String) -> String? {
            if let text = files[name] { return text }
            diagnostics.append(RulesDiagnostic(file: displayPrefix + name, line: 1, column: 1, message: "file is missing"))
            return nil
        }

        let program = text(programFile).flatMap { t in attempt { () throws(RulesDiagnostic) in try parseProgram(t, file: displayPrefix + programFile) } }
        let sponsors = text(sponsorsFile).flatMap { t in attempt { () throws(RulesDiagnostic) in try parseSponsors(t, file: displayPrefix + sponsorsFile) } }
        let zones = text(zonesFile).flatMap { t in attempt { () throws(RulesDiagnostic) in try parseZones(t, file: displayPrefix + zonesFile) } }
        var rules: [EarningRule] = []
        let ruleFiles = files.keys.filter { $0.hasSuffix(".yaml") && $0 != programFile && $0 != sponsorsFile }.sorted()
        for name in ruleFiles {
            let context = RuleContext(sponsorIDs: sponsors.map { Set($0.map(\.id)) }, zoneIDs: zones.map { Set($0.map(\.id)) },
                                      submitters: program?.submitters,
                                      stepsPerDayMax: program?.stepsPerDayMax ?? Bounds.stepsPerDay.upperBound)
            if let rule = attempt({ () throws(RulesDiagnostic) in
                try parseRule(files[name]!, file: displayPrefix + name, context: context, warnings: &warnings)
            }) {
                if rules.contains(where: { $0.id == rule.id }) {
                    diagnostics.append(RulesDiagnostic(file: displayPrefix + name, line: 1, column: 1,
                                                       message: "rule id '\(rule.id)' is used by another file"))
                } else {
                    rules.append(rule)
                }
            }
        }
        if ruleFiles.isEmpty {
            diagnostics.append(RulesDiagnostic(file: displayPrefix, line: 1, column: 1, message: "no earning rule files (*.yaml)"))
        }
        guard diagnostics.isEmpty, let program, let sponsors, let zones else {
            throw RulesCheckFailure(diagnostics: diagnostics)
        }
        return (make(program: program, sponsors: sponsors, zones: zones, rules: rules), warnings)
    }

    /// Reads `directory` and parses it. Diagnostics name files as `<directory>/<file>`.
    public static func load(directory: String) throws(RulesCheckFailure) -> Ruleset {
        try check(directory: directory).ruleset
    }

    /// `load`, and the program's warnings (see `check(files:displayPrefix:)`).
    public static func check(directory: String) throws(RulesCheckFailure) -> (ruleset: Ruleset, warnings: [RulesDiagnostic]) {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw RulesCheckFailure(diagnostics: [RulesDiagnostic(file: directory, line: 1, column: 1,
                                                                  message: "cannot read the rules directory")], unreadable: true)
        }
        var files: [String: String] = [:]
        for name in names where name.hasSuffix(".yaml") || name == zonesFile {
            let path = (directory as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw RulesCheckFailure(diagnostics: [RulesDiagnostic(file: path, line: 1, column: 1, message: "not readable UTF-8 text")],
                                        unreadable: true)
            }
            files[name] = text
        }
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        return try check(files: files, displayPrefix: prefix)
    }

    /// The version is the SHA-256 of the canonical JSON of the parsed content (sorted keys), so
    /// formatting and comments do not change it.
    static func make(program: Program, sponsors: [Sponsor], zones: [Zone], rules: [EarningRule]) -> Ruleset {
        var ruleset = Ruleset(program: program, sponsors: sponsors, zones: zones, rules: rules, version: "")
        let digest = SHA256.hash(data: Data(ruleset.canonicalJSON.utf8))
        ruleset.version = digest.prefix(6).map { String(format: "%02x", $0) }.joined()
        return ruleset
    }

    // MARK: - Files

    static func parseProgram(_ text: String, file: String) throws(RulesDiagnostic) -> Program {
        var object = try YAMLObject(YAMLValue.parse(text, file: file))
        let name = try localized(object.required("name"))
        let zoneValue = try object.required("timeZone")
        let timeZone = try zoneValue.string()
        guard TimeZone(identifier: timeZone) != nil else { throw zoneValue.error("unknown time zone '\(timeZone)'") }
        let program = Program(
            name: name,
            timeZone: timeZone,
            yenPerPoint: try object.required("yenPerPoint").int(in: Bounds.yenPerPoint),
            pointExpiryMonths: Int(try object.required("pointExpiryMonths").int(in: Bounds.pointExpiryMonths)),
            stepsPerDayMax: try object.required("stepsPerDayMax").int(in: Bounds.stepsPerDay),
            eventAgeDaysMax: Int(try object.required("eventAgeDaysMax").int(in: Bounds.eventAgeDays)),
            redemptionCodeTTLSeconds: Int(try object.required("redemptionCodeTTLSeconds").int(in: Bounds.redemptionCodeTTLSeconds)),
            reportGroupSizeMin: Int(try object.required("reportGroupSizeMin").int(in: Bounds.reportGroupSize)),
            submitters: try parseSubmitters(object.required("submitters")))
        try object.rejectUnknownKeys()
        return program
    }

    /// Every event kind must be named: a program says who reports each kind, it does not default.
    static func parseSubmitters(_ value: YAMLValue) throws(RulesDiagnostic) -> [String: [SubmitterPermission]] {
        var object = try YAMLObject(value)
        var result: [String: [SubmitterPermission]] = [:]
        var feedsByVariable: [String: String] = [:]
        for kind in Event.Kind.allCases {
            var permissions: [SubmitterPermission] = []
            for item in try object.required(kind.rawValue).sequence() {
                guard let permission = SubmitterPermission(try item.string()) else {
                    throw item.error("expected resident, ingest or ingest:FEED-NAME")
                }
                // First-start tokens name feeds in shell variables: two feeds must not share one.
                if case .feed(let name) = permission {
                    let variable = SubmitterPermission.variableName(feed: name)
                    if let other = feedsByVariable[variable], other != name {
                        throw item.error("feeds '\(other)' and '\(name)' differ only in punctuation or case; name them apart")
                    }
                    feedsByVariable[variable] = name
                }
                permissions.append(permission)
            }
            result[kind.rawValue] = permissions
        }
        try object.rejectUnknownKeys()
        return result
    }

    static func parseSponsors(_ text: String, file: String) throws(RulesDiagnostic) -> [Sponsor] {
        var root = try YAMLObject(YAMLValue.parse(text, file: file))
        let list = try root.required("sponsors").sequence()
        try root.rejectUnknownKeys()
        var sponsors: [Sponsor] = []
        for item in list {
            var object = try YAMLObject(item)
            let idValue = try object.required("id")
            let id = try identifier(idValue)
            guard !sponsors.contains(where: { $0.id == id }) else { throw idValue.error("duplicate sponsor id '\(id)'") }
            let kindValue = try object.required("kind")
            guard let kind = Sponsor.Kind(rawValue: try kindValue.string()) else {
                throw kindValue.error("kind must be one of: \(Sponsor.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            sponsors.append(Sponsor(id: id, kind: kind, name: try localized(object.required("name"))))
            try object.rejectUnknownKeys()
        }
        guard !sponsors.isEmpty else { throw root.value.error("at least one sponsor is needed") }
        return sponsors
    }

    /// GeoJSON is JSON, and JSON is YAML, so the same reader gives line and column here too.
    static func parseZones(_ text: String, file: String) throws(RulesDiagnostic) -> [Zone] {
        var root = try YAMLObject(YAMLValue.parse(text, file: file))
        let typeValue = try root.required("type")
        guard try typeValue.string() == "FeatureCollection" else { throw typeValue.error("expected a GeoJSON FeatureCollection") }
        let features = try root.required("features").sequence()
        var zones: [Zone] = []
        for feature in features {
            var object = try YAMLObject(feature)
            let idValue = try object.required("id")
            let id = try identifier(idValue)
            guard !zones.contains(where: { $0.id == id }) else { throw idValue.error("duplicate zone id '\(id)'") }
            var properties = try YAMLObject(object.required("properties"))
            let name = LocalizedText(ja: try properties.required("name_ja").string(), en: try properties.required("name_en").string())
            var geometry = try YAMLObject(object.required("geometry"))
            let geometryType = try geometry.required("type")
            guard try geometryType.string() == "Polygon" else { throw geometryType.error("zone geometry must be a Polygon") }
            let coordinates = try geometry.required("coordinates")
            guard let exterior = try coordinates.sequence().first else { throw coordinates.error("a polygon needs a ring") }
            var ring: [[Int64]] = []
            for position in try exterior.sequence() {
                let pair = try position.sequence()
                guard pair.count == 2 else { throw position.error("a position is [longitude, latitude]") }
                let longitude = try pair[0].double(), latitude = try pair[1].double()
                guard (-180...180).contains(longitude), (-90...90).contains(latitude) else {
                    throw position.error("longitude or latitude out of range")
                }
                ring.append([Int64((longitude * 1e7).rounded()), Int64((latitude * 1e7).rounded())])
            }
            guard ring.count >= 4, ring.first == ring.last else {
                throw exterior.error("a linear ring has at least four positions and ends where it starts (RFC 7946 3.1.6)")
            }
            zones.append(Zone(id: id, name: name, ring: ring))
            try geometry.rejectUnknownKeys()
        }
        return zones
    }

    struct RuleContext {
        var sponsorIDs: Set<String>?
        var zoneIDs: Set<String>?
        /// Who may report each kind of event (nil when program.yaml is broken).
        var submitters: [String: [SubmitterPermission]]?
        /// The program's plausibility limit (or its upper bound when program.yaml is broken): the
        /// longest walk a banded rule is ever evaluated for.
        var stepsPerDayMax: Int64
    }

    static func parseRule(_ text: String, file: String, context: RuleContext, warnings: inout [RulesDiagnostic]) throws(RulesDiagnostic)
        -> EarningRule {
        var object = try YAMLObject(YAMLValue.parse(text, file: file))
        let id = try identifier(object.required("id"))
        let eventValue = try object.required("event")
        guard let event = Event.Kind(rawValue: try eventValue.string()) else {
            throw eventValue.error("event must be one of: \(Event.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if context.submitters?[event.rawValue]?.isEmpty == true {
            warnings.append(eventValue.warning("this rule can never fire: program.yaml's submitters accept \(event.rawValue) events from no one"))
        }
        let name = try localized(object.required("name"))

        var stepsMin: Int64?, modes: [String]?, zones: [String]?
        if let conditionsValue = object.optional("conditions") {
            var conditions = try YAMLObject(conditionsValue)
            if let value = conditions.optional("stepsMin") {
                guard event == .walk else { throw value.error("stepsMin applies to walk events only") }
                let minimum = try value.int(in: Bounds.stepsPerDay)
                if minimum > context.stepsPerDayMax {
                    warnings.append(value.warning("this rule can never fire: stepsMin \(grouped(minimum)) is above the program's "
                                                  + "stepsPerDayMax (\(grouped(context.stepsPerDayMax))), and longer walks are rejected"))
                }
                stepsMin = minimum
            }
            if let value = conditions.optional("modes") {
                guard event == .transitTap else { throw value.error("modes apply to transit_tap events only") }
                modes = try value.sequence().map { v throws(RulesDiagnostic) in try v.string() }
                if modes?.isEmpty == true { warnings.append(value.warning("this rule can never fire: no mode is listed")) }
            }
            if let value = conditions.optional("zones") {
                guard event == .visit else { throw value.error("zones apply to visit events only") }
                var ids: [String] = []
                for item in try value.sequence() {
                    let zone = try item.string()
                    if let known = context.zoneIDs, !known.contains(zone) { throw item.error("unknown zone '\(zone)'") }
                    ids.append(zone)
                }
                zones = ids
                if ids.isEmpty { warnings.append(value.warning("this rule can never fire: no zone is listed")) }
            }
            try conditions.rejectUnknownKeys()
        }

        let pointsValue = try object.required("points")
        var pointsObject = try YAMLObject(pointsValue)
        let points: EarningRule.Points
        if let fixed = pointsObject.optional("fixed") {
            points = .fixed(try fixed.int(in: Bounds.fixedPoints))
        } else if let bandValue = pointsObject.optional("perBand") {
            guard event == .walk else { throw bandValue.error("perBand applies to walk events only") }
            var band = try YAMLObject(bandValue)
            let stepsValue = try band.required("steps")
            let bandSteps = try stepsValue.int(in: Bounds.stepsPerDay)
            if bandSteps > context.stepsPerDayMax {
                warnings.append(stepsValue.warning("this rule can never award points: one band is \(grouped(bandSteps)) steps, more than "
                                                   + "the program's stepsPerDayMax (\(grouped(context.stepsPerDayMax)))"))
            }
            points = .perBand(steps: bandSteps, points: try band.required("points").int(in: Bounds.bandPoints))
            try band.rejectUnknownKeys()
        } else {
            throw pointsObject.value.error("points needs 'fixed' or 'perBand'")
        }
        try pointsObject.rejectUnknownKeys()

        var pointsPerDayMax: Int64?, countPerDayMax: Int64?
        if let capsValue = object.optional("caps") {
            var caps = try YAMLObject(capsValue)
            if let capValue = caps.optional("pointsPerDayMax") {
                let cap = try capValue.int(in: Bounds.pointsPerDay)
                let smallest = switch points {
                case .fixed(let fixed): fixed
                case .perBand(_, let bandPoints): bandPoints
                }
                guard cap >= smallest else {
                    throw capValue.error("pointsPerDayMax \(grouped(cap)) is lower than this rule's smallest award (\(grouped(smallest)) "
                                         + "points), so every award would be cut: write at least \(grouped(smallest)), or lower the points")
                }
                pointsPerDayMax = cap
            }
            countPerDayMax = try caps.optional("countPerDayMax")?.int(in: Bounds.countPerDay)
            try caps.rejectUnknownKeys()
        }

        var funding: [FundingWeight] = []
        let fundingValue = try object.required("funding")
        for (sponsorID, weightValue) in try fundingValue.mapping() {
            if let known = context.sponsorIDs, !known.contains(sponsorID) {
                throw weightValue.error("unknown sponsor '\(sponsorID)' (see sponsors.yaml)")
            }
            funding.append(FundingWeight(sponsorID: sponsorID, weight: try weightValue.int(in: Bounds.fundingWeight)))
        }
        guard !funding.isEmpty else { throw fundingValue.error("at least one sponsor must fund the rule") }
        guard funding.count <= Bounds.sponsorsPerRuleMax else {
            throw fundingValue.error("at most \(Bounds.sponsorsPerRuleMax) sponsors fund one rule")
        }
        let awardMax = largestAward(points, pointsPerDayMax: pointsPerDayMax, stepsPerDayMax: context.stepsPerDayMax)
        guard awardMax <= Bounds.pointsPerAwardMax else {
            throw pointsValue.error("one event could earn \(grouped(awardMax)) points under this rule (a walk of \(grouped(context.stepsPerDayMax)) "
                                    + "steps); at most \(grouped(Bounds.pointsPerAwardMax)): lower the points or add caps.pointsPerDayMax")
        }
        guard splitFits(pointsMax: awardMax, weights: funding.map(\.weight)) else {
            throw fundingValue.error("splitting \(grouped(awardMax)) points by these weights would overflow")
        }
        let reason = try localized(object.required("reason"))
        try object.rejectUnknownKeys()
        return EarningRule(id: id, event: event, name: name, stepsMin: stepsMin, modes: modes, zones: zones, points: points,
                           pointsPerDayMax: pointsPerDayMax, countPerDayMax: countPerDayMax, funding: funding, reason: reason)
    }

    /// The most one event can earn under a rule: a banded walk of the program's step maximum, or the
    /// fixed points, each under the daily points cap. Overflow-checked, since the inputs are what is
    /// being checked.
    static func largestAward(_ points: EarningRule.Points, pointsPerDayMax: Int64?, stepsPerDayMax: Int64) -> Int64 {
        var largest: Int64
        switch points {
        case .fixed(let fixed):
            largest = fixed
        case .perBand(let steps, let bandPoints):
            let (product, overflow) = (stepsPerDayMax / steps).multipliedReportingOverflow(by: bandPoints)
            largest = overflow ? .max : product
        }
        if let pointsPerDayMax { largest = min(largest, pointsPerDayMax) }
        return largest
    }

    static func localized(_ value: YAMLValue) throws(RulesDiagnostic) -> LocalizedText {
        var object = try YAMLObject(value)
        let text = LocalizedText(ja: try object.required("ja").string(), en: try object.required("en").string())
        try object.rejectUnknownKeys()
        return text
    }

    static func identifier(_ value: YAMLValue) throws(RulesDiagnostic) -> String {
        let id = try value.string()
        guard Identifier.isValid(id) else { throw value.error("an id is 1-64 letters, digits or -_.:") }
        return id
    }
}
