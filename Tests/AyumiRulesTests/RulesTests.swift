import AyumiCore
@testable import AyumiRules
import Foundation
import Testing

/// The tests' own program (`Tests/Fixtures/Rules`), not the city's `Rules/`: a city edits its rules
/// freely, and these tests assert the fixture's ids and numbers.
let rulesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/Rules").path

/// The files of the tests' program, by name.
func demoFiles() throws -> [String: String] {
    var files: [String: String] = [:]
    for name in try FileManager.default.contentsOfDirectory(atPath: rulesDirectory) where name != RulesParser.calendarDirectory {
        files[name] = try String(contentsOfFile: rulesDirectory + "/" + name, encoding: .utf8)
    }
    let calendar = rulesDirectory + "/" + RulesParser.calendarDirectory
    for name in try FileManager.default.contentsOfDirectory(atPath: calendar) {
        files[RulesParser.calendarDirectory + "/" + name] = try String(contentsOfFile: calendar + "/" + name, encoding: .utf8)
    }
    return files
}

/// 2026-11-25 12:00 in Tokyo.
let noon = Date(timeIntervalSince1970: 1_795_575_600)
let today = LocalDate("2026-11-25")!
let resident = Resident(id: "r-1", birthYear: 1950, district: "14101", enrolledOn: LocalDate("2026-01-01")!)

extension Evaluator {
    /// Evaluates as the program's feeds report: taps from the metro feed, visits from the shops'
    /// check-in feed, walks from a step-data gateway.
    func evaluate(_ event: Event, resident: Resident, counters: [CounterKey: Counter], now: Date) -> Evaluation {
        let feed: Submitter = switch event.kind {
        case .walk: .feed("step-gateway")
        case .transitTap: .feed("metro-feed")
        case .visit: .feed("checkin-feed")
        }
        return evaluate(event, from: feed, resident: resident, counters: counters, now: now)
    }
}

func demoEvaluator() throws -> Evaluator { Evaluator(ruleset: try RulesParser.load(directory: rulesDirectory)) }

func awards(_ evaluation: Evaluation) -> [Award] {
    if case .accepted(let awards, _) = evaluation.outcome { return awards }
    return []
}

func walkCounter(_ points: Int64) -> [CounterKey: Counter] {
    [CounterKey(subject: .resident("r-1"), name: "walk-bands", period: today.dayNumber): Counter(points: points, count: points > 0 ? 1 : 0)]
}

@Suite("Rules evaluation")
struct EvaluationTests {
    @Test("walking points follow the 2,000-step bands up to 5 a day", arguments: [
        (Int64(0), Int64(0)), (1_999, 0), (2_000, 1), (9_999, 4), (10_000, 5), (25_000, 5), (100_000, 5),
    ])
    func walkingBands(steps: Int64, points: Int64) throws {
        let evaluation = try demoEvaluator().evaluate(
            Event(id: "w", residentID: "r-1", detail: .walk(date: today, steps: steps, source: "phone")),
            resident: resident, counters: [:], now: noon)
        #expect(awards(evaluation).reduce(0) { $0 + $1.points } == points)
    }

    @Test("a later, larger count for the same day awards only the difference", arguments: [
        (Int64(4), Int64(8_000), Int64(0)), (2, 8_000, 2), (4, 10_500, 1), (5, 30_000, 0), (0, 6_000, 3),
    ])
    func walkDifference(alreadyAwarded: Int64, steps: Int64, expected: Int64) throws {
        let evaluation = try demoEvaluator().evaluate(
            Event(id: "w2", residentID: "r-1", detail: .walk(date: today, steps: steps, source: "watch")),
            resident: resident, counters: walkCounter(alreadyAwarded), now: noon)
        #expect(awards(evaluation).reduce(0) { $0 + $1.points } == expected)
        // The store guards the counter at the day's total reached, not only at the daily cap.
        #expect(evaluation.deltas.map(\.pointsMax) == (expected > 0 ? [alreadyAwarded + expected] : []))
    }

