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
    public static let campaignsFile = "campaigns.yaml"
    public static let drawsFile = "draws.yaml"
    public static let kpisFile = "kpis.yaml"
    /// Holiday lists (`calendar/*.yaml`), for the `days: [holiday]` condition.
    public static let calendarDirectory = "calendar"

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
        let sponsors = text(sponsorsFile).flatMap { t in attempt { () throws(RulesDiagnostic) in try parseSponsors(t, file: displayPrefix + sponsorsFile, program: program) } }
        let zones = text(zonesFile).flatMap { t in attempt { () throws(RulesDiagnostic) in try parseZones(t, file: displayPrefix + zonesFile) } }
        var rules: [EarningRule] = []
        var holidays: [Holiday] = []
        for name in files.keys.filter({ $0.hasPrefix(calendarDirectory + "/") && $0.hasSuffix(".yaml") }).sorted() {
            if let parsed = attempt({ () throws(RulesDiagnostic) in try parseCalendar(files[name]!, file: displayPrefix + name, known: holidays) }) {
                holidays += parsed
            }
        }
        let parsedCampaigns = files[campaignsFile].flatMap { text in
            attempt { () throws(RulesDiagnostic) in try parseCampaigns(text, file: displayPrefix + campaignsFile, program: program) }
        } ?? []
        let campaigns = parsedCampaigns.map(\.campaign)
        let ruleFiles = files.keys.filter { $0.hasSuffix(".yaml") && !$0.contains("/") && !([programFile, sponsorsFile, campaignsFile, drawsFile, kpisFile] + assessmentFiles).contains($0) }.sorted()
        for name in ruleFiles {
            let context = RuleContext(sponsorIDs: sponsors.map { Set($0.map(\.id)) }, zoneIDs: zones.map { Set($0.map(\.id)) },
                                      submitters: program?.submitters,
                                      stepsPerDayMax: program?.stepsPerDayMax ?? Bounds.stepsPerDay.upperBound, campaigns: campaigns,
                                      pointExpiryMonths: program?.pointExpiryMonths, program: program)
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
        // A campaign names rules by id: each must be a rule of this program (checked once every
        // rule file reads, so a broken rule file is not reported twice).
        let known = Set(rules.map(\.id))
        for (campaign, ruleValues) in parsedCampaigns where !ruleFiles.isEmpty && diagnostics.isEmpty {
            for (id, value) in zip(campaign.rules, ruleValues) where !known.contains(id) {
                let hint = closest(to: id, among: known).map { "; did you mean '\($0)'?" } ?? ""
                diagnostics.append(value.error("unknown rule '\(id)'\(hint)"))
            }
        }
        let draws = files[drawsFile].flatMap { text in
            attempt { () throws(RulesDiagnostic) in
                try parseDraws(text, file: displayPrefix + drawsFile, sponsorIDs: sponsors.map { Set($0.map(\.id)) }, program: program)
            }
        } ?? []
        let kpiTargets = files[kpisFile].flatMap { text in
            attempt { () throws(RulesDiagnostic) in try parseKPIs(text, file: displayPrefix + kpisFile) }
        } ?? []
        let assessment = attempt { () throws(RulesDiagnostic) in
            try parseAssessment(files: files, displayPrefix: displayPrefix, zoneIDs: zones.map { Set($0.map(\.id)) })
        } ?? nil
        if ruleFiles.isEmpty {
            diagnostics.append(RulesDiagnostic(file: displayPrefix, line: 1, column: 1, message: "no earning rule files (*.yaml)"))
        }
        guard diagnostics.isEmpty, let program, let sponsors, let zones else {
            throw RulesCheckFailure(diagnostics: diagnostics)
        }
        return (make(program: program, sponsors: sponsors, zones: zones, rules: rules, holidays: holidays.sorted { $0.date < $1.date },
                     campaigns: campaigns, draws: draws, kpiTargets: kpiTargets, assessment: assessment), warnings)
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
        var paths = names.filter { $0.hasSuffix(".yaml") || $0 == zonesFile }
        let calendar = (directory as NSString).appendingPathComponent(calendarDirectory)
        if let calendarNames = try? FileManager.default.contentsOfDirectory(atPath: calendar) {
            paths += calendarNames.filter { $0.hasSuffix(".yaml") }.map { calendarDirectory + "/" + $0 }
        }
        for name in paths {
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
    static func make(program: Program, sponsors: [Sponsor], zones: [Zone], rules: [EarningRule], holidays: [Holiday],
                     campaigns: [Campaign] = [], draws: [Draw] = [], kpiTargets: [KPITarget] = [], assessment: Assessment? = nil) -> Ruleset {
        var ruleset = Ruleset(program: program, sponsors: sponsors, zones: zones, rules: rules, holidays: holidays, campaigns: campaigns,
                              draws: draws, kpiTargets: kpiTargets, assessment: assessment, version: "")
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
        var program = Program(
            name: name,
            timeZone: timeZone,
            yenPerPoint: try object.required("yenPerPoint").int(in: Bounds.yenPerPoint),
            pointExpiryMonths: Int(try object.required("pointExpiryMonths").int(in: Bounds.pointExpiryMonths)),
            stepsPerDayMax: try object.required("stepsPerDayMax").int(in: Bounds.stepsPerDay),
            eventAgeDaysMax: Int(try object.required("eventAgeDaysMax").int(in: Bounds.eventAgeDays)),
            redemptionCodeTTLSeconds: Int(try object.required("redemptionCodeTTLSeconds").int(in: Bounds.redemptionCodeTTLSeconds)),
            reportGroupSizeMin: Int(try object.required("reportGroupSizeMin").int(in: Bounds.reportGroupSize)),
            submitters: try parseSubmitters(object.required("submitters")),
            effectiveFrom: try object.optional("effectiveFrom").map { v throws(RulesDiagnostic) in try instant(v, timeZone: timeZone) },
            refundDaysMax: try object.optional("refundDaysMax").map { v throws(RulesDiagnostic) in Int(try v.int(in: Bounds.refundDays)) })
        if let runsValue = object.optional("runs") {
            var runs = try YAMLObject(runsValue)
            program.runsFrom = try runs.optional("from").map { v throws(RulesDiagnostic) in try date(v) }
            let toValue = runs.optional("to")
            program.runsTo = try toValue.map { v throws(RulesDiagnostic) in try date(v) }
            try runs.rejectUnknownKeys()
            if let from = program.runsFrom, let to = program.runsTo, to < from {
                throw (toValue ?? runsValue).error("the program ends (\(to)) before it starts (\(from))")
            }
        }
        try object.rejectUnknownKeys()
        return program
    }

    static func date(_ value: YAMLValue) throws(RulesDiagnostic) -> LocalDate {
        guard let date = LocalDate(try value.string()) else { throw value.error("expected a date as YYYY-MM-DD") }
        return date
    }

    /// A local date (its midnight in the program's zone) or a date-time with its UTC offset, as
    /// seconds since 1970.
    static func instant(_ value: YAMLValue, timeZone identifier: String) throws(RulesDiagnostic) -> Int64 {
        let text = try value.string()
        if let date = LocalDate(text) {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: identifier)!
            let midnight = calendar.startOfDay(for: calendar.date(from: DateComponents(year: date.year, month: date.month, day: date.day, hour: 12))!)
            return Int64(midnight.timeIntervalSince1970)
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        guard text.count > 19, let instant = formatter.date(from: text) else {
            throw value.error("expected a date as YYYY-MM-DD (midnight in the program's time zone) or a time as 2027-04-01T09:00:00+09:00")
        }
        return Int64(instant.timeIntervalSince1970)
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

    static func parseSponsors(_ text: String, file: String, program: Program? = nil) throws(RulesDiagnostic) -> [Sponsor] {
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
            let name = try localized(object.required("name"))
            var budgets: [Budget] = []
            for item in try object.optional("budgets")?.sequence() ?? [] {
                var budget = try YAMLObject(item)
                let periodValue = try budget.required("per")
                let periods = Limit.Period.allCases.filter { $0 != .campaign }
                guard let period = Limit.Period(rawValue: try periodValue.string()), periods.contains(period) else {
                    throw periodValue.error("per must be one of: \(periods.map(\.rawValue).joined(separator: ", "))")
                }
                guard !budgets.contains(where: { $0.period == period }) else { throw periodValue.error("a second budget per \(period.rawValue)") }
                let points = try budget.required("points").int(in: Bounds.limitPoints)
                let exhaustedValue = try budget.required("onExhausted")
                guard let exhausted = Budget.Exhausted(rawValue: try exhaustedValue.string()) else {
                    throw exhaustedValue.error("onExhausted must be one of: \(Budget.Exhausted.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                if exhausted == .pend, period == .program {
                    throw exhaustedValue.error("onExhausted: pend holds points until the budget's next period; "
                                               + "a program budget has none: write stop or scale, or budget per day, week or month")
                }
                // Held points must be released before they expire, even for the latest event accepted.
                if exhausted == .pend, let program {
                    let held = (period == .month ? 31 : period == .week ? 7 : 1) + program.eventAgeDaysMax
                    if held >= program.pointExpiryMonths * 28 {
                        throw exhaustedValue.error("points held until the next \(period.rawValue) could expire first: an event "
                                                   + "\(program.eventAgeDaysMax) days late (eventAgeDaysMax) waits up to \(held) days, "
                                                   + "and points live \(program.pointExpiryMonths) month\(program.pointExpiryMonths == 1 ? "" : "s") "
                                                   + "(pointExpiryMonths): write stop or scale, or a shorter period")
                    }
                }
                try budget.rejectUnknownKeys()
                budgets.append(Budget(period: period, points: points, onExhausted: exhausted))
            }
            sponsors.append(Sponsor(id: id, kind: kind, name: name, budgets: budgets))
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
        var campaigns: [Campaign] = []
        /// The program's expiry (nil when program.yaml is broken): pending points must be released before it.
        var pointExpiryMonths: Int? = nil
        /// The program's days (`runs`), when program.yaml reads.
        var program: Program? = nil
    }

    /// `draws: [{id, name, from, to, pointsMin, conditions, prizes, prizePoints, sponsor}]`.
    static func parseDraws(_ text: String, file: String, sponsorIDs: Set<String>?, program: Program?) throws(RulesDiagnostic) -> [Draw] {
        var root = try YAMLObject(YAMLValue.parse(text, file: file))
        let list = try root.required("draws").sequence()
        try root.rejectUnknownKeys()
        var draws: [Draw] = []
        for item in list {
            var object = try YAMLObject(item)
            let idValue = try object.required("id")
            let id = try identifier(idValue)
            guard !draws.contains(where: { $0.id == id }) else { throw idValue.error("duplicate draw id '\(id)'") }
            let name = try localized(object.required("name"))
            let fromValue = try object.required("from"), toValue = try object.required("to")
            let from = try date(fromValue), to = try date(toValue)
            guard from <= to else { throw toValue.error("the draw's period ends (\(to)) before it starts (\(from))") }
            try checkWithinProgram("draw's period", from: (from, fromValue), to: (to, toValue), program: program)
            let pointsMin = try object.required("pointsMin").int(in: Bounds.limitPoints)
            var condition = Condition.always
            if let conditionsValue = object.optional("conditions") {
                // Only what is known of a resident: a draw has no event.
                for (key, value) in try conditionsValue.mapping() where !["age", "district", "enrolledDays", "tags", "consent"].contains(key) {
                    throw value.error("a draw's conditions are on the resident only: age, district, enrolledDays, tags, consent")
                }
                var reader = ConditionReader(trigger: .walk, context: RuleContext(stepsPerDayMax: Bounds.stepsPerDay.upperBound))
                condition = try reader.all(conditionsValue)
            }
            let prizes = Int(try object.required("prizes").int(in: Bounds.drawPrizes))
            let prizePoints = try object.required("prizePoints").int(in: Bounds.fixedPoints)
            let sponsorValue = try object.required("sponsor")
            let sponsor = try sponsorValue.string()
            if let sponsorIDs, !sponsorIDs.contains(sponsor) { throw sponsorValue.error("unknown sponsor '\(sponsor)' (see sponsors.yaml)") }
            try object.rejectUnknownKeys()
            draws.append(Draw(id: id, name: name, from: from, to: to, pointsMin: pointsMin, condition: condition, prizes: prizes,
                              prizePoints: prizePoints, sponsor: sponsor))
        }
        return draws
    }

    /// A campaign or draw must lie within the days the program runs (`runs` in program.yaml).
    static func checkWithinProgram(_ what: String, from: (LocalDate, YAMLValue), to: (LocalDate, YAMLValue),
                                   program: Program?) throws(RulesDiagnostic) {
        guard let program else { return }
        let outside = program.outside(from: from.0, to: to.0)
        if outside.start {
            throw from.1.error("the \(what) starts (\(from.0)) before the program does: program.yaml runs \(program.runsText)")
        }
        if outside.end {
            throw to.1.error("the \(what) ends (\(to.0)) after the program does: program.yaml runs \(program.runsText)")
        }
    }

    /// `kpis: [{id, target, year}]`: a target per indicator Ayumi measures (rates in percent, which
    /// may have one decimal; rides per participant with up to two).
    static func parseKPIs(_ text: String, file: String) throws(RulesDiagnostic) -> [KPITarget] {
        var root = try YAMLObject(YAMLValue.parse(text, file: file))
        let list = try root.required("kpis").sequence()
        try root.rejectUnknownKeys()
        var targets: [KPITarget] = []
        for item in list {
            var object = try YAMLObject(item)
            let idValue = try object.required("id")
            let id = try idValue.string()
            guard let kpi = KPI(rawValue: id) else {
                let known = KPI.allCases.map(\.rawValue)
                let hint = closest(to: id, among: known).map { "; did you mean '\($0)'?" } ?? ""
                throw idValue.error("unknown indicator '\(id)'\(hint) (one of: \(known.joined(separator: ", ")))")
            }
            guard !targets.contains(where: { $0.kpi == kpi }) else { throw idValue.error("a second target for \(id)") }
            let targetValue = try object.required("target")
            let text = try targetValue.string()
            let decimals = kpi.scale == 1 ? 0 : (kpi.scale == 10 ? 1 : 2)
            guard let value = scaled(text, decimals: decimals), value >= 0, value <= 1_000_000_000_000 else {
                throw targetValue.error(decimals == 0 ? "expected a whole number" : "expected a number with at most \(decimals) decimal\(decimals == 1 ? "" : "s")")
            }
            let year = Int(try object.required("year").int(in: 2000...2100))
            try object.rejectUnknownKeys()
            targets.append(KPITarget(kpi: kpi, value: value, year: year))
        }
        return targets
    }

    /// "12.5" with one decimal → 125: exact, never through floating point.
    static func scaled(_ text: String, decimals: Int) -> Int64? {
        let parts = text.replacingOccurrences(of: "_", with: "").split(separator: ".", omittingEmptySubsequences: false)
        let ascii = { (part: Substring) in !part.isEmpty && part.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) } }
        guard parts.count <= 2, ascii(parts[0]), let whole = Int64(parts[0]) else { return nil }
        let fraction = parts.count == 2 ? String(parts[1]) : ""
        guard fraction.count <= decimals, parts.count == 1 || ascii(parts[1]) else { return nil }
        var factor: Int64 = 1
        for _ in 0..<decimals { factor *= 10 }
        let padded = fraction + String(repeating: "0", count: decimals - fraction.count)
        // A number too large for 64 bits is no number here (the caller says which range it wants).
        let (scaled, overflow) = whole.multipliedReportingOverflow(by: factor)
        guard !overflow else { return nil }
        let (sum, overflowAgain) = scaled.addingReportingOverflow(Int64(padded) ?? 0)
        return overflowAgain ? nil : sum
    }

    /// `campaigns: [{id, name, from, to, percent, rules: [rule ids]}]`; the rules are checked once
    /// every rule file is read.
    static func parseCampaigns(_ text: String, file: String, program: Program?) throws(RulesDiagnostic) -> [(campaign: Campaign, ruleValues: [YAMLValue])] {
        var root = try YAMLObject(YAMLValue.parse(text, file: file))
        let list = try root.required("campaigns").sequence()
        try root.rejectUnknownKeys()
        var campaigns: [(campaign: Campaign, ruleValues: [YAMLValue])] = []
        for item in list {
            var object = try YAMLObject(item)
            let idValue = try object.required("id")
            let id = try identifier(idValue)
            guard !campaigns.contains(where: { $0.campaign.id == id }) else { throw idValue.error("duplicate campaign id '\(id)'") }
            let name = try localized(object.required("name"))
            let fromValue = try object.required("from"), toValue = try object.required("to")
            let from = try date(fromValue), to = try date(toValue)
            guard from <= to else { throw toValue.error("the campaign ends (\(to)) before it starts (\(from))") }
            try checkWithinProgram("campaign", from: (from, fromValue), to: (to, toValue), program: program)
            let percent = try object.required("percent").int(in: Bounds.campaignPercent)
            let rulesValue = try object.required("rules")
            let ruleValues = try rulesValue.sequence()
            let rules = try ruleValues.map { v throws(RulesDiagnostic) in try identifier(v) }
            guard !rules.isEmpty else { throw rulesValue.error("name at least one rule the campaign multiplies") }
            try object.rejectUnknownKeys()
            campaigns.append((Campaign(id: id, name: name, from: from, to: to, percent: percent, rules: rules), ruleValues))
        }
        return campaigns
    }

    /// `holidays: [{date: 2026-01-01, name: {ja: 元日, en: New Year's Day}}, …]`.
    static func parseCalendar(_ text: String, file: String, known: [Holiday]) throws(RulesDiagnostic) -> [Holiday] {
        var root = try YAMLObject(YAMLValue.parse(text, file: file))
        let list = try root.required("holidays").sequence()
        try root.rejectUnknownKeys()
        var holidays: [Holiday] = []
        for item in list {
            var object = try YAMLObject(item)
            let dateValue = try object.required("date")
            guard let date = LocalDate(try dateValue.string()) else { throw dateValue.error("expected a date as YYYY-MM-DD") }
            guard !(known + holidays).contains(where: { $0.date == date }) else { throw dateValue.error("\(date) is listed twice") }
            holidays.append(Holiday(date: date, name: try localized(object.required("name"))))
            try object.rejectUnknownKeys()
        }
        return holidays
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