    @Test("transit taps earn 1 point each until 4 a day, split between city and operator")
    func transitCap() throws {
        let evaluator = try demoEvaluator()
        let key = CounterKey(subject: .resident("r-1"), name: "metro-ride", period: today.dayNumber)
        for (count, expected) in [(Int64(0), Int64(1)), (3, 1), (4, 0), (9, 0)] {
            let event = Event(id: "t-\(count)", residentID: "r-1",
                              detail: .transitTap(at: noon.addingTimeInterval(-60), mode: "bus", route: "r10", stop: "s1"))
            let result = awards(evaluator.evaluate(event, resident: resident, counters: [key: Counter(points: count, count: count)], now: noon))
            #expect(result.reduce(0) { $0 + $1.points } == expected)
            for award in result {
                #expect(award.funding.reduce(0) { $0 + $1.points } == award.points)
                #expect(Set(award.funding.map(\.sponsorID)).isSubset(of: ["health-office", "metro-company"]))
            }
        }
    }

    @Test("a ferry tap matches no rule and says so")
    func unmatchedMode() throws {
        let event = Event(id: "t", residentID: "r-1", detail: .transitTap(at: noon, mode: "ferry", route: "f1", stop: "pier"))
        let evaluation = try demoEvaluator().evaluate(event, resident: resident, counters: [:], now: noon)
        guard case .accepted(let awards, let note) = evaluation.outcome else { Issue.record("expected accepted"); return }
        #expect(awards.isEmpty)
        #expect(note == LocalizedText(ja: "条件を満たさないため、ポイントは付与されません（公共交通の利用: 交通手段 bus, tram, train）",
                                      en: "No points: Public transport ride needs a ride by bus, tram, train"))
    }

    @Test("a centre visit earns 2 points once a day from the traders")
    func visit() throws {
        let evaluator = try demoEvaluator()
        let event = Event(id: "v", residentID: "r-1", detail: .visit(at: noon, zone: "centre"))
        let first = awards(evaluator.evaluate(event, resident: resident, counters: [:], now: noon))
        #expect(first.map(\.points) == [2])
        #expect(first.first?.funding == [SponsorShare(sponsorID: "traders", points: 2)])
        #expect(first.first?.reason.en == "Visit to Centre on 2026-11-25")
        #expect(first.first?.reason.ja == "2026-11-25に中心部を訪問")
        let key = CounterKey(subject: .resident("r-1"), name: "centre-visit", period: today.dayNumber)
        #expect(awards(evaluator.evaluate(event, resident: resident, counters: [key: Counter(points: 2, count: 1)], now: noon)).isEmpty)
    }

    @Test("implausible or impossible events are rejected, with the reason in both languages", arguments: [
        ("steps", "1日の歩数が上限（100000歩）を超えています", "More steps than the daily maximum of 100000"),
        ("future", "未来の日付の歩数です", "The day has not begun yet in the program's time zone"),
        ("before", "登録日より前の活動は対象外です", "The activity happened before enrolment"),
        ("zone", "不明なゾーン「harbour」です", "Unknown zone 'harbour'"),
        ("tap", "未来の時刻のイベントです", "The event is stamped in the future"),
        ("old", "31日より前の活動は対象外です", "The activity is more than 31 days old"),
    ])
    func rejections(kind: String, ja: String, en: String) throws {
        let detail: Event.Detail = switch kind {
        case "steps": .walk(date: today, steps: 100_001, source: "phone")
        case "future": .walk(date: today.adding(days: 1), steps: 5_000, source: "phone")
        case "before": .walk(date: LocalDate("2025-12-31")!, steps: 5_000, source: "phone")
        case "zone": .visit(at: noon, zone: "harbour")
        case "old": .visit(at: noon.addingTimeInterval(-32 * 86_400), zone: "centre")
        default: .transitTap(at: noon.addingTimeInterval(3_600), mode: "bus", route: "r", stop: "s")
        }
        let evaluation = try demoEvaluator().evaluate(Event(id: "x", residentID: "r-1", detail: detail),
                                                      resident: resident, counters: [:], now: noon)
        #expect(evaluation.outcome == .rejected(LocalizedText(ja: ja, en: en)))
    }

    @Test("who may report what is program data: a resident's app reports walks, only feeds report taps and visits", arguments: [
        (Event.Kind.walk, Submitter.resident("r-1"), true), (.walk, .feed("step-gateway"), true),
        (.transitTap, .resident("r-1"), false), (.transitTap, .feed("metro-feed"), true), (.transitTap, .feed("checkin-feed"), false),
        (.visit, .resident("r-1"), false), (.visit, .feed("checkin-feed"), true), (.visit, .feed("step-gateway"), false),
    ])
    func submitters(kind: Event.Kind, submitter: Submitter, allowed: Bool) throws {
        let detail: Event.Detail = switch kind {
        case .walk: .walk(date: today, steps: 8_000, source: "phone")
        case .transitTap: .transitTap(at: noon, mode: "bus", route: "r10", stop: "s1")
        case .visit: .visit(at: noon, zone: "centre")
        }
        let evaluation = try demoEvaluator().evaluate(Event(id: "x", residentID: "r-1", detail: detail), from: submitter,
                                                      resident: resident, counters: [:], now: noon)
        let accepted = kind == .transitTap ? "ingest:metro-feed" : "ingest:checkin-feed"
        if allowed {
            #expect(awards(evaluation).count == 1)
        } else {
            #expect(evaluation.outcome == .rejected(LocalizedText(
                ja: "この送信元（\(submitter.source)）からは\(kind.rawValue)イベントを受け付けていません（受付: \(accepted)）",
                en: "\(kind.rawValue) events are not accepted from \(submitter.source) (accepted from: \(accepted))")))
        }
    }

    @Test("ingest admits every feed, and a kind nobody may report is rejected from everyone")
    func anyFeed() throws {
        var files = try demoFiles()
        files["program.yaml"] = files["program.yaml"]!.replacingOccurrences(of: "transit_tap: [ingest:metro-feed]", with: "transit_tap: [ingest]")
            .replacingOccurrences(of: "visit: [ingest:checkin-feed]", with: "visit: []")
        let evaluator = Evaluator(ruleset: try RulesParser.parse(files: files))
        let tap = Event(id: "t", residentID: "r-1", detail: .transitTap(at: noon, mode: "bus", route: "r10", stop: "s1"))
        #expect(awards(evaluator.evaluate(tap, from: .feed("step-gateway"), resident: resident, counters: [:], now: noon)).count == 1)
        let visit = Event(id: "v", residentID: "r-1", detail: .visit(at: noon, zone: "centre"))
        #expect(evaluator.evaluate(visit, from: .feed("checkin-feed"), resident: resident, counters: [:], now: noon).outcome == .rejected(
            LocalizedText(ja: "この送信元（feed:checkin-feed）からはvisitイベントを受け付けていません（受付: -）",
                          en: "visit events are not accepted from feed:checkin-feed (accepted from: -)")))
    }

    @Test("submitters must name every event kind with known entries", arguments: [
        ("visit: [ingest:checkin-feed]", "visit: [ingest:shop checkin]", "expected resident, ingest or ingest:FEED-NAME"),
        ("  visit: [ingest:checkin-feed]\n", "", "missing key 'visit'"),
        ("visit: [ingest:checkin-feed]", "visit: [ingest:metro_feed]",
         "feeds 'metro-feed' and 'metro_feed' differ only in punctuation or case; name them apart"),
    ])
    func submittersChecked(original: String, replacement: String, message: String) throws {
        var files = try demoFiles()
        files["program.yaml"] = files["program.yaml"]!.replacingOccurrences(of: original, with: replacement)
        do {
            _ = try RulesParser.parse(files: files, displayPrefix: "Rules/")
            Issue.record("the check passed")
        } catch {
            #expect(error.diagnostics.count == 1)
            #expect(error.diagnostics.first?.message == message)
        }
    }

    @Test("every award records the ruleset version and a reason in both languages")
    func awardRecordsVersion() throws {
        let evaluator = try demoEvaluator()
        let award = awards(evaluator.evaluate(Event(id: "w", residentID: "r-1", detail: .walk(date: today, steps: 8_000, source: "p")),
                                              resident: resident, counters: [:], now: noon)).first
        #expect(award?.rulesetVersion == evaluator.ruleset.version)
        #expect(award?.reason.en == "8000 steps on 2026-11-25 (1 point per 2,000 steps, up to 5 a day)")
        #expect(award?.reason.ja.contains("8000歩") == true)
    }
}

@Suite("Rules files")
struct RulesFileTests {
    func diagnostics(_ files: [String: String]) -> [String] {
        do {
            _ = try RulesParser.parse(files: files, displayPrefix: "Rules/")
            return []
        } catch {
            return error.diagnostics.map(\.description)
        }
    }

    @Test("the tests' program loads: 3 rules, 3 sponsors, the centre zone")
    func demo() throws {
        let ruleset = try RulesParser.load(directory: rulesDirectory)
        #expect(ruleset.rules.map(\.id).sorted() == ["centre-visit", "metro-ride", "walk-bands"])
        #expect(ruleset.sponsors.count == 3)
        #expect(ruleset.zone("centre") != nil)
        #expect(ruleset.version.count == 12)
    }

    @Test("comments and layout do not change the version; a changed cap does")
    func version() throws {
        var files = try demoFiles()
        let base = try RulesParser.parse(files: files).version
        files["walk.yaml"] = "# a new comment\n" + files["walk.yaml"]!.replacingOccurrences(of: "{per: day, points: 5}", with: "{per: day,   points: 5}")
        #expect(try RulesParser.parse(files: files).version == base)
        files["walk.yaml"] = files["walk.yaml"]!.replacingOccurrences(of: "{per: day,   points: 5}", with: "{per: day, points: 6}")
        #expect(try RulesParser.parse(files: files).version != base)
    }

    @Test("benefits, fares and costs load exactly (0.061 stays 61 thousandths) and are checked at their line and column")
    func assessment() throws {
        var files = try demoFiles()
        let assessment = try #require(try RulesParser.parse(files: files).assessment)
        #expect(assessment.medicalCost.value == ExactDecimal(units: 61, decimals: 3))
        #expect(assessment.medicalCost.value.description == "0.061")
        #expect(assessment.baselineDays == 28 && assessment.ageBandLabels == ["–39", "40–64", "65–74", "75–"])
        #expect(assessment.fare(mode: "tram") == 180 && assessment.fare(mode: "ferry") == 220)
        #expect(assessment.costLayers.map(\.yenPerMonth) == [600_000, 250_000, 120_000])
        #expect(assessment.costLayers[2].paidBy == [.government: 50, .transit: 25, .merchants: 25])

        var broken = files
        broken["costs.yaml"] = files["costs.yaml"]!.replacingOccurrences(of: "{government: 50, transit: 25, merchants: 25}",
                                                                         with: "{government: 50, transit: 25, merchant: 25}")
        #expect(diagnostics(broken).first?.contains("error: unknown payer 'merchant'; did you mean 'merchants'?") == true)
        broken["costs.yaml"] = files["costs.yaml"]!.replacingOccurrences(of: "{government: 80, transit: 20}", with: "{government: 80, transit: 10}")
        let line = broken["costs.yaml"]!.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("transit: 10") }! + 1
        #expect(diagnostics(broken) == ["Rules/costs.yaml:\(line):13: error: the percentages add up to 90, not 100"])
        broken = files
        broken["benefits.yaml"] = files["benefits.yaml"]!.replacingOccurrences(of: "yenPerStepPerDay: 0.061", with: "yenPerStepPerDay: 0.0610001")
        #expect(diagnostics(broken).first?.contains("with at most 6 decimals") == true)
        // Too large for 64 bits: a diagnostic, not a crash.
        broken["benefits.yaml"] = files["benefits.yaml"]!.replacingOccurrences(of: "yenPerStepPerDay: 0.061", with: "yenPerStepPerDay: 1000000000000000000.5")
        #expect(diagnostics(broken).first?.contains("with at most 6 decimals") == true)
        broken["kpis.yaml"] = files["kpis.yaml"]!.replacingOccurrences(of: "target: 12.5,", with: "target: 100000000000000000,")
        #expect(diagnostics(broken).contains { $0.contains("kpis.yaml") && $0.contains("expected a number with at most 2 decimals") })
        broken = files
        broken["benefits.yaml"] = files["benefits.yaml"]!.replacingOccurrences(of: "downtownZones: [centre]", with: "downtownZones: [centr]")
        #expect(diagnostics(broken).first?.contains("error: unknown zone 'centr'; did you mean 'centre'? (see zones.geojson)") == true)
        #expect(assessment.downtownZones == ["centre"])
        broken = files
        broken["fares.yaml"] = nil
        #expect(diagnostics(broken) == ["Rules/fares.yaml:1:1: error: file is missing: the beneficiary report reads benefits.yaml, fares.yaml, costs.yaml together"])
        // Without the three, the program loads and the report has no benefits.
        for name in ["benefits.yaml", "fares.yaml", "costs.yaml"] { files[name] = nil }
        #expect(try RulesParser.parse(files: files).assessment == nil)
    }

    @Test("an unknown sponsor is reported at its line and column")
    func unknownSponsor() throws {
        var files = try demoFiles()
        files["walk.yaml"] = files["walk.yaml"]!.replacingOccurrences(of: "  health-office: 100%", with: "  city-wealth: 100%")
        let line = files["walk.yaml"]!.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("city-wealth") }! + 1
        #expect(diagnostics(files) == ["Rules/walk.yaml:\(line):16: error: unknown sponsor 'city-wealth' (see sponsors.yaml)"])
    }

    @Test("a misspelt key is an error, not a silently missing cap", arguments: [
        ("limits:", "limts:", "unknown key 'limts'; did you mean 'limits'? (expected one of: "),
        ("{per: day, points: 5}", "{per: day, point: 5}", "unknown key 'point'; did you mean 'points'? (expected one of: "),
        ("steps: {min: 2_000}", "step: {min: 2_000}", "unknown condition 'step'; did you mean 'steps'? (expected one of: "),
    ])
    func misspeltKey(original: String, typo: String, message: String) throws {
        var files = try demoFiles()
        files["walk.yaml"] = files["walk.yaml"]!.replacingOccurrences(of: original, with: typo)
        let found = diagnostics(files)
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix("Rules/walk.yaml:") == true)
        #expect(found.first?.contains(message) == true, "\(found)")
    }

    @Test("rules that can never fire load, with a warning at the value that stops them")
    func neverFires() throws {
        var files = try demoFiles()
        files["walk.yaml"] = files["walk.yaml"]!.replacingOccurrences(of: "steps: {min: 2_000}", with: "steps: {min: 150_000}")
        files["transit.yaml"] = files["transit.yaml"]!.replacingOccurrences(of: "mode: [bus, tram, train]", with: "mode: []")
        files["program.yaml"] = files["program.yaml"]!.replacingOccurrences(of: "visit: [ingest:checkin-feed]", with: "visit: []")
        files["transit.yaml"] = files["transit.yaml"]!.replacingOccurrences(of: "conditions:\n", with: "conditions:\n  operator: [keikyu]\n")
        func line(_ file: String, _ text: String) -> Int {
            files[file]!.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains(text) }! + 1
        }
        let (ruleset, warnings) = try RulesParser.check(files: files, displayPrefix: "Rules/")
        #expect(ruleset.rules.count == 3)
        #expect(warnings.map(\.description) == [
            "Rules/centre-visit.yaml:\(line("centre-visit.yaml", "trigger:")):10: warning: this rule can never fire: program.yaml's "
                + "submitters accept visit events from no one",
            "Rules/transit.yaml:\(line("transit.yaml", "operator:")):13: warning: this rule can never fire: the operator is the ingest "
                + "feed a tap comes from, and program.yaml accepts transit_tap only from ingest:metro-feed",
            "Rules/transit.yaml:\(line("transit.yaml", "mode:")):9: warning: this rule can never fire: mode lists nothing",
            "Rules/walk.yaml:\(line("walk.yaml", "steps: {min")):10: warning: this rule can never fire: at least 150,000 steps is above the "
                + "program's stepsPerDayMax (100,000), and longer walks are rejected",
        ])
        #expect(try RulesParser.check(files: try demoFiles(), displayPrefix: "Rules/").warnings.isEmpty)
    }

    @Test("a daily cap lower than the rule's smallest award is an error at the cap, saying what to write")
    func capBelowSmallestAward() throws {
        var files = try demoFiles()
        files["walk.yaml"] = files["walk.yaml"]!.replacingOccurrences(of: "points: 1, round", with: "points: 6, round")
        let line = files["walk.yaml"]!.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("{per: day") }! + 1
        #expect(diagnostics(files) == ["Rules/walk.yaml:\(line):24: error: a limit of 5 points is lower than this rule's smallest award "
                                       + "(6 points), so every award would be cut: write at least 6, or lower the points"])
        files["walk.yaml"] = files["walk.yaml"]!.replacingOccurrences(of: "{per: day, points: 5}", with: "{per: day, points: 6}")
        #expect(diagnostics(files).isEmpty)
    }

    @Test("an unknown key suggests the nearest known one only when it is a likely slip", arguments: [
        ("stepsMn", "stepsMin"), ("STEPSMIN", "stepsMin"), ("pointsPerDayMaxx", "pointsPerDayMax"), ("colour", nil), ("zoneIds", "zones"), ("mode", "modes"),
    ] as [(String, String?)])
    func suggestion(typed: String, expected: String?) {
        let known = ["stepsMin", "modes", "zones", "pointsPerDayMax", "countPerDayMax"]
        #expect(closest(to: typed, among: known) == expected)
    }

    @Test("broken YAML names the file, line and column", arguments: [
        ("id: walk\nevent: [walk\n", "Rules/walk.yaml:3:1: error: invalid YAML"),
        ("id: walk\nevent: run\n", "Rules/walk.yaml:2:8: error: trigger must be one of: walk, transit_tap, visit"),
        ("id: walk\ntrigger: run\n", "Rules/walk.yaml:2:10: error: trigger must be one of: walk, transit_tap, visit"),
        ("id: walk\nevent: walk\n", "Rules/walk.yaml:1:1: error: missing key 'name'"),
    ])
    func brokenYAML(text: String, prefix: String) throws {
        var files = try demoFiles()
        files["walk.yaml"] = text
        let found = diagnostics(files)
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix(prefix) == true, "\(found)")
    }

    @Test("problems in several files are all reported")
    func several() throws {
        var files = try demoFiles()
        files["program.yaml"] = files["program.yaml"]!.replacingOccurrences(of: "Asia/Tokyo", with: "Asia/Tokio")
        files["transit.yaml"] = files["transit.yaml"]!.replacingOccurrences(of: "fixed: 1", with: "fixed: -1")
        let found = diagnostics(files)
        #expect(found.count == 2)
        #expect(found.contains { $0.hasPrefix("Rules/program.yaml:5:11: error: unknown time zone 'Asia/Tokio'") })
        #expect(found.contains { $0.hasPrefix("Rules/transit.yaml:") && $0.hasSuffix("error: expected a whole number from 1 to 10,000") })
    }

    @Test("effectiveFrom: a local date is its midnight in the program's zone; a time carries its offset; else an error at the value",
          arguments: [("2027-04-01", Int64(1_806_505_200)), ("2027-04-01T09:30:00+09:00", 1_806_539_400), ("2027-04-01T00:30:00Z", 1_806_539_400)])
    func effectiveFrom(text: String, seconds: Int64) throws {
        var files = try demoFiles()
        files["program.yaml"]! += "effectiveFrom: \(text)\n"
        #expect(try RulesParser.parse(files: files).program.effectiveFrom == seconds)
    }

    @Test("effectiveFrom that is neither a date nor a time with its offset is an error at the value", arguments: ["2027-4-1", "2027-04-01T09:30:00", "April"])
    func effectiveFromErrors(text: String) throws {
        var files = try demoFiles()
        files["program.yaml"]! += "effectiveFrom: \(text)\n"
        let line = files["program.yaml"]!.split(separator: "\n").count
        #expect(diagnostics(files) == ["Rules/program.yaml:\(line):16: error: expected a date as YYYY-MM-DD (midnight in the program's "
                                       + "time zone) or a time as 2027-04-01T09:00:00+09:00"])
    }

    @Test("a zone ring that does not close is rejected (RFC 7946)")
    func openRing() throws {
        var files = try demoFiles()
        files["zones.geojson"] = files["zones.geojson"]!.replacingOccurrences(of: "[139.6310, 35.4500], [139.6310, 35.4420]", with: "[139.6310, 35.4500]")
        #expect(diagnostics(files).first?.contains("linear ring") == true)
    }

    @Test("merchants must sit in a known zone")
    func merchants() throws {
        let ruleset = try RulesParser.load(directory: rulesDirectory)
        let text = "merchants:\n  - id: m-1\n    name: {ja: 店, en: Shop}\n    category: cafe\n    zone: harbour\n    settlementAccount: S-1\n"
        let failure = try #require(throws: RulesCheckFailure.self) {
            try MerchantsParser.parse(text, file: "Merchants/merchants.yaml", ruleset: ruleset)
        }
        #expect(failure.description == "Merchants/merchants.yaml:5:11: error: unknown zone 'harbour' (see zones.geojson)")
    }

    @Test("a merchant is active unless marked active: false")
    func inactiveMerchant() throws {
        let ruleset = try RulesParser.load(directory: rulesDirectory)
        let text = "merchants:\n  - id: m-1\n    name: {ja: 店, en: Shop}\n    category: cafe\n    zone: centre\n    settlementAccount: S-1\n"
            + "  - id: m-2\n    name: {ja: 店, en: Shop}\n    category: cafe\n    zone: centre\n    settlementAccount: S-2\n    active: false\n"
        let merchants = try MerchantsParser.parse(text, file: "Merchants/merchants.yaml", ruleset: ruleset)
        #expect(merchants.map(\.active) == [true, false])
        let broken = text.replacingOccurrences(of: "active: false", with: "active: no")
        let failure = try #require(throws: RulesCheckFailure.self) {
            try MerchantsParser.parse(broken, file: "Merchants/merchants.yaml", ruleset: ruleset)
        }
        #expect(failure.description == "Merchants/merchants.yaml:12:13: error: expected true or false")
    }
}

@Suite("Bounds of rule numbers")
struct BoundsTests {
    func diagnostics(_ files: [String: String]) -> [String] {
        do {
            _ = try RulesParser.parse(files: files, displayPrefix: "Rules/")
            return []
        } catch {
            return error.diagnostics.map(\.description)
        }
    }

    func line(of text: String, in file: String) -> Int {
        file.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains(text) }! + 1
    }

    @Test("every number one above its bound fails the check at its line and column", arguments: [
        ("program.yaml", "yenPerPoint: 1", "yenPerPoint: 1_001", "1 to 1,000"),
        ("program.yaml", "pointExpiryMonths: 12", "pointExpiryMonths: 121", "1 to 120"),
        ("program.yaml", "stepsPerDayMax: 100_000", "stepsPerDayMax: 1_000_001", "1 to 1,000,000"),
        ("program.yaml", "eventAgeDaysMax: 31", "eventAgeDaysMax: 367", "1 to 366"),
        ("program.yaml", "redemptionCodeTTLSeconds: 120", "redemptionCodeTTLSeconds: 3601", "30 to 3,600"),
        ("program.yaml", "reportGroupSizeMin: 10", "reportGroupSizeMin: 1", "2 to 1,000"),
        ("transit.yaml", "fixed: 1", "fixed: 10001", "1 to 10,000"),
        ("transit.yaml", "{per: day, count: 4}", "{per: day, count: 1000000001}", "1 to 1,000,000,000"),
        ("walk.yaml", "{per: day, points: 5}", "{per: day, points: 1000000001}", "1 to 1,000,000,000"),
        ("walk.yaml", "points: 1, round", "points: 10001, round", "1 to 10,000"),
        ("walk.yaml", "steps: {min: 2_000}", "steps: {min: 9223372036854775807}", "1 to 1,000,000"),
    ])
    func aboveBound(file: String, original: String, replacement: String, range: String) throws {
        var files = try demoFiles()
        files[file] = files[file]!.replacingOccurrences(of: original, with: replacement)
        let text = files[file]!.split(separator: "\n").first { $0.contains(replacement) }!
        // The value is the first number of the replacement that the original did not have.
        let numbers = { (text: String) in text.split(whereSeparator: { !$0.isNumber && $0 != "_" }) }
        let number = zip(numbers(replacement), numbers(original)).first { $0 != $1 }!.0
        let column = text.range(of: number)!.lowerBound.utf16Offset(in: text) + 1
        #expect(diagnostics(files) == ["Rules/\(file):\(line(of: replacement, in: files[file]!)):\(column): error: expected a whole number from \(range)"])
    }

    @Test("a walk rule that could award more than 100,000 points for one walk fails the check")
    func uncappedBand() throws {
        var files = try demoFiles()
        files["walk.yaml"] = files["walk.yaml"]!.replacingOccurrences(of: "limits:\n  - {per: day, points: 5}\n", with: "")
            .replacingOccurrences(of: "per: {steps: 2_000, points: 1, round: down}", with: "per: {steps: 1, points: 2, round: down}")
        #expect(diagnostics(files) == ["Rules/walk.yaml:\(line(of: "per: {", in: files["walk.yaml"]!)):3: error: one event could earn 200,000 "
                                       + "points under this rule (a walk of 100,000 steps); at most 100,000: lower the points or add a limit in points"])
    }

    @Test("the split check uses overflow-checked arithmetic")
    func splitOverflow() {
        #expect(splitFits(pointsMax: Bounds.pointsPerAwardMax, weights: Array(repeating: Bounds.fundingWeight.upperBound, count: Bounds.sponsorsPerRuleMax)))
        #expect(!splitFits(pointsMax: Int64.max / 2, weights: [3]))
        #expect(!splitFits(pointsMax: 1, weights: [Int64.max, 1]))
        #expect(!splitFits(pointsMax: 1, weights: [0]))
    }
}
